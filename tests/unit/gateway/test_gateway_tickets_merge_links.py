"""``POST /tickets/{id}/merge`` and ``/tickets/{id}/links``: roles, bodies, envelopes and status mapping."""

from __future__ import annotations

import uuid

import pytest

TICKETS = "/api/v1/tickets"


@pytest.fixture
def duplicate_and_target(tickets_service, accounts):
    customer = accounts["customer"]["id"]
    return tickets_service.add_ticket(customer, title="Cannot reach VPN"), tickets_service.add_ticket(customer)


# -- merge ----------------------------------------------------------------------------------------
def test_merge_answers_the_closed_duplicate_and_the_target(client, auth_headers, duplicate_and_target, fake_rpc):
    duplicate, target = duplicate_and_target

    response = client.post(f"{TICKETS}/{duplicate['id']}/merge", json={"target_id": target["id"]},
                           headers=auth_headers("agent"))

    body = response.get_json()
    assert response.status_code == 200
    assert body["data"]["ticket"]["status"] == "closed"
    assert body["data"]["target"]["id"] == target["id"]
    assert body["message"] == f"Ticket merged into {target['number']}."
    assert fake_rpc.calls_to("tickets", "merge")[-1].args == (duplicate["id"], target["id"])


def test_merge_as_a_customer_is_403_without_calling_the_service(client, auth_headers, duplicate_and_target, fake_rpc):
    duplicate, target = duplicate_and_target

    response = client.post(f"{TICKETS}/{duplicate['id']}/merge", json={"target_id": target["id"]},
                           headers=auth_headers("customer"))

    assert response.status_code == 403
    assert fake_rpc.calls_to("tickets", "merge") == []


def test_merge_into_itself_is_409_with_the_services_message(client, auth_headers, duplicate_and_target):
    duplicate, _ = duplicate_and_target

    response = client.post(f"{TICKETS}/{duplicate['id']}/merge", json={"target_id": duplicate["id"]},
                           headers=auth_headers("agent"))

    assert response.status_code == 409
    assert response.get_json()["message"] == "A ticket cannot be merged into itself."


def test_merge_of_different_requesters_is_409_until_confirmed(client, auth_headers, tickets_service, accounts,
                                                              fake_rpc):
    duplicate = tickets_service.add_ticket(accounts["customer"]["id"], title="Cannot reach VPN")
    target = tickets_service.add_ticket(str(uuid.uuid4()), title="VPN down")
    url, headers = f"{TICKETS}/{duplicate['id']}/merge", auth_headers("agent")

    refused = client.post(url, json={"target_id": target["id"]}, headers=headers)
    confirmed = client.post(url, json={"target_id": target["id"], "confirm_different_requesters": True}, headers=headers)

    assert refused.status_code == 409
    assert refused.get_json()["errors"] == {"confirm_different_requesters": ["Required when the requesters differ."]}
    assert confirmed.status_code == 200, confirmed.get_json()
    assert [c.kwargs["confirm_different_requesters"] for c in fake_rpc.calls_to("tickets", "merge")] == [False, True]


def test_merge_with_a_confirmation_that_is_not_a_boolean_is_422(client, auth_headers, duplicate_and_target, fake_rpc):
    duplicate, target = duplicate_and_target

    response = client.post(f"{TICKETS}/{duplicate['id']}/merge",
                           json={"target_id": target["id"], "confirm_different_requesters": "maybe"},
                           headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "confirm_different_requesters" in response.get_json()["errors"]
    assert fake_rpc.calls_to("tickets", "merge") == []


def test_merge_without_a_valid_target_id_is_422(client, auth_headers, duplicate_and_target):
    duplicate, _ = duplicate_and_target

    response = client.post(f"{TICKETS}/{duplicate['id']}/merge", json={"target_id": "TKT-1"},
                           headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "target_id" in response.get_json()["errors"]


def test_merge_into_an_unknown_ticket_is_404(client, auth_headers, duplicate_and_target):
    duplicate, _ = duplicate_and_target

    response = client.post(f"{TICKETS}/{duplicate['id']}/merge", json={"target_id": str(uuid.uuid4())},
                           headers=auth_headers("agent"))

    assert response.status_code == 404


# -- links ----------------------------------------------------------------------------------------
def test_link_answers_201_with_the_link_and_both_sides_list_it(client, auth_headers, duplicate_and_target):
    child, parent = duplicate_and_target

    response = client.post(f"{TICKETS}/{child['id']}/links", json={"other_id": parent["id"], "kind": "parent"},
                           headers=auth_headers("agent"))

    assert response.status_code == 201
    assert response.get_json()["data"]["kind"] == "parent"
    listed = client.get(f"{TICKETS}/{parent['id']}/links", headers=auth_headers("customer")).get_json()["data"]
    assert [(li["other_id"], li["kind"]) for li in listed["items"]] == [(child["id"], "child")]


def test_link_with_an_unknown_kind_is_422_without_calling_the_service(client, auth_headers, duplicate_and_target,
                                                                       fake_rpc):
    a, b = duplicate_and_target

    response = client.post(f"{TICKETS}/{a['id']}/links", json={"other_id": b["id"], "kind": "sibling"},
                           headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "kind" in response.get_json()["errors"]
    assert fake_rpc.calls_to("tickets", "link") == []


def test_link_twice_is_409(client, auth_headers, duplicate_and_target):
    a, b = duplicate_and_target
    url, body = f"{TICKETS}/{a['id']}/links", {"other_id": b["id"], "kind": "related"}
    assert client.post(url, json=body, headers=auth_headers("agent")).status_code == 201

    response = client.post(url, json=body, headers=auth_headers("agent"))

    assert response.status_code == 409


def test_link_as_a_customer_is_403(client, auth_headers, duplicate_and_target):
    a, b = duplicate_and_target

    response = client.post(f"{TICKETS}/{a['id']}/links", json={"other_id": b["id"], "kind": "related"},
                           headers=auth_headers("customer"))

    assert response.status_code == 403


def test_unlink_removes_the_link_and_a_second_time_is_404(client, auth_headers, duplicate_and_target, tickets_service):
    a, b = duplicate_and_target
    client.post(f"{TICKETS}/{a['id']}/links", json={"other_id": b["id"], "kind": "related"},
                headers=auth_headers("agent"))

    response = client.delete(f"{TICKETS}/{b['id']}/links/{a['id']}", headers=auth_headers("agent"))

    assert response.status_code == 200
    assert tickets_service.link_rows == {}
    assert client.delete(f"{TICKETS}/{b['id']}/links/{a['id']}", headers=auth_headers("agent")).status_code == 404


def test_list_links_of_an_unknown_ticket_is_404(client, auth_headers):
    response = client.get(f"{TICKETS}/{uuid.uuid4()}/links", headers=auth_headers("agent"))

    assert response.status_code == 404
