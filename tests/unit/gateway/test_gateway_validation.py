"""Request validation: malformed, mistyped, incomplete or oversized input never reaches a service."""

from __future__ import annotations

import pytest

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"


def _register(client, **overrides):
    payload = {"email": "valid@example.com", "name": "Valid Name", "password": "S3cure-pass"}
    payload.update(overrides)
    return client.post(REGISTER, json=payload)


def test_malformed_json_is_400(client, fake_rpc):
    response = client.post(LOGIN, data='{"email": ', content_type="application/json")

    assert response.status_code == 400
    assert response.get_json() == {"success": False, "message": "The request body is not valid JSON.", "errors": {}}
    assert fake_rpc.calls == []


def test_body_in_another_format_is_415(client):
    response = client.post(
        LOGIN, data="email=a@example.com&password=x", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.get_json()["success"] is False


def test_unknown_field_is_422(client):
    response = client.post(LOGIN, json={"email": "agent@example.com", "password": "x", "remember_me": True})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"remember_me": ["Unknown field."]}


def test_missing_field_is_422(client):
    response = client.post(LOGIN, json={"email": "agent@example.com"})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"password": ["Missing data for required field."]}


def test_empty_body_is_422_naming_every_required_field(client):
    response = client.post(LOGIN)

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"email", "password"}


def test_blank_name_is_422(client):
    response = _register(client, name="   ")

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"name": ["Must not be blank."]}


def test_blank_password_is_422(client):
    response = client.post(LOGIN, json={"email": "agent@example.com", "password": "  "})

    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "n" * 201), ("password", "Aa1" * 43), ("email", "a" * 245 + "@example.com")],
    ids=["name-201", "password-129", "email-257"],
)
def test_oversized_field_is_422(client, fake_rpc, field, value):
    response = _register(client, **{field: value})

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert fake_rpc.calls == []


def test_invalid_email_is_422(client):
    response = _register(client, email="not-an-email")

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"email": ["Not a valid email address."]}


def test_wrongly_typed_field_is_422(client):
    response = _register(client, name=42)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"name": ["Not a valid string."]}


def test_json_array_body_is_422(client):
    response = client.post(LOGIN, json=[{"email": "agent@example.com"}])

    assert response.status_code == 422
    assert "_schema" in response.get_json()["errors"]


def test_update_without_any_field_is_422(client, auth_headers):
    response = client.put("/api/v1/auth/update-profile", json={}, headers=auth_headers("agent"))

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"_schema": ["Give at least one field to change."]}


def test_list_limit_above_100_is_422(client, auth_headers):
    response = client.get("/api/v1/users?limit=101", headers=auth_headers("admin"))

    assert response.status_code == 422
    assert "limit" in response.get_json()["errors"]


def test_list_page_below_1_is_422(client, auth_headers):
    response = client.get("/api/v1/departments?page=0", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "page" in response.get_json()["errors"]


def test_unknown_enum_value_is_422(client, auth_headers, accounts):
    user_id = accounts["agent"]["id"]

    response = client.patch(f"/api/v1/users/{user_id}/role", json={"role": "superuser"}, headers=auth_headers("admin"))

    assert response.status_code == 422
    assert "role" in response.get_json()["errors"]


def test_body_over_one_mebibyte_is_413(client):
    response = client.post(LOGIN, data=b"{" + b" " * (1024 * 1024) + b"}", content_type="application/json")

    assert response.status_code == 413
    assert response.get_json()["success"] is False


def test_email_is_trimmed_before_it_reaches_the_service(client, fake_rpc, password):
    client.post(LOGIN, json={"email": "  agent@example.com ", "password": password})

    assert fake_rpc.calls[0].args[0] == "agent@example.com"
