"""``/api/v1/auth``: sign-up, sign-in, rotation, sign-out, password flows."""

from __future__ import annotations

import jwt
import pytest

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh-token"
LOGOUT = "/api/v1/auth/logout"
REGISTER = "/api/v1/auth/register"


def _decode(app, token):
    return jwt.decode(
        token,
        app.config["JWT_SECRET"],
        algorithms=["HS256"],
        audience=app.config["JWT_AUDIENCE"],
        issuer=app.config["JWT_ISSUER"],
    )


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_login_answers_tokens_and_user_when_credentials_match(client, password):
    response = client.post(LOGIN, json={"email": "agent@example.com", "password": password})

    body = response.get_json()
    assert response.status_code == 200
    assert body["success"] is True
    assert body["data"]["token_type"] == "Bearer"
    assert body["data"]["expires_in"] == 900
    assert body["data"]["access_token"] and body["data"]["refresh_token"]
    assert body["data"]["user"]["email"] == "agent@example.com"


def test_login_answers_the_same_401_when_password_wrong_or_email_unknown(client):
    wrong_password = client.post(LOGIN, json={"email": "agent@example.com", "password": "Wrong-pass1"})
    unknown_email = client.post(LOGIN, json={"email": "ghost@example.com", "password": "Wrong-pass1"})

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.get_json() == unknown_email.get_json()
    assert wrong_password.get_json()["success"] is False


def test_login_starts_a_session_in_the_users_service(client, fake_rpc, password):
    client.post(LOGIN, json={"email": "agent@example.com", "password": password})

    assert fake_rpc.methods_called() == ["authenticate", "start_session"]


def test_access_token_carries_role_and_email_for_fifteen_minutes(app, login):
    claims = _decode(app, login("supervisor@example.com")["access_token"])

    assert claims["typ"] == "access"
    assert claims["role"] == "supervisor"
    assert claims["email"] == "supervisor@example.com"
    assert claims["exp"] - claims["iat"] == pytest.approx(15 * 60, abs=1)  # iat is fractional, exp whole seconds


def test_refresh_token_names_the_session_started_by_the_users_service(app, login, users_service):
    claims = _decode(app, login("agent@example.com")["refresh_token"])

    session = users_service.refresh_tokens[claims["jti"]]
    assert claims["typ"] == "refresh"
    assert claims["fam"] == session["family_id"]
    assert 7 * 86400 - 60 <= claims["exp"] - claims["iat"] <= 7 * 86400 + 60


def test_refresh_token_answers_a_new_pair_that_works(client, login):
    first = login("agent@example.com")

    response = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    pair = response.get_json()["data"]
    assert response.status_code == 200
    assert pair["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/auth/me", headers=_bearer(pair["access_token"])).status_code == 200


def test_refresh_token_reuse_is_rejected_with_401(client, login):
    first = login("agent@example.com")
    client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    reused = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    assert reused.status_code == 401
    assert reused.get_json()["success"] is False


def test_refresh_token_reuse_revokes_the_tokens_issued_since(client, login):
    first = login("agent@example.com")
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]}).get_json()["data"]
    client.post(REFRESH, json={"refresh_token": first["refresh_token"]})  # replayed by an attacker

    response = client.post(REFRESH, json={"refresh_token": second["refresh_token"]})

    assert response.status_code == 401


def test_refresh_token_endpoint_rejects_an_access_token(client, login):
    tokens = login("agent@example.com")

    response = client.post(REFRESH, json={"refresh_token": tokens["access_token"]})

    assert response.status_code == 401


def test_logout_revokes_the_session_of_the_refresh_token(client, login):
    tokens = login("agent@example.com")

    logout = client.post(
        LOGOUT, json={"refresh_token": tokens["refresh_token"]}, headers=_bearer(tokens["access_token"])
    )
    refresh = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})

    assert logout.status_code == 200
    assert refresh.status_code == 401


def test_logout_without_an_access_token_is_401(client, login):
    tokens = login("agent@example.com")

    response = client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 401


