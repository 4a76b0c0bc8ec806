"""One correlation id follows a request from HTTP through RPC into the events it causes."""

import uuid

import pytest

from helpdesk_contracts.events import validate_envelope

pytestmark = pytest.mark.e2e


def test_correlation_id_flows_from_http_into_the_published_event(anon, event_probe):
    probe = event_probe("users", "user.created")
    correlation_id = f"e2e-{uuid.uuid4().hex}"
    email = f"corr-{uuid.uuid4().hex[:8]}@example.com"

    response = anon.post("/api/v1/auth/register", json={"email": email, "name": "Corr", "password": "corr-pass1"},
                         headers={"X-Correlation-ID": correlation_id})

    assert response.status_code == 201, response.text
    event = probe.wait("user.created", where=lambda e: e["data"]["user"]["email"] == email, timeout=15)
    assert event["correlation_id"] == correlation_id
    assert event["_headers"]["nameko.correlation_id"] == correlation_id
    validate_envelope({k: v for k, v in event.items() if k != "_headers"})
