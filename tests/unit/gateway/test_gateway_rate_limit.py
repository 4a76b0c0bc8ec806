"""Rate limits on the password-guessing and e-mail-sending endpoints, per address, per account or both."""

from __future__ import annotations

import pytest

from gateway.ratelimit import account_key, normalize_account, rate_limited

LOGIN = "/api/v1/auth/login"
WRONG = {"email": "agent@example.com", "password": "Wrong-pass1"}
PASSWORD = "Corr3ct-horse"  # the fixtures' accounts' password


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.mark.parametrize("spelling", ["agent@example.com", "  Agent@Example.COM ", "AGENT@EXAMPLE.COM\t", "ａｇｅｎｔ@example.com"])
def test_account_key_ignores_case_width_and_surrounding_space(spelling):
    assert account_key(spelling) == account_key("agent@example.com")


def test_account_key_tells_accounts_apart_and_hides_the_address():
    assert account_key("agent@example.com") != account_key("admin@example.com")
    assert "example" not in account_key("agent@example.com")


def test_normalize_account_of_a_non_string_is_empty():
    assert normalize_account(None) == normalize_account(42) == ""


def test_rate_limited_refuses_an_unknown_key():
    with pytest.raises(ValueError, match="unknown rate-limit key"):
        rate_limited("LOGIN_RATE_LIMIT", per="planet")


def test_login_over_the_limit_is_429_with_retry_after(make_app):
    client = make_app(LOGIN_RATE_LIMIT="2/minute").test_client()
    for _ in range(2):
        assert client.post(LOGIN, json=WRONG).status_code == 401

    response = client.post(LOGIN, json=WRONG)

    assert response.status_code == 429
    assert response.get_json()["success"] is False
    assert 1 <= int(response.headers["Retry-After"]) <= 61


def test_login_limit_counts_each_client_ip_apart(make_app):
    client = make_app(LOGIN_RATE_LIMIT="1/minute").test_client()
    client.post(LOGIN, json=WRONG, environ_base={"REMOTE_ADDR": "198.51.100.1"})

    response = client.post(LOGIN, json=WRONG, environ_base={"REMOTE_ADDR": "198.51.100.2"})

    assert response.status_code == 401


def test_login_limit_can_be_raised_by_config(make_app):
    client = make_app(LOGIN_RATE_LIMIT="50/minute").test_client()

    statuses = {client.post(LOGIN, json=WRONG).status_code for _ in range(20)}

    assert statuses == {401}


def test_register_has_its_own_limit(make_app):
    client = make_app(REGISTER_RATE_LIMIT="1/minute").test_client()
    payload = {"email": "a@example.com", "name": "A", "password": "S3cure-pass"}
    client.post("/api/v1/auth/register", json=payload)

    response = client.post("/api/v1/auth/register", json={**payload, "email": "b@example.com"})

    assert response.status_code == 429


def test_forgot_password_is_limited(make_app):
    client = make_app(PASSWORD_RESET_RATE_LIMIT="1/minute").test_client()
    client.post("/api/v1/auth/forgot-password", json={"email": "agent@example.com"})

    response = client.post("/api/v1/auth/forgot-password", json={"email": "agent@example.com"})

    assert response.status_code == 429


def test_unlimited_routes_ignore_the_login_limit(make_app):
    app = make_app(LOGIN_RATE_LIMIT="1/minute")
    client = app.test_client()
    token = app.extensions["gateway.tokens"].issue_access_token(
        {"id": "00000000-0000-0000-0000-000000000001", "role": "agent", "email": "x@example.com"}
    )

    statuses = {
        client.get("/api/v1/departments", headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(5)
    }

    assert statuses == {200}


def test_cors_preflight_does_not_count_against_the_login_limit(make_app):
    client = make_app(LOGIN_RATE_LIMIT="1/minute", CORS_ORIGINS="https://app.example.com").test_client()
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    for _ in range(3):
        client.options(LOGIN, headers=preflight)

    response = client.post(LOGIN, json=WRONG)

    assert response.status_code == 401


def test_login_limit_per_account_ignores_case_games(make_app):
    client = make_app(LOGIN_RATE_LIMIT="2/minute").test_client()
    client.post(LOGIN, json=WRONG)
    client.post(LOGIN, json={**WRONG, "email": " AGENT@example.com"})

    response = client.post(LOGIN, json={**WRONG, "email": "Agent@Example.Com"})

    assert response.status_code == 429


def test_locked_account_does_not_lock_other_accounts_on_the_same_address(make_app):
    client = make_app(LOGIN_RATE_LIMIT="2/minute").test_client()
    for _ in range(2):
        client.post(LOGIN, json=WRONG)
    assert client.post(LOGIN, json=WRONG).status_code == 429

    response = client.post(LOGIN, json={"email": "admin@example.com", "password": PASSWORD})

    assert response.status_code == 200


def test_successful_logins_do_not_count_against_the_account(make_app):
    client = make_app(LOGIN_RATE_LIMIT="2/minute").test_client()

    statuses = [client.post(LOGIN, json={"email": "agent@example.com", "password": PASSWORD}).status_code
                for _ in range(4)]

    assert statuses == [200] * 4


def test_login_account_limit_holds_across_addresses(make_app):
    client = make_app(LOGIN_RATE_LIMIT="100/minute", LOGIN_ACCOUNT_RATE_LIMIT="3/hour").test_client()
    for n in range(3):
        assert client.post(LOGIN, json=WRONG, **_from(f"198.51.100.{n}")).status_code == 401

    response = client.post(LOGIN, json=WRONG, **_from("203.0.113.9"))

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 60  # the hourly window, not a minute's


def test_login_address_limit_counts_every_attempt_on_any_account(make_app):
    client = make_app(LOGIN_ADDRESS_RATE_LIMIT="3/minute").test_client()
    for email in ("agent@example.com", "admin@example.com", "customer@example.com"):
        assert client.post(LOGIN, json={"email": email, "password": PASSWORD}).status_code == 200

    response = client.post(LOGIN, json={"email": "supervisor@example.com", "password": PASSWORD})
    elsewhere = client.post(LOGIN, json={"email": "supervisor@example.com", "password": PASSWORD}, **_from("198.51.100.7"))

    assert response.status_code == 429
    assert response.get_json()["success"] is False
    assert response.headers["Retry-After"]
    assert elsewhere.status_code == 200


def test_reset_password_is_limited_per_address(make_app):
    client = make_app(PASSWORD_RESET_RATE_LIMIT="1/minute").test_client()
    payload = {"token": "x" * 43, "new_password": "N3w-secret-pass"}
    client.post("/api/v1/auth/reset-password", json=payload)

    limited = client.post("/api/v1/auth/reset-password", json=payload)
    elsewhere = client.post("/api/v1/auth/reset-password", json=payload, **_from("198.51.100.8"))

    assert limited.status_code == 429
    assert limited.headers["Retry-After"]
    assert elsewhere.status_code != 429
