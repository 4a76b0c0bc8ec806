"""``/api/v1/tickets``: create, read, change, thread, history, delete, stats, tags and search."""

from __future__ import annotations

import uuid

import pytest

TICKETS = "/api/v1/tickets"
NEW_TICKET = {"title": "VPN drops every hour", "description": "Since Monday.", "priority": "high", "tags": ["VPN"]}


@pytest.fixture
def ticket(tickets_service, accounts):
    """A new ticket of the seeded customer."""
    return tickets_service.add_ticket(accounts["customer"]["id"])


def _last(fake_rpc, method):
    return fake_rpc.calls_to("tickets", method)[-1]


# -- create ---------------------------------------------------------------------------------------
def test_create_ticket_answers_201_with_location_and_etag(client, auth_headers):
    response = client.post(TICKETS, json=NEW_TICKET, headers=auth_headers("customer"))

    ticket = response.get_json()["data"]
    assert response.status_code == 201
    assert response.headers["Location"] == f"{TICKETS}/{ticket['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (ticket["number"], ticket["status"]) == ("TKT-000001", "new")


def test_create_ticket_passes_the_body_and_the_actor(client, auth_headers, accounts, fake_rpc):
    client.post(TICKETS, json=NEW_TICKET, headers=auth_headers("customer"))

    call = _last(fake_rpc, "create")
    assert call.args == (NEW_TICKET,)
    assert call.kwargs["actor"]["id"] == accounts["customer"]["id"]


def test_create_ticket_without_a_title_is_422(client, auth_headers, fake_rpc):
    response = client.post(TICKETS, json={"description": "x"}, headers=auth_headers("customer"))

    assert response.status_code == 422
    assert "title" in response.get_json()["errors"]
    assert fake_rpc.calls_to("tickets", "create") == []


