"""Access tokens on protected routes: anything but a valid, unexpired HS256 access token is a 401."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

ME = "/api/v1/auth/me"


@pytest.fixture
def claims(app, accounts):
    """Valid access-token claims for the seeded agent."""
    now = int(time.time())
    return {
        "iss": app.config["JWT_ISSUER"],
        "aud": app.config["JWT_AUDIENCE"],
        "sub": accounts["agent"]["id"],
        "typ": "access",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 900,
        "role": "agent",
        "email": "agent@example.com",
    }


def _sign(app, claims, *, algorithm="HS256", secret=None):
    return jwt.encode(claims, secret or app.config["JWT_SECRET"], algorithm=algorithm)


def _get_me(client, token):
    return client.get(ME, headers={"Authorization": f"Bearer {token}"})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_token_is_accepted(client, app, claims):
    assert _get_me(client, _sign(app, claims)).status_code == 200


def test_protected_route_without_a_token_is_401_with_www_authenticate(client):
    response = client.get(ME)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["success"] is False


def test_protected_route_with_a_basic_authorization_is_401(client):
    response = client.get(ME, headers={"Authorization": "Basic YWdlbnQ6c2VjcmV0"})

    assert response.status_code == 401


def test_expired_token_is_401(client, app, claims):
    claims.update(iat=int(time.time()) - 1000, exp=int(time.time()) - 10)

    response = _get_me(client, _sign(app, claims))

    assert response.status_code == 401
    assert response.get_json()["message"] == "The token has expired."


def test_garbled_token_is_401(client):
    response = _get_me(client, "eyJhbGciOiJIUzI1NiJ9.not-json.garbage")

    assert response.status_code == 401
    assert response.get_json()["message"] == "The token is invalid."


def test_alg_none_token_is_401(client, claims):
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."

    assert _get_me(client, unsigned).status_code == 401


def test_token_signed_with_another_algorithm_is_401(client, app, claims):
    assert _get_me(client, _sign(app, claims, algorithm="HS512")).status_code == 401


def test_token_signed_with_another_secret_is_401(client, app, claims):
    forged = _sign(app, claims, secret="someone-elses-secret-of-at-least-32-bytes")

    assert _get_me(client, forged).status_code == 401


def test_refresh_token_used_as_access_token_is_401(client, login):
    tokens = login("agent@example.com")

    assert _get_me(client, tokens["refresh_token"]).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"role": "root"},
    ],
    ids=["wrong-issuer", "wrong-audience", "unknown-role"],
)
def test_token_with_a_foreign_claim_is_401(client, app, claims, change):
    claims.update(change)

    assert _get_me(client, _sign(app, claims)).status_code == 401


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sub", "typ", "jti"])
def test_token_missing_a_required_claim_is_401(client, app, claims, missing):
    del claims[missing]

    assert _get_me(client, _sign(app, claims)).status_code == 401


def test_customer_token_on_an_admin_route_is_403(client, auth_headers):
    response = client.get("/api/v1/users", headers=auth_headers("customer"))

    assert response.status_code == 403
    assert response.get_json() == {
        "success": False,
        "message": "You do not have permission to do this.",
        "errors": {},
    }


def test_unauthenticated_request_is_401_before_its_body_is_validated(client):
    response = client.post("/api/v1/users", json={"unexpected": True})

    assert response.status_code == 401


def test_a_token_accepted_before_is_refused_once_it_expires(app, client, claims, monkeypatch):
    token = _sign(app, claims)
    assert _get_me(client, token).status_code == 200  # verified once, then remembered

    later = claims["exp"] + 1
    monkeypatch.setattr("gateway.auth.time.time", lambda: later)

    answer = _get_me(client, token)
    assert answer.status_code == 401
    assert "expired" in answer.get_json()["message"]


def test_a_remembered_token_vouches_for_no_altered_copy_of_it(app, client, claims):
    token = _sign(app, claims)
    assert _get_me(client, token).status_code == 200
    header, payload, signature = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode()).rstrip(b"=").decode()

    assert _get_me(client, f"{header}.{forged}.{signature}").status_code == 401
