"""``/api/v1/categories``: everyone signed in reads, admins write, the envelope and status mapping."""

from __future__ import annotations

import uuid

CATEGORIES = "/api/v1/categories"
NETWORK = {"name": "Network", "description": "VPN and Wi-Fi", "default_department_id": str(uuid.uuid4())}


def _create(client, auth_headers, body=NETWORK):
    response = client.post(CATEGORIES, json=body, headers=auth_headers("admin"))
    assert response.status_code == 201, response.get_json()
    return response


def test_create_category_as_admin_answers_201_with_location(client, auth_headers):
    response = _create(client, auth_headers)

    body = response.get_json()
    assert body["success"] is True
    assert body["data"]["name"] == "Network"
    assert response.headers["Location"] == f"{CATEGORIES}/{body['data']['id']}"


def test_create_category_passes_the_body_and_the_actor(client, auth_headers, fake_rpc, accounts):
    _create(client, auth_headers)

    call = fake_rpc.calls_to("tickets", "create_category")[-1]
    assert call.args == (NETWORK,)
    assert call.kwargs["actor"]["id"] == accounts["admin"]["id"]


def test_create_category_as_an_agent_is_403_without_calling_the_service(client, auth_headers, fake_rpc):
    response = client.post(CATEGORIES, json=NETWORK, headers=auth_headers("agent"))

    assert response.status_code == 403
    assert response.get_json()["success"] is False
    assert fake_rpc.calls_to("tickets", "create_category") == []


def test_create_category_with_a_taken_name_is_409(client, auth_headers):
    _create(client, auth_headers)

    response = client.post(CATEGORIES, json={"name": "network"}, headers=auth_headers("admin"))

    assert response.status_code == 409
    assert "already exists" in response.get_json()["message"]


def test_create_category_without_a_name_is_422(client, auth_headers):
    response = client.post(CATEGORIES, json={"description": "x"}, headers=auth_headers("admin"))

    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]


def test_list_categories_as_a_customer_answers_the_whole_list(client, auth_headers):
    _create(client, auth_headers)
    _create(client, auth_headers, {"name": "Access"})

    response = client.get(CATEGORIES, headers=auth_headers("customer"))

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert [c["name"] for c in data["items"]] == ["Access", "Network"]
    assert data["pagination"]["total"] == 2


def test_list_categories_signed_out_is_401(client):
    assert client.get(CATEGORIES).status_code == 401


def test_get_an_unknown_category_is_404(client, auth_headers):
    response = client.get(f"{CATEGORIES}/{uuid.uuid4()}", headers=auth_headers("agent"))

    assert response.status_code == 404


def test_update_category_as_admin_answers_it_changed(client, auth_headers):
    created = _create(client, auth_headers).get_json()["data"]

    response = client.put(f"{CATEGORIES}/{created['id']}", json={"default_department_id": None},
                          headers=auth_headers("admin"))

    assert response.status_code == 200
    assert response.get_json()["data"]["default_department_id"] is None


def test_update_category_with_nothing_to_change_is_422(client, auth_headers):
    created = _create(client, auth_headers).get_json()["data"]

    response = client.put(f"{CATEGORIES}/{created['id']}", json={}, headers=auth_headers("admin"))

    assert response.status_code == 422


def test_delete_category_as_supervisor_is_403_and_as_admin_removes_it(client, auth_headers, tickets_service):
    created = _create(client, auth_headers).get_json()["data"]
    url = f"{CATEGORIES}/{created['id']}"

    assert client.delete(url, headers=auth_headers("supervisor")).status_code == 403
    response = client.delete(url, headers=auth_headers("admin"))

    assert response.status_code == 200
    assert response.get_json()["message"] == "Category deleted."
    assert tickets_service.categories == {}
