"""``POST /api/v1/tickets/bulk-assign`` and ``/bulk-status``: one RPC per ticket, one result per ticket."""

from __future__ import annotations

import uuid

import pytest

from gateway.errors import ServiceUnavailable, UnexpectedServiceError
from helpdesk_contracts.errors import ValidationFailed

BULK_ASSIGN = "/api/v1/tickets/bulk-assign"
BULK_STATUS = "/api/v1/tickets/bulk-status"


@pytest.fixture
def department_agent(users_service, password):
    """An agent of a department of their own (sees that department's tickets and the unrouted ones)."""
    return users_service.add_user(
        email="dept.agent@example.com", password=password, role="agent", department_id=str(uuid.uuid4())
    )


def _by_id(response):
    return {item["id"]: item for item in response.get_json()["data"]["results"]}


def test_bulk_assign_applies_good_ids_and_reports_unknown_and_foreign_ones_as_404(
    client, auth_headers, tickets_service, accounts, department_agent
):
    customer = accounts["customer"]["id"]
    good = tickets_service.add_ticket(customer)["id"]
    foreign = tickets_service.add_ticket(customer, department_id=str(uuid.uuid4()))["id"]
    unknown = str(uuid.uuid4())
    body = {"ticket_ids": [good, foreign, unknown], "assignee_id": department_agent["id"]}

    response = client.post(BULK_ASSIGN, json=body, headers=auth_headers(department_agent))

    results = _by_id(response)
    assert response.status_code == 200
    assert results[good]["success"] is True
    assert results[good]["ticket"]["assignee_id"] == department_agent["id"]
    assert results[foreign] == {"id": foreign, "success": False,
                                "error": {"status": 404, "message": "Ticket not found.", "errors": {}}}
    assert results[unknown]["error"]["status"] == 404
    assert tickets_service.tickets[foreign]["assignee_id"] is None


def test_bulk_assign_to_an_unknown_department_is_a_422_item_naming_the_field(
    client, auth_headers, tickets_service, accounts, monkeypatch
):
    ticket_id = tickets_service.add_ticket(accounts["customer"]["id"])["id"]

    def refused(*args, **kwargs):  # what the tickets service answers for a department that does not exist
        raise ValidationFailed("Unknown department.", {"department_id": ["No such department."]})

    monkeypatch.setattr(tickets_service, "assign", refused)

    response = client.post(BULK_ASSIGN, json={"ticket_ids": [ticket_id], "department_id": str(uuid.uuid4())},
                           headers=auth_headers("supervisor"))

    assert response.status_code == 200
    assert _by_id(response)[ticket_id]["error"] == {
        "status": 422, "message": "Unknown department.", "errors": {"department_id": ["No such department."]}}


def test_bulk_status_reports_an_illegal_move_as_a_409_item(client, auth_headers, tickets_service, accounts):
    customer = accounts["customer"]["id"]
    movable = tickets_service.add_ticket(customer, status="open")["id"]
    closed = tickets_service.add_ticket(customer, status="closed")["id"]

    response = client.post(
        BULK_STATUS, json={"ticket_ids": [movable, closed], "status": "in_progress"}, headers=auth_headers("supervisor")
    )

    results = _by_id(response)
    assert results[movable]["ticket"]["status"] == "in_progress"
    assert results[closed]["error"] == {
        "status": 409,
        "message": "Cannot move a ticket from closed to in_progress; allowed: open.",
        "errors": {"status": ["Allowed from closed: open."]},
    }


def test_bulk_status_counts_succeeded_and_failed(client, auth_headers, tickets_service, accounts):
    good = [tickets_service.add_ticket(accounts["customer"]["id"])["id"] for _ in range(2)]

    response = client.post(
        BULK_STATUS, json={"ticket_ids": [*good, str(uuid.uuid4())], "status": "open"}, headers=auth_headers("admin")
    )

    data = response.get_json()
    assert (data["data"]["succeeded"], data["data"]["failed"]) == (2, 1)
    assert data["message"] == "2 succeeded, 1 failed."


def test_bulk_status_keeps_the_order_of_the_ids(client, auth_headers, tickets_service, accounts):
    ids = [tickets_service.add_ticket(accounts["customer"]["id"])["id"] for _ in range(3)]
    ids.insert(1, str(uuid.uuid4()))

    response = client.post(BULK_STATUS, json={"ticket_ids": ids, "status": "open"}, headers=auth_headers("admin"))

    assert [item["id"] for item in response.get_json()["data"]["results"]] == ids


