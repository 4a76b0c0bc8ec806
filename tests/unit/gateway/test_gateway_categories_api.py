"""``/api/v1/categories``: everyone signed in reads, admins write, the envelope and status mapping."""

from __future__ import annotations

import uuid

import pytest

from helpdesk_contracts.vocabulary import SKILL_MAX, SKILLS_MAX

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


# required skills ----------------------------------------------------------------------------------


def test_create_category_with_required_skills_passes_them_trimmed_and_answers_them(client, auth_headers, fake_rpc):
    body = {"name": "Network", "required_skills": ["  vpn ", "Cisco", "vpn"]}

    response = client.post(CATEGORIES, json=body, headers=auth_headers("admin"))

    assert response.status_code == 201, response.get_json()
    assert fake_rpc.calls_to("tickets", "create_category")[-1].args == ({"name": "Network",
                                                                        "required_skills": ["vpn", "Cisco", "vpn"]},)
    assert response.get_json()["data"]["required_skills"] == ["vpn", "Cisco"]  # the service keeps each once


def test_get_and_list_categories_answer_their_required_skills(client, auth_headers):
    created = _create(client, auth_headers, {"name": "Network", "required_skills": ["vpn"]}).get_json()["data"]
    _create(client, auth_headers, {"name": "Access"})

    one = client.get(f"{CATEGORIES}/{created['id']}", headers=auth_headers("customer")).get_json()["data"]
    listed = client.get(CATEGORIES, headers=auth_headers("agent")).get_json()["data"]["items"]

    assert one["required_skills"] == ["vpn"]
    assert [(c["name"], c["required_skills"]) for c in listed] == [("Access", []), ("Network", ["vpn"])]


def test_update_category_required_skills_as_admin_answers_them(client, auth_headers, fake_rpc):
    created = _create(client, auth_headers).get_json()["data"]

    response = client.put(f"{CATEGORIES}/{created['id']}", json={"required_skills": ["vpn", "linux"]},
                          headers=auth_headers("admin"))

    assert response.status_code == 200
    assert response.get_json()["data"]["required_skills"] == ["vpn", "linux"]
    assert fake_rpc.calls_to("tickets", "update_category")[-1].args[1] == {"required_skills": ["vpn", "linux"]}


@pytest.mark.parametrize("skills", [
    "vpn", None, ["vpn", 42], ["vpn", "   "], ["x" * (SKILL_MAX + 1)], [f"skill {n}" for n in range(SKILLS_MAX + 1)],
], ids=["text", "null", "number", "blank", "too-long", "too-many"])
def test_category_with_bad_required_skills_is_422_naming_the_field_without_calling_the_service(
        client, auth_headers, fake_rpc, skills):
    created = _create(client, auth_headers).get_json()["data"]

    on_create = client.post(CATEGORIES, json={"name": "Other", "required_skills": skills},
                            headers=auth_headers("admin"))
    on_update = client.put(f"{CATEGORIES}/{created['id']}", json={"required_skills": skills},
                           headers=auth_headers("admin"))

    for response in (on_create, on_update):
        assert response.status_code == 422
        assert [key.split(".")[0] for key in response.get_json()["errors"]] == ["required_skills"]  # .1: the item
    assert len(fake_rpc.calls_to("tickets", "create_category")) == 1
    assert fake_rpc.calls_to("tickets", "update_category") == []


def test_setting_required_skills_as_a_supervisor_is_403(client, auth_headers, fake_rpc):
    created = _create(client, auth_headers).get_json()["data"]

    response = client.put(f"{CATEGORIES}/{created['id']}", json={"required_skills": ["vpn"]},
                          headers=auth_headers("supervisor"))

    assert response.status_code == 403
    assert fake_rpc.calls_to("tickets", "update_category") == []


def test_the_api_document_describes_required_skills_with_the_users_skills_limits(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]

    for name in ("CreateCategory", "UpdateCategory"):
        field = schemas[name]["properties"]["required_skills"]
        assert (field["type"], field["maxItems"], field["items"]["maxLength"]) == ("array", SKILLS_MAX, SKILL_MAX)
        assert "skills an agent must hold to be routed this category's tickets" in field["description"]
    assert "skills an agent must hold" in schemas["Category"]["properties"]["required_skills"]["description"]
    assert "required_skills" not in schemas["Category"].get("required", [])
