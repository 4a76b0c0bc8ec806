import pytest
from nameko.exceptions import RemoteError

from helpdesk_contracts.errors import EmailAlreadyRegistered, InvalidCredentials, RefreshTokenReused
from helpdesk_contracts.events import validate_envelope

pytestmark = pytest.mark.integration


def test_register_customer_emits_user_created(users_rpc, event_probe):
    probe = event_probe("users", "user.created")
    user = users_rpc.register_customer({"email": "Ana@Example.com", "name": "Ana", "password": "s3cret-pass"})
    event = probe.wait("user.created", where=lambda e: e["data"]["user"]["id"] == user["id"])
    assert user["email"] == "ana@example.com"
    assert event["data"]["user"]["role"] == "customer"
    validate_envelope({k: v for k, v in event.items() if k != "_headers"})


def test_authenticate_rejects_wrong_password_like_unknown_email(users_rpc):
    users_rpc.register_customer({"email": "bob@example.com", "name": "Bob", "password": "s3cret-pass"})
    with pytest.raises(RemoteError) as wrong:
        users_rpc.authenticate("bob@example.com", "nope-nope-1")
    with pytest.raises(RemoteError) as unknown:
        users_rpc.authenticate("nobody@example.com", "nope-nope-1")
    assert wrong.value.exc_type == unknown.value.exc_type == InvalidCredentials.__name__
    assert str(wrong.value) == str(unknown.value)


def test_duplicate_email_is_a_conflict(users_rpc):
    users_rpc.register_customer({"email": "dup@example.com", "name": "Dup", "password": "s3cret-pass"})
    with pytest.raises(RemoteError) as exc:
        users_rpc.register_customer({"email": "DUP@example.com", "name": "Dup 2", "password": "s3cret-pass"})
    assert exc.value.exc_type == EmailAlreadyRegistered.__name__


def test_reused_refresh_token_revokes_the_family(users_rpc):
    user = users_rpc.register_customer({"email": "rot@example.com", "name": "Rot", "password": "s3cret-pass"})
    first = users_rpc.start_session(user["id"])
    second = users_rpc.rotate_refresh_token(first["jti"])
    with pytest.raises(RemoteError) as exc:
        users_rpc.rotate_refresh_token(first["jti"])
    assert exc.value.exc_type == RefreshTokenReused.__name__
    with pytest.raises(RemoteError):
        users_rpc.rotate_refresh_token(second["jti"])
