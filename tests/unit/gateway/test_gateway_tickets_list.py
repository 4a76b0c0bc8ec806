"""``GET /api/v1/tickets``: filters, sorting and pagination as the tickets service receives them."""

from __future__ import annotations

import uuid

import pytest

from helpdesk_contracts.errors import SearchUnavailable

TICKETS = "/api/v1/tickets"


def _list_call(fake_rpc):
    return fake_rpc.calls_to("tickets", "list")[-1]


def test_list_tickets_answers_items_and_pagination_from_the_service_total(
    client, auth_headers, tickets_service, accounts
):
    for _ in range(3):
        tickets_service.add_ticket(accounts["customer"]["id"])

    response = client.get(f"{TICKETS}?limit=2&page=2", headers=auth_headers("agent"))

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert len(data["items"]) == 1
    assert data["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2, "total_exact": True}


def test_list_tickets_shows_a_customer_only_their_own(client, auth_headers, tickets_service, accounts):
    mine = tickets_service.add_ticket(accounts["customer"]["id"])
    tickets_service.add_ticket(accounts["admin"]["id"])

    response = client.get(TICKETS, headers=auth_headers("customer"))

    assert [t["id"] for t in response.get_json()["data"]["items"]] == [mine["id"]]


def test_list_tickets_sends_defaults_when_nothing_is_asked(client, auth_headers, fake_rpc):
    client.get(TICKETS, headers=auth_headers("agent"))

    call = _list_call(fake_rpc)
    assert {k: v for k, v in call.kwargs.items() if k != "actor"} == {
        "filters": {},
        "page": 1,
        "limit": 20,
        "sort_by": "created_at",
        "sort_order": "desc",
    }


def test_list_tickets_splits_a_comma_separated_status(client, auth_headers, fake_rpc):
    client.get(f"{TICKETS}?status=new,in_progress", headers=auth_headers("agent"))

    assert _list_call(fake_rpc).kwargs["filters"] == {"status": ["new", "in_progress"]}


def test_list_tickets_accepts_repeated_status_parameters(client, auth_headers, fake_rpc):
    client.get(f"{TICKETS}?status=new&status=open,waiting", headers=auth_headers("agent"))

    assert _list_call(fake_rpc).kwargs["filters"] == {"status": ["new", "open", "waiting"]}


def test_list_tickets_with_an_unknown_status_is_422(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}?status=new,done", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert fake_rpc.calls_to("tickets", "list") == []


@pytest.mark.parametrize("given", ["me", "ME"])
def test_list_tickets_turns_assignee_me_into_the_callers_id(client, auth_headers, accounts, fake_rpc, given):
    client.get(f"{TICKETS}?assignee_id={given}", headers=auth_headers("agent"))

    assert _list_call(fake_rpc).kwargs["filters"] == {"assignee_id": accounts["agent"]["id"]}


def test_list_tickets_passes_assignee_none_through(client, auth_headers, fake_rpc):
    client.get(f"{TICKETS}?assignee_id=none", headers=auth_headers("agent"))

    assert _list_call(fake_rpc).kwargs["filters"] == {"assignee_id": "none"}


def test_list_tickets_passes_an_assignee_id(client, auth_headers, fake_rpc):
    agent_id = str(uuid.uuid4())

    client.get(f"{TICKETS}?assignee_id={agent_id}", headers=auth_headers("agent"))

    assert _list_call(fake_rpc).kwargs["filters"] == {"assignee_id": agent_id}


def test_list_tickets_with_a_malformed_assignee_is_422(client, auth_headers):
    response = client.get(f"{TICKETS}?assignee_id=somebody", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"assignee_id": ["Must be 'me', 'none' or a user id."]}


def test_list_tickets_turns_a_date_range_into_whole_utc_days(client, auth_headers, fake_rpc):
    client.get(f"{TICKETS}?created_from=2025-03-01&created_to=2025-03-31", headers=auth_headers("agent"))

    assert _list_call(fake_rpc).kwargs["filters"] == {
        "created_from": "2025-03-01T00:00:00+00:00",
        "created_to": "2025-03-31T23:59:59.999999+00:00",
    }


def test_list_tickets_takes_a_date_time_without_offset_as_utc(client, auth_headers, fake_rpc):
    client.get(f"{TICKETS}?created_from=2025-03-01T08:30:00", headers=auth_headers("agent"))

    assert _list_call(fake_rpc).kwargs["filters"] == {"created_from": "2025-03-01T08:30:00+00:00"}


def test_list_tickets_filters_by_creation_date(client, auth_headers, tickets_service, accounts):
    inside = tickets_service.add_ticket(accounts["customer"]["id"], created_at="2025-03-10T12:00:00+00:00")
    tickets_service.add_ticket(accounts["customer"]["id"], created_at="2025-04-01T00:00:00+00:00")

    response = client.get(f"{TICKETS}?created_from=2025-03-10&created_to=2025-03-10", headers=auth_headers("agent"))

    assert [t["id"] for t in response.get_json()["data"]["items"]] == [inside["id"]]


@pytest.mark.parametrize("value", ["yesterday", "2025-02-30", "2025-3-1", "03/01/2025", "2025-03-01T25:00"])
def test_list_tickets_with_a_malformed_date_is_422(client, auth_headers, fake_rpc, value):
    response = client.get(f"{TICKETS}?created_from={value}", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["created_from"]
    assert fake_rpc.calls_to("tickets", "list") == []


def test_list_tickets_with_created_to_before_created_from_is_422(client, auth_headers):
    response = client.get(f"{TICKETS}?created_from=2025-03-02&created_to=2025-03-01", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "created_to" in response.get_json()["errors"]


def test_list_tickets_with_limit_above_100_is_422(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}?limit=101", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "limit" in response.get_json()["errors"]
    assert fake_rpc.calls_to("tickets", "list") == []


def test_list_tickets_with_an_unknown_sort_field_is_422(client, auth_headers):
    response = client.get(f"{TICKETS}?sort_by=description", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "sort_by" in response.get_json()["errors"]


def test_list_tickets_passes_sorting_and_paging(client, auth_headers, fake_rpc):
    client.get(f"{TICKETS}?sort_by=priority&sort_order=asc&page=3&limit=50", headers=auth_headers("agent"))

    call = _list_call(fake_rpc)
    assert (call.kwargs["sort_by"], call.kwargs["sort_order"], call.kwargs["page"], call.kwargs["limit"]) == (
        "priority",
        "asc",
        3,
        50,
    )


def test_list_tickets_passes_every_filter(client, auth_headers, fake_rpc):
    department_id, requester_id = str(uuid.uuid4()), str(uuid.uuid4())
    query = (
        f"priority=high&department_id={department_id}&requester_id={requester_id}"
        "&category=Network&tag=vpn&source=email&q=timeout"
    )

    client.get(f"{TICKETS}?{query}", headers=auth_headers("admin"))

    assert _list_call(fake_rpc).kwargs["filters"] == {
        "priority": ["high"],
        "department_id": department_id,
        "requester_id": requester_id,
        "category": "Network",
        "tag": "vpn",
        "source": "email",
        "q": "timeout",
    }


def test_list_tickets_ignores_empty_filters(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}?q=&status=&assignee_id=&created_from=", headers=auth_headers("agent"))

    assert response.status_code == 200
    assert _list_call(fake_rpc).kwargs["filters"] == {}


def test_list_tickets_while_search_is_down_is_503(client, auth_headers, tickets_service, monkeypatch):
    def search_down(*args, **kwargs):
        raise SearchUnavailable()

    monkeypatch.setattr(tickets_service, "list", search_down)

    response = client.get(f"{TICKETS}?q=printer", headers=auth_headers("agent"))

    assert response.status_code == 503
    assert response.get_json()["message"] == "Search is unavailable right now; try again later."