def test_logout_with_another_users_refresh_token_is_403(client, login):
    mine = login("agent@example.com")
    theirs = login("customer@example.com")

    response = client.post(
        LOGOUT, json={"refresh_token": theirs["refresh_token"]}, headers=_bearer(mine["access_token"])
    )

    assert response.status_code == 403
    assert client.post(REFRESH, json={"refresh_token": theirs["refresh_token"]}).status_code == 200


def test_me_answers_the_signed_in_user(client, auth_headers, accounts):
    response = client.get("/api/v1/auth/me", headers=auth_headers("customer"))

    assert response.status_code == 200
    assert response.get_json()["data"]["id"] == accounts["customer"]["id"]


def test_register_creates_a_signed_in_customer(client, app):
    response = client.post(REGISTER, json={"email": "new@example.com", "name": "New Person", "password": "S3cure-pass"})

    data = response.get_json()["data"]
    assert response.status_code == 201
    assert data["user"]["role"] == "customer"
    assert _decode(app, data["access_token"])["sub"] == data["user"]["id"]


def test_register_rejects_a_duplicate_email_with_409(client):
    response = client.post(REGISTER, json={"email": "Agent@Example.com", "name": "Copycat", "password": "S3cure-pass"})

    assert response.status_code == 409
    assert response.get_json()["message"] == "This e-mail address is already registered."


def test_register_maps_a_weak_password_to_422_with_field_errors(client):
    response = client.post(REGISTER, json={"email": "weak@example.com", "name": "Weak", "password": "password"})

    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]


def test_register_rejects_a_role_field_with_422(client, fake_rpc):
    response = client.post(
        REGISTER, json={"email": "sneaky@example.com", "name": "Sneaky", "password": "S3cure-pass", "role": "admin"}
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"role": ["Unknown field."]}
    assert fake_rpc.calls == []


def test_update_profile_changes_the_name(client, auth_headers):
    response = client.put("/api/v1/auth/update-profile", json={"name": "  Renamed  "}, headers=auth_headers("agent"))

    assert response.status_code == 200
    assert response.get_json()["data"]["name"] == "Renamed"


def test_change_password_with_a_wrong_current_password_is_422(client, auth_headers):
    response = client.put(
        "/api/v1/auth/change-password",
        json={"current_password": "Not-mine-1", "new_password": "Brand-new-1"},
        headers=auth_headers("agent"),
    )

    assert response.status_code == 422
    assert "current_password" in response.get_json()["errors"]


def test_change_password_signs_out_every_session(client, login, password):
    tokens = login("agent@example.com")

    changed = client.put(
        "/api/v1/auth/change-password",
        json={"current_password": password, "new_password": "Brand-new-1"},
        headers=_bearer(tokens["access_token"]),
    )

    assert changed.status_code == 200
    assert client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_forgot_password_answers_alike_for_known_and_unknown_emails(client):
    known = client.post("/api/v1/auth/forgot-password", json={"email": "agent@example.com"})
    unknown = client.post("/api/v1/auth/forgot-password", json={"email": "ghost@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert known.get_json() == unknown.get_json()


def test_forgot_password_never_answers_the_reset_token(client, users_service):
    response = client.post("/api/v1/auth/forgot-password", json={"email": "agent@example.com"})

    (token,) = users_service.reset_tokens
    assert token not in response.get_data(as_text=True)


def test_reset_password_lets_the_user_sign_in_with_the_new_password(client, users_service):
    client.post("/api/v1/auth/forgot-password", json={"email": "agent@example.com"})
    (token,) = users_service.reset_tokens

    reset = client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "Fresh-start-9"})
    login = client.post(LOGIN, json={"email": "agent@example.com", "password": "Fresh-start-9"})

    assert reset.status_code == 200
    assert login.status_code == 200


def test_reset_password_with_an_unknown_token_is_422(client):
    response = client.post(
        "/api/v1/auth/reset-password", json={"token": "not-a-token", "new_password": "Fresh-start-9"}
    )

    assert response.status_code == 422
    assert response.get_json()["message"] == "The password reset token is invalid, used or expired."
