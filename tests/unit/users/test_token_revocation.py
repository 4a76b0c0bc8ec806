"""Revoking a user's access tokens (``tokens_valid_after``), their catch-up list, and a session's absolute lifetime."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.users import handlers
from services.users.domain.errors import InvalidRefreshToken, ValidationFailed

PASSWORD = "s3cret-pass"
NEW_PASSWORD = "n3w-secret-pass"
DAYS_30 = timedelta(days=30)


def _revocations(run, since):
    return {item["user_id"]: item["tokens_valid_after"] for item in run(handlers.list_revocations, since.isoformat())}


def test_deactivate_user_revokes_tokens_and_says_so_in_the_event(create_user, run, clock, outbox):
    user = create_user()
    clock.advance(seconds=1.25)

    view = run(handlers.deactivate_user, user["id"])

    assert view["tokens_valid_after"] == clock.now().isoformat()
    assert outbox("user.deactivated")[-1]["data"]["user"]["tokens_valid_after"] == clock.now().isoformat()
    assert _revocations(run, clock.now() - timedelta(minutes=15)) == {user["id"]: clock.now().isoformat()}


def test_change_role_revokes_tokens_and_every_session(create_user, run, clock, outbox):
    user = create_user(role="agent")
    session = run(handlers.start_session, user["id"])
    clock.advance(seconds=2)

    run(handlers.change_role, user["id"], "customer")

    assert outbox("user.updated")[-1]["data"]["user"]["tokens_valid_after"] == clock.now().isoformat()
    assert user["id"] in _revocations(run, clock.now())
    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, session["jti"])


def test_change_password_revokes_tokens(create_user, run, clock, outbox):
    user = create_user()
    clock.advance(seconds=3)

    run(handlers.change_password, user["id"], PASSWORD, NEW_PASSWORD)

    assert outbox("user.password_changed")[-1]["data"]["tokens_valid_after"] == clock.now().isoformat()
    assert user["id"] in _revocations(run, clock.now())


def test_department_change_revokes_tokens_but_keeps_sessions(create_user, create_department, run, clock):
    user = create_user(role="agent")
    department = create_department()
    session = run(handlers.start_session, user["id"])
    clock.advance(seconds=1)

    view = run(handlers.update_user, user["id"], {"department_id": department["id"]})

    assert view["tokens_valid_after"] == clock.now().isoformat()
    # the next refresh hands out a token with the new department
    assert run(handlers.rotate_refresh_token, session["jti"])["user"]["department_id"] == department["id"]


def test_name_change_leaves_tokens_alone(create_user, run, clock):
    user = create_user()

    view = run(handlers.update_user, user["id"], {"name": "Other Name"})

    assert view["tokens_valid_after"] is None
    assert _revocations(run, clock.now() - timedelta(days=1)) == {}


def test_list_revocations_leaves_out_older_ones(create_user, run, clock):
    old, recent = create_user(), create_user()
    run(handlers.deactivate_user, old["id"])
    clock.advance(minutes=20)
    run(handlers.deactivate_user, recent["id"])

    assert set(_revocations(run, clock.now() - timedelta(minutes=15))) == {recent["id"]}


@pytest.mark.parametrize("since", ["yesterday", "2026-01-05T09:00:00", None, 12])
def test_list_revocations_refuses_a_moment_that_is_not_an_aware_timestamp(run, since):
    with pytest.raises(ValidationFailed):
        run(handlers.list_revocations, since)


def test_refresh_family_ends_at_its_absolute_lifetime_however_often_it_rotates(create_user, run, clock):
    session = run(handlers.start_session, create_user()["id"], family_max_age=DAYS_30)
    for _ in range(4):  # 24 days of rotating every 6 days, each link well within its own 7 days
        clock.advance(days=6)
        session = run(handlers.rotate_refresh_token, session["jti"], family_max_age=DAYS_30)
    assert session["expires_at"] == (clock.now() - timedelta(days=24) + DAYS_30).isoformat()  # capped, not 7 days
    clock.advance(days=5, hours=23)
    session = run(handlers.rotate_refresh_token, session["jti"], family_max_age=DAYS_30)
    clock.advance(hours=1)  # 30 days after the sign-in

    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, session["jti"], family_max_age=DAYS_30)


def test_refresh_family_past_a_lowered_lifetime_is_revoked(create_user, run, clock):
    user = create_user()
    session = run(handlers.start_session, user["id"])
    other = run(handlers.start_session, user["id"])
    clock.advance(days=2)

    with pytest.raises(InvalidRefreshToken):
        run(handlers.rotate_refresh_token, session["jti"], family_max_age=timedelta(days=1))
    assert run(handlers.rotate_refresh_token, other["jti"])["family_id"] == other["family_id"]