def test_create_ticket_with_urgency_but_no_impact_is_422(client, auth_headers):
    body = {**NEW_TICKET, "urgency": "high"}

    response = client.post(TICKETS, json=body, headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "impact" in response.get_json()["errors"]


def test_create_ticket_with_an_unknown_priority_is_422(client, auth_headers):
    response = client.post(TICKETS, json={**NEW_TICKET, "priority": "asap"}, headers=auth_headers("customer"))

    assert response.status_code == 422


def test_create_ticket_on_behalf_of_someone_as_customer_is_403(client, auth_headers, accounts):
    body = {**NEW_TICKET, "requester_id": accounts["admin"]["id"]}

    response = client.post(TICKETS, json=body, headers=auth_headers("customer"))

    assert response.status_code == 403


def test_create_ticket_without_a_token_is_401(client):
    assert client.post(TICKETS, json=NEW_TICKET).status_code == 401


# -- read -----------------------------------------------------------------------------------------
def test_get_ticket_answers_the_ticket(client, auth_headers, ticket):
    response = client.get(f"{TICKETS}/{ticket['id']}", headers=auth_headers("customer"))

    assert response.status_code == 200
    assert response.get_json()["data"]["number"] == ticket["number"]


def test_get_ticket_hides_metadata_from_a_customer(client, auth_headers, tickets_service, accounts):
    mine = tickets_service.add_ticket(accounts["customer"]["id"], metadata={"crm": "42"})

    response = client.get(f"{TICKETS}/{mine['id']}", headers=auth_headers("customer"))

    assert "metadata" not in response.get_json()["data"]


def test_a_ticket_answers_its_categorys_required_skills_in_one_and_in_a_list(client, auth_headers, tickets_service,
                                                                            accounts):
    tickets_service.categories["c1"] = {"id": "c1", "name": "Network", "required_skills": ["vpn", "cisco"]}
    filed = tickets_service.add_ticket(accounts["customer"]["id"], category="Network")
    tickets_service.add_ticket(accounts["customer"]["id"])

    one = client.get(f"{TICKETS}/{filed['id']}", headers=auth_headers("customer")).get_json()["data"]
    listed = client.get(TICKETS, headers=auth_headers("agent")).get_json()["data"]["items"]

    assert one["required_skills"] == ["vpn", "cisco"]
    assert sorted(t["required_skills"] for t in listed) == [[], ["vpn", "cisco"]]


def test_openapi_documents_a_tickets_required_skills_as_optional(client):
    ticket = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Ticket"]

    assert ticket["properties"]["required_skills"]["type"] == "array"
    assert "an agent must hold them all to be routed" in ticket["properties"]["required_skills"]["description"]
    assert "required_skills" not in ticket.get("required", [])


def test_get_ticket_of_another_customer_is_404(client, auth_headers, tickets_service, users_service, password):
    other = users_service.add_user(email="other@example.com", password=password)
    theirs = tickets_service.add_ticket(other["id"])

    response = client.get(f"{TICKETS}/{theirs['id']}", headers=auth_headers("customer"))

    assert response.status_code == 404
    assert response.get_json()["message"] == "Ticket not found."


def test_get_ticket_with_a_malformed_id_is_404(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}/not-a-uuid", headers=auth_headers("admin"))

    assert response.status_code == 404
    assert fake_rpc.calls_to("tickets", "get") == []


# -- change ---------------------------------------------------------------------------------------
def test_update_ticket_answers_the_changed_ticket(client, auth_headers, ticket):
    response = client.put(f"{TICKETS}/{ticket['id']}", json={"title": "New title"}, headers=auth_headers("agent"))

    assert response.status_code == 200
    assert response.get_json()["data"]["title"] == "New title"


def test_update_ticket_without_any_field_is_422(client, auth_headers, ticket):
    assert client.put(f"{TICKETS}/{ticket['id']}", json={}, headers=auth_headers("agent")).status_code == 422


def test_update_ticket_priority_by_the_requester_is_403(client, auth_headers, ticket):
    response = client.put(f"{TICKETS}/{ticket['id']}", json={"priority": "urgent"}, headers=auth_headers("customer"))

    assert response.status_code == 403


def test_change_status_moves_the_ticket(client, auth_headers, ticket):
    response = client.patch(f"{TICKETS}/{ticket['id']}/status", json={"status": "open"}, headers=auth_headers("agent"))

    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "open"


def test_change_status_illegal_move_is_409_naming_the_allowed_states(client, auth_headers, tickets_service, accounts):
    closed = tickets_service.add_ticket(accounts["customer"]["id"], status="closed")

    response = client.patch(f"{TICKETS}/{closed['id']}/status", json={"status": "waiting"}, headers=auth_headers("agent"))

    assert response.status_code == 409
    assert response.get_json()["message"] == "Cannot move a ticket from closed to waiting; allowed: open."


def test_change_status_passes_the_resolution(client, auth_headers, ticket, fake_rpc):
    body = {"status": "resolved", "resolution": "Replaced the cable."}

    client.patch(f"{TICKETS}/{ticket['id']}/status", json=body, headers=auth_headers("agent"))

    call = _last(fake_rpc, "change_status")
    assert call.args == (ticket["id"], "resolved")
    assert call.kwargs["resolution"] == "Replaced the cable."


def test_change_status_to_an_unknown_status_is_422(client, auth_headers, ticket):
    response = client.patch(f"{TICKETS}/{ticket['id']}/status", json={"status": "done"}, headers=auth_headers("agent"))

    assert response.status_code == 422


def test_customer_may_close_their_own_ticket_through_status(client, auth_headers, ticket):
    response = client.patch(
        f"{TICKETS}/{ticket['id']}/status", json={"status": "closed"}, headers=auth_headers("customer")
    )

    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "closed"


def test_customer_may_not_start_work_on_their_ticket(client, auth_headers, ticket):
    response = client.patch(
        f"{TICKETS}/{ticket['id']}/status", json={"status": "in_progress"}, headers=auth_headers("customer")
    )

    assert response.status_code == 403


def test_assign_ticket_gives_it_to_an_agent(client, auth_headers, ticket, accounts):
    agent_id = accounts["agent"]["id"]

    response = client.patch(
        f"{TICKETS}/{ticket['id']}/assign", json={"assignee_id": agent_id}, headers=auth_headers("supervisor")
    )

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert (data["assignee_id"], data["status"]) == (agent_id, "open")


def test_assign_ticket_with_null_unassigns_without_touching_the_department(client, auth_headers, ticket, fake_rpc):
    client.patch(f"{TICKETS}/{ticket['id']}/assign", json={"assignee_id": None}, headers=auth_headers("agent"))

    call = _last(fake_rpc, "assign")
    assert call.kwargs["assignee_id"] is None
    assert "set_department" not in call.kwargs


def test_assign_ticket_sets_the_department_when_it_is_sent(client, auth_headers, ticket, fake_rpc):
    department_id = str(uuid.uuid4())

    client.patch(f"{TICKETS}/{ticket['id']}/assign", json={"department_id": department_id}, headers=auth_headers("admin"))

    call = _last(fake_rpc, "assign")
    assert (call.kwargs["department_id"], call.kwargs["set_department"]) == (department_id, True)


def test_assign_ticket_without_assignee_or_department_is_422(client, auth_headers, ticket, fake_rpc):
    response = client.patch(f"{TICKETS}/{ticket['id']}/assign", json={}, headers=auth_headers("agent"))

    assert response.status_code == 422
    assert fake_rpc.calls_to("tickets", "assign") == []


def test_assign_ticket_is_403_for_a_customer(client, auth_headers, ticket, fake_rpc):
    response = client.patch(f"{TICKETS}/{ticket['id']}/assign", json={"assignee_id": None}, headers=auth_headers("customer"))

    assert response.status_code == 403
    assert fake_rpc.calls_to("tickets", "assign") == []


def test_change_priority_sets_it(client, auth_headers, ticket):
    response = client.patch(f"{TICKETS}/{ticket['id']}/priority", json={"priority": "urgent"}, headers=auth_headers("agent"))

    assert response.status_code == 200
    assert response.get_json()["data"]["priority"] == "urgent"


def test_change_priority_is_403_for_a_customer(client, auth_headers, ticket, fake_rpc):
    response = client.patch(
        f"{TICKETS}/{ticket['id']}/priority", json={"priority": "urgent"}, headers=auth_headers("customer")
    )

    assert response.status_code == 403
    assert fake_rpc.calls_to("tickets", "change_priority") == []


def test_close_ticket_without_a_body_closes_it(client, auth_headers, ticket):
    response = client.patch(f"{TICKETS}/{ticket['id']}/close", headers=auth_headers("customer"))

    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "closed"


def test_close_ticket_passes_the_resolution(client, auth_headers, ticket, fake_rpc):
    client.patch(f"{TICKETS}/{ticket['id']}/close", json={"resolution": "Fixed."}, headers=auth_headers("agent"))

    assert _last(fake_rpc, "close").kwargs["resolution"] == "Fixed."


# -- thread and history ---------------------------------------------------------------------------
def test_add_comment_answers_201_with_the_comment(client, auth_headers, ticket):
    response = client.post(f"{TICKETS}/{ticket['id']}/comments", json={"body": "Any news?"}, headers=auth_headers("customer"))

    comment = response.get_json()["data"]
    assert response.status_code == 201
    assert (comment["body"], comment["internal"]) == ("Any news?", False)


def test_add_comment_through_the_singular_alias_answers_201(client, auth_headers, ticket):
    response = client.post(f"{TICKETS}/{ticket['id']}/comment", json={"body": "Hello"}, headers=auth_headers("agent"))

    assert response.status_code == 201


def test_add_internal_note_as_customer_is_403(client, auth_headers, ticket):
    response = client.post(
        f"{TICKETS}/{ticket['id']}/comments", json={"body": "psst", "internal": True}, headers=auth_headers("customer")
    )

    assert response.status_code == 403
    assert response.get_json()["message"] == "Only agents can write internal notes."


def test_add_comment_with_a_blank_body_is_422(client, auth_headers, ticket, fake_rpc):
    response = client.post(f"{TICKETS}/{ticket['id']}/comments", json={"body": "   "}, headers=auth_headers("agent"))

    assert response.status_code == 422
    assert fake_rpc.calls_to("tickets", "add_comment") == []


def test_list_comments_hides_internal_notes_from_the_requester(client, auth_headers, ticket):
    url = f"{TICKETS}/{ticket['id']}/comments"
    client.post(url, json={"body": "reply"}, headers=auth_headers("agent"))
    client.post(url, json={"body": "note", "internal": True}, headers=auth_headers("agent"))

    response = client.get(url, headers=auth_headers("customer"))

    assert [c["body"] for c in response.get_json()["data"]["items"]] == ["reply"]


def test_history_answers_the_entries_as_a_list(client, auth_headers, ticket):
    client.patch(f"{TICKETS}/{ticket['id']}/status", json={"status": "open"}, headers=auth_headers("agent"))

    response = client.get(f"{TICKETS}/{ticket['id']}/history", headers=auth_headers("customer"))

    items = response.get_json()["data"]["items"]
    assert response.status_code == 200
    assert [(e["action"], e["field"], e["after"]) for e in items][-1] == ("status_changed", "status", "open")


# -- delete ---------------------------------------------------------------------------------------
def test_delete_ticket_answers_200_for_an_admin(client, auth_headers, ticket):
    response = client.delete(f"{TICKETS}/{ticket['id']}", headers=auth_headers("admin"))

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": None, "message": "Ticket deleted."}
    assert client.get(f"{TICKETS}/{ticket['id']}", headers=auth_headers("admin")).status_code == 404


@pytest.mark.parametrize("role", ["customer", "agent", "supervisor"])
def test_delete_ticket_is_403_below_admin(client, auth_headers, ticket, fake_rpc, role):
    assert client.delete(f"{TICKETS}/{ticket['id']}", headers=auth_headers(role)).status_code == 403
    assert fake_rpc.calls_to("tickets", "delete") == []


# -- stats, tags, search --------------------------------------------------------------------------
def test_stats_counts_the_visible_tickets(client, auth_headers, tickets_service, accounts):
    tickets_service.add_ticket(accounts["customer"]["id"], status="open", priority="high")
    tickets_service.add_ticket(accounts["admin"]["id"], status="open")

    response = client.get(f"{TICKETS}/stats", headers=auth_headers("customer"))

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert (data["total"], data["by_status"]["open"], data["by_priority"]["high"]) == (1, 1, 1)


def test_stats_counts_assignee_me_as_the_caller(client, auth_headers, tickets_service, accounts):
    tickets_service.add_ticket(accounts["customer"]["id"], assignee_id=accounts["agent"]["id"])
    tickets_service.add_ticket(accounts["customer"]["id"])

    response = client.get(f"{TICKETS}/stats?assignee_id=me", headers=auth_headers("agent"))

    assert response.get_json()["data"]["total"] == 1


def test_stats_passes_the_filters(client, auth_headers, fake_rpc):
    client.get(f"{TICKETS}/stats?priority=high,urgent", headers=auth_headers("agent"))

    assert _last(fake_rpc, "stats").kwargs["filters"] == {"priority": ["high", "urgent"]}


def test_tags_lists_tags_with_counts(client, auth_headers, tickets_service, accounts):
    tickets_service.add_ticket(accounts["customer"]["id"], tags=["vpn", "wifi"])
    tickets_service.add_ticket(accounts["customer"]["id"], tags=["vpn"])

    response = client.get(f"{TICKETS}/tags", headers=auth_headers("customer"))

    assert response.get_json()["data"]["items"] == [{"tag": "vpn", "count": 2}, {"tag": "wifi", "count": 1}]


def test_search_calls_the_search_rpc_with_the_list_filters(client, auth_headers, fake_rpc):
    client.get(f"{TICKETS}/search?q=printer&status=open", headers=auth_headers("agent"))

    call = _last(fake_rpc, "search")
    assert call.kwargs["query"] == "printer"
    assert call.kwargs["filters"] == {"status": ["open"]}


def test_search_answers_matching_tickets_with_pagination(client, auth_headers, tickets_service, accounts):
    tickets_service.add_ticket(accounts["customer"]["id"], title="Printer jam")
    tickets_service.add_ticket(accounts["customer"]["id"], title="VPN down")

    response = client.get(f"{TICKETS}/search?q=printer", headers=auth_headers("agent"))

    data = response.get_json()["data"]
    assert [t["title"] for t in data["items"]] == ["Printer jam"]
    assert data["items"][0]["highlight"] == "Printer jam"
    assert data["pagination"]["total"] == 1


def test_search_without_q_is_422(client, auth_headers):
    response = client.get(f"{TICKETS}/search", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "q" in response.get_json()["errors"]


# -- OpenAPI --------------------------------------------------------------------------------------
TICKET_PATHS = {
    f"{TICKETS}": {"get", "post"},
    f"{TICKETS}/stats": {"get"},
    f"{TICKETS}/tags": {"get"},
    f"{TICKETS}/search": {"get"},
    f"{TICKETS}/export": {"get"},
    f"{TICKETS}/bulk-assign": {"post"},
    f"{TICKETS}/bulk-status": {"post"},
    f"{TICKETS}/{{ticket_id}}": {"get", "put", "delete"},
    f"{TICKETS}/{{ticket_id}}/status": {"patch"},
    f"{TICKETS}/{{ticket_id}}/assign": {"patch"},
    f"{TICKETS}/{{ticket_id}}/priority": {"patch"},
    f"{TICKETS}/{{ticket_id}}/close": {"patch"},
    f"{TICKETS}/{{ticket_id}}/comments": {"get", "post"},
    f"{TICKETS}/{{ticket_id}}/comment": {"post"},
    f"{TICKETS}/{{ticket_id}}/history": {"get"},
}


def test_openapi_documents_every_tickets_route_with_bearer_security(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    documented = {path: set(paths[path]) - {"parameters"} for path in TICKET_PATHS if path in paths}
    assert documented == TICKET_PATHS
    assert all(paths[p][m]["security"] == [{"bearerAuth": []}] for p, methods in TICKET_PATHS.items() for m in methods)


def test_openapi_documents_if_match_and_412_on_the_patch_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    for action in ("status", "assign", "priority", "close"):
        operation = paths[f"{TICKETS}/{{ticket_id}}/{action}"]["patch"]
        assert "If-Match" in [p["name"] for p in operation["parameters"]]
        assert "412" in operation["responses"]


def test_openapi_documents_the_list_filters(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][TICKETS]["get"]

    names = {p["name"] for p in operation["parameters"]}
    assert {"status", "assignee_id", "created_from", "created_to", "q", "sort_by", "sort_order", "limit"} <= names
