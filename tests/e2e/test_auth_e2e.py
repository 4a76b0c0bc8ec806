"""Auth through the real gateway, services and broker."""

import uuid

import pytest

from tests.e2e.conftest import DEMO, Api, login

pytestmark = pytest.mark.e2e


def test_login_returns_tokens_and_the_user(stack):
    data = login(stack.base_url, *DEMO["admin"])
    assert data["user"]["role"] == "admin"
    assert data["access_token"] and data["refresh_token"]
    assert "password_hash" not in data["user"]


def test_me_answers_the_signed_in_user_with_a_correlation_id(stack, as_role):
    response = as_role("ana").get("/api/v1/auth/me", headers={"X-Correlation-ID": "e2e-corr-1"})
    assert response.status_code == 200
    assert response.json()["data"]["email"] == "ana@example.com"
    assert response.headers["X-Correlation-ID"] == "e2e-corr-1"


def test_wrong_password_and_unknown_email_answer_the_same_401(anon):
    wrong = anon.post("/api/v1/auth/login", json={"email": "admin@example.com", "password": "nope-1234"})
    unknown = anon.post("/api/v1/auth/login", json={"email": "ghost@example.com", "password": "nope-1234"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["success"] is False


def test_register_then_duplicate_is_409(anon):
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "name": "New Customer", "password": "str0ng-pass"}
    first = anon.post("/api/v1/auth/register", json=body)
    again = anon.post("/api/v1/auth/register", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["data"]["user"]["role"] == "customer"
    assert again.status_code == 409
    assert again.json()["success"] is False


def test_refresh_rotates_and_reuse_revokes_the_family(stack, anon):
    tokens = login(stack.base_url, *DEMO["maria"])
    rotated = anon.post("/api/v1/auth/refresh-token", json={"refresh_token": tokens["refresh_token"]})
    reused = anon.post("/api/v1/auth/refresh-token", json={"refresh_token": tokens["refresh_token"]})
    after_reuse = anon.post("/api/v1/auth/refresh-token", json={"refresh_token": rotated.json()["data"]["refresh_token"]})
    assert rotated.status_code == 200
    assert reused.status_code == 401
    assert after_reuse.status_code == 401


def test_logout_revokes_the_refresh_token(stack):
    tokens = login(stack.base_url, *DEMO["carlos"])
    api = Api(stack.base_url, tokens["access_token"])
    assert api.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 200
    refreshed = Api(stack.base_url).post("/api/v1/auth/refresh-token", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401


def test_change_password_kills_refresh_tokens_and_new_password_works(stack, anon):
    email = f"pw-{uuid.uuid4().hex[:8]}@example.com"
    anon.post("/api/v1/auth/register", json={"email": email, "name": "Pw", "password": "first-pass1"})
    tokens = login(stack.base_url, email, "first-pass1")
    api = Api(stack.base_url, tokens["access_token"])
    changed = api.put("/api/v1/auth/change-password",
                      json={"current_password": "first-pass1", "new_password": "second-pass2"})
    assert changed.status_code == 200, changed.text
    assert anon.post("/api/v1/auth/refresh-token", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert login(stack.base_url, email, "second-pass2")["user"]["email"] == email


def test_customer_on_an_admin_route_is_403(as_role):
    response = as_role("ana").get("/api/v1/users")
    assert response.status_code == 403
    assert response.json()["success"] is False


def test_garbled_token_is_401(stack):
    response = Api(stack.base_url, "not.a.jwt").get("/api/v1/auth/me")
    assert response.status_code == 401


def test_malformed_json_is_400_and_changes_nothing(anon):
    response = anon.post("/api/v1/auth/register", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["success"] is False
