"""Unread counts through the gateway: ``POST /tickets/{id}/read``, ``unread`` on the ticket and in the stats."""

from __future__ import annotations

import uuid

import pytest

TICKETS = "/api/v1/tickets"


@pytest.fixture
def ticket(tickets_service, accounts):
    """A customer ticket with two agent replies its requester has not read."""
    return tickets_service.add_ticket(accounts["customer"]["id"], unread=2)


def test_mark_read_answers_the_ticket_with_nothing_unread_and_its_etag(client, auth_headers, ticket, fake_rpc):
    response = client.post(f"{TICKETS}/{ticket['id']}/read", headers=auth_headers("customer"))

    body = response.get_json()
    assert response.status_code == 200
    assert (body["data"]["unread"], body["message"]) == (0, "Marked as read.")
    assert response.headers["ETag"] == f'"{body["data"]["version"]}"'
    assert fake_rpc.calls_to("tickets", "mark_read")[-1].args == (ticket["id"],)


def test_mark_read_of_a_ticket_one_cannot_see_is_404_in_the_envelope(client, auth_headers, tickets_service):
    someone_else = tickets_service.add_ticket(str(uuid.uuid4()))

    response = client.post(f"{TICKETS}/{someone_else['id']}/read", headers=auth_headers("customer"))

    assert response.status_code == 404
    assert response.get_json()["success"] is False


def test_mark_read_with_a_malformed_id_is_404_without_a_call(client, auth_headers, fake_rpc):
    response = client.post(f"{TICKETS}/TKT-1/read", headers=auth_headers("customer"))

    assert response.status_code == 404
    assert fake_rpc.calls_to("tickets", "mark_read") == []


def test_the_ticket_carries_the_callers_unread_count(client, auth_headers, ticket):
    response = client.get(f"{TICKETS}/{ticket['id']}", headers=auth_headers("customer"))

    assert response.get_json()["data"]["unread"] == 2


def test_stats_carry_unread_messages_and_tickets(client, auth_headers, ticket):
    response = client.get(f"{TICKETS}/stats", headers=auth_headers("customer"))

    data = response.get_json()["data"]
    assert (data["unread_messages"], data["unread_tickets"]) == (2, 1)


def test_the_openapi_document_describes_the_read_route_and_the_unread_fields(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    assert "post" in spec["paths"]["/api/v1/tickets/{ticket_id}/read"]
    assert "unread" in spec["components"]["schemas"]["Ticket"]["properties"]
    assert "unread_messages" in spec["components"]["schemas"]["TicketStats"]["properties"]
