"""The error table and envelope: every failure is JSON, with the family's status and no internals."""

from __future__ import annotations

import pytest
from flask_limiter import RateLimitExceeded

from gateway.errors import (
    STATUS_BY_FAMILY,
    InvalidToken,
    ServiceTimeout,
    ServiceUnavailable,
    UnexpectedServiceError,
    flatten_messages,
    status_for,
)
from helpdesk_contracts import errors as contract

LOGIN = "/api/v1/auth/login"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (contract.WeakPassword(), 422),
        (contract.UserNotFound(), 404),
        (contract.EmailAlreadyRegistered(), 409),
        (contract.RefreshTokenReused(), 401),
        (InvalidToken(), 401),
        (contract.PermissionDenied(), 403),
        (contract.PreconditionFailed(), 412),
        (ServiceUnavailable(), 503),
        (ServiceTimeout(), 504),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_status_for_maps_an_error_by_its_family(error, status):
    assert status_for(error) == status


def test_status_table_maps_rate_limiting_to_429():
    assert STATUS_BY_FAMILY[RateLimitExceeded] == 429


def test_status_for_leaves_unmapped_errors_to_the_500_handler():
    assert status_for(UnexpectedServiceError()) is None
    assert status_for(KeyError("x")) is None


def test_flatten_messages_joins_nested_fields_with_dots():
    messages = {"json": {"skills": {0: ["Must not be blank."]}, "name": ["Too long."]}}

    assert flatten_messages(messages) == {"skills.0": ["Must not be blank."], "name": ["Too long."]}


def test_flatten_messages_keeps_a_body_field_named_like_a_location():
    assert flatten_messages({"json": {"path": ["Not a valid string."]}}) == {"path": ["Not a valid string."]}


def test_unavailable_service_is_503_naming_it(client, fake_rpc, password):
    fake_rpc.failures["users"] = ServiceUnavailable.for_service("users")

    response = client.post(LOGIN, json={"email": "agent@example.com", "password": password})

    assert response.status_code == 503
    assert response.get_json() == {
        "success": False,
        "message": "The users service is unavailable; try again later.",
        "errors": {},
    }


def test_service_timeout_is_504(client, fake_rpc, password):
    fake_rpc.failures["users"] = ServiceTimeout.for_service("users")

    response = client.post(LOGIN, json={"email": "agent@example.com", "password": password})

    assert response.status_code == 504
    assert response.get_json()["message"] == "The users service did not answer in time; try again later."


def test_unexpected_exception_is_500_without_internals(client, fake_rpc, password):
    fake_rpc.failures["users"] = KeyError("secret-internal-detail")

    response = client.post(LOGIN, json={"email": "agent@example.com", "password": password})

    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.get_json()["success"] is False
    assert "secret-internal-detail" not in body and "Traceback" not in body


def test_unexpected_exception_is_logged_with_its_traceback(client, fake_rpc, password, caplog):
    fake_rpc.failures["users"] = KeyError("secret-internal-detail")

    client.post(LOGIN, json={"email": "agent@example.com", "password": password})

    (record,) = [r for r in caplog.records if r.name == "gateway.errors" and r.levelname == "ERROR"]
    assert record.exc_info is not None and "secret-internal-detail" in repr(record.exc_info[1])


def test_unexpected_remote_error_is_500_with_the_generic_message(client, fake_rpc, password):
    fake_rpc.failures["users"] = UnexpectedServiceError()

    response = client.post(LOGIN, json={"email": "agent@example.com", "password": password})

    assert response.status_code == 500
    assert response.get_json()["message"] == "Something went wrong on our side; the error was logged."


def test_unknown_route_is_a_404_envelope(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.get_json() == {"success": False, "message": "Resource not found.", "errors": {}}


def test_wrong_method_is_a_405_envelope_with_allow(client):
    response = client.delete(LOGIN)

    assert response.status_code == 405
    assert response.get_json()["success"] is False
    assert "POST" in response.headers["Allow"]


def test_errors_are_json_never_html(client):
    response = client.get("/definitely/not/here")

    assert response.mimetype == "application/json"
    assert "<html" not in response.get_data(as_text=True).lower()