def test_bulk_status_passes_the_resolution_and_the_actor(client, auth_headers, tickets_service, accounts, fake_rpc):
    ticket_id = tickets_service.add_ticket(accounts["customer"]["id"])["id"]
    body = {"ticket_ids": [ticket_id], "status": "resolved", "resolution": "Mass outage fixed."}

    client.post(BULK_STATUS, json=body, headers=auth_headers("admin"))

    call = fake_rpc.calls_to("tickets", "change_status")[-1]
    assert call.args == (ticket_id, "resolved")
    assert call.kwargs["resolution"] == "Mass outage fixed."
    assert call.kwargs["actor"]["role"] == "admin"


def test_bulk_assign_sets_the_department_only_when_it_is_sent(client, auth_headers, tickets_service, accounts, fake_rpc):
    ticket_id = tickets_service.add_ticket(accounts["customer"]["id"])["id"]
    department_id = str(uuid.uuid4())

    client.post(BULK_ASSIGN, json={"ticket_ids": [ticket_id], "department_id": department_id}, headers=auth_headers("admin"))

    call = fake_rpc.calls_to("tickets", "assign")[-1]
    assert (call.kwargs["department_id"], call.kwargs["set_department"]) == (department_id, True)


def test_bulk_assign_without_assignee_or_department_is_422(client, auth_headers):
    response = client.post(BULK_ASSIGN, json={"ticket_ids": [str(uuid.uuid4())]}, headers=auth_headers("agent"))

    assert response.status_code == 422


def test_bulk_counts_a_repeated_id_once(client, auth_headers, tickets_service, accounts, fake_rpc):
    ticket_id = tickets_service.add_ticket(accounts["customer"]["id"])["id"]

    response = client.post(
        BULK_STATUS, json={"ticket_ids": [ticket_id, ticket_id], "status": "open"}, headers=auth_headers("admin")
    )

    assert len(response.get_json()["data"]["results"]) == 1
    assert len(fake_rpc.calls_to("tickets", "change_status")) == 1


@pytest.mark.parametrize("count", [0, 101])
def test_bulk_with_no_or_too_many_ids_is_422(client, auth_headers, fake_rpc, count):
    ids = [str(uuid.uuid4()) for _ in range(count)]

    response = client.post(BULK_STATUS, json={"ticket_ids": ids, "status": "open"}, headers=auth_headers("admin"))

    assert response.status_code == 422
    assert "ticket_ids" in response.get_json()["errors"]
    assert fake_rpc.calls_to("tickets", "change_status") == []


def test_bulk_with_a_malformed_id_is_422(client, auth_headers):
    response = client.post(BULK_STATUS, json={"ticket_ids": ["TKT-1"], "status": "open"}, headers=auth_headers("admin"))

    assert response.status_code == 422


@pytest.mark.parametrize("path", [BULK_ASSIGN, BULK_STATUS])
def test_bulk_as_customer_is_403(client, auth_headers, fake_rpc, path):
    body = {"ticket_ids": [str(uuid.uuid4())], "status": "closed", "assignee_id": None}

    response = client.post(path, json=body, headers=auth_headers("customer"))

    assert response.status_code == 403
    assert fake_rpc.calls_to("tickets", "assign") == fake_rpc.calls_to("tickets", "change_status") == []


def test_bulk_status_as_agent_is_403(client, auth_headers):
    response = client.post(
        BULK_STATUS, json={"ticket_ids": [str(uuid.uuid4())], "status": "open"}, headers=auth_headers("agent")
    )

    assert response.status_code == 403


def test_bulk_stops_calling_once_the_service_is_unavailable(
    client, auth_headers, tickets_service, accounts, fake_rpc, monkeypatch
):
    ids = [tickets_service.add_ticket(accounts["customer"]["id"])["id"] for _ in range(3)]
    real = tickets_service.change_status
    answers = iter([real, ServiceUnavailable.for_service("tickets")])

    def flaky(*args, **kwargs):
        outcome = next(answers)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome(*args, **kwargs)

    monkeypatch.setattr(tickets_service, "change_status", flaky)

    response = client.post(BULK_STATUS, json={"ticket_ids": ids, "status": "open"}, headers=auth_headers("admin"))

    statuses = [(item["success"], item.get("error", {}).get("status")) for item in response.get_json()["data"]["results"]]
    assert statuses == [(True, None), (False, 503), (False, 503)]
    assert len(fake_rpc.calls_to("tickets", "change_status")) == 2


def test_bulk_reports_an_unexpected_error_as_a_500_item_without_details(
    client, auth_headers, tickets_service, accounts, monkeypatch
):
    ticket_id = tickets_service.add_ticket(accounts["customer"]["id"])["id"]

    def broken(*args, **kwargs):
        raise UnexpectedServiceError("KeyError: 'secret internals'")

    monkeypatch.setattr(tickets_service, "change_status", broken)

    response = client.post(BULK_STATUS, json={"ticket_ids": [ticket_id], "status": "open"}, headers=auth_headers("admin"))

    error = response.get_json()["data"]["results"][0]["error"]
    assert error["status"] == 500
    assert "secret" not in error["message"]
