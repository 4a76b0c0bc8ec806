"""Rate limits on the password-guessing and e-mail-sending endpoints, per client IP."""

from __future__ import annotations

LOGIN = "/api/v1/auth/login"
WRONG = {"email": "agent@example.com", "password": "Wrong-pass1"}


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
