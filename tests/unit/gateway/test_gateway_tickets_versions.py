"""Optimistic concurrency on tickets: ``ETag: "<version>"`` out, ``If-Match: "<version>"`` in."""

from __future__ import annotations

import pytest

TICKETS = "/api/v1/tickets"

# (method, path under the ticket, body, rpc method): every write that takes an expected version
WRITES = [
    ("put", "", {"title": "Retitled"}, "update"),
    ("patch", "/status", {"status": "open"}, "change_status"),
    ("patch", "/assign", {"assignee_id": None}, "assign"),
    ("patch", "/priority", {"priority": "low"}, "change_priority"),
    ("patch", "/close", {"resolution": "Done."}, "close"),
]
WRITE_IDS = [write[3] for write in WRITES]


@pytest.fixture
def ticket(tickets_service, accounts):
    """A new ticket at version 3 (changed twice since it was opened)."""
    return tickets_service.add_ticket(accounts["customer"]["id"], version=3)


def _write(client, headers, ticket, write, **extra_headers):
    method, suffix, body, _ = write
    return getattr(client, method)(f"{TICKETS}/{ticket['id']}{suffix}", json=body, headers={**headers, **extra_headers})


def test_get_ticket_etag_is_the_quoted_version(client, auth_headers, ticket):
    response = client.get(f"{TICKETS}/{ticket['id']}", headers=auth_headers("agent"))

    assert response.headers["ETag"] == '"3"'


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
def test_write_answers_the_new_etag(client, auth_headers, ticket, write):
    response = _write(client, auth_headers("agent"), ticket, write)

    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{response.get_json()["data"]["version"]}"' == '"4"'


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
def test_write_with_a_matching_if_match_passes_the_expected_version(client, auth_headers, ticket, fake_rpc, write):
    response = _write(client, auth_headers("agent"), ticket, write, **{"If-Match": '"3"'})

    assert response.status_code == 200
    assert fake_rpc.calls_to("tickets", write[3])[-1].kwargs["expected_version"] == 3


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
def test_write_with_a_stale_if_match_is_412_with_the_current_version(client, auth_headers, ticket, write):
    response = _write(client, auth_headers("agent"), ticket, write, **{"If-Match": '"2"'})

    body = response.get_json()
    assert response.status_code == 412
    assert body["success"] is False
    assert body["errors"] == {"version": ["3"]}


def test_write_without_if_match_passes_no_expected_version(client, auth_headers, ticket, fake_rpc):
    response = client.patch(f"{TICKETS}/{ticket['id']}/priority", json={"priority": "low"}, headers=auth_headers("agent"))

    assert response.status_code == 200
    assert fake_rpc.calls_to("tickets", "change_priority")[-1].kwargs["expected_version"] is None


def test_write_with_if_match_star_passes_no_expected_version(client, auth_headers, ticket, fake_rpc):
    headers = {**auth_headers("agent"), "If-Match": "*"}

    client.patch(f"{TICKETS}/{ticket['id']}/priority", json={"priority": "low"}, headers=headers)

    assert fake_rpc.calls_to("tickets", "change_priority")[-1].kwargs["expected_version"] is None


@pytest.mark.parametrize("value", ["3", "abc", 'W/"3"', '"3", "4"', '"-1"', '""', ""])
def test_write_with_a_malformed_if_match_is_400(client, auth_headers, ticket, fake_rpc, value):
    headers = {**auth_headers("agent"), "If-Match": value}

    response = client.patch(f"{TICKETS}/{ticket['id']}/priority", json={"priority": "low"}, headers=headers)

    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["If-Match"]
    assert fake_rpc.calls_to("tickets", "change_priority") == []


def test_stale_write_changes_nothing(client, auth_headers, ticket, tickets_service):
    headers = {**auth_headers("agent"), "If-Match": '"1"'}

    client.patch(f"{TICKETS}/{ticket['id']}/priority", json={"priority": "urgent"}, headers=headers)

    assert tickets_service.tickets[ticket["id"]]["priority"] == "medium"


def test_cors_lets_a_browser_send_if_match_and_read_the_etag(make_app, auth_headers, ticket):
    client = make_app(CORS_ORIGINS="https://app.example.com").test_client()
    origin = {"Origin": "https://app.example.com"}

    preflight = client.options(
        f"{TICKETS}/{ticket['id']}/priority",
        headers={**origin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "If-Match"},
    )
    read = client.get(f"{TICKETS}/{ticket['id']}", headers={**origin, **auth_headers("agent")})

    assert "if-match" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "etag" in read.headers["Access-Control-Expose-Headers"].lower()
