"""``/api/v1/departments`` and ``/api/v1/organizations``."""

from __future__ import annotations

import uuid

import pytest

DEPARTMENTS = "/api/v1/departments"
ORGANIZATIONS = "/api/v1/organizations"


@pytest.fixture
def department(users_service):
    return users_service.create_department({"name": "Redes y Servidores"})


@pytest.fixture
def organization(users_service):
    return users_service.create_organization({"name": "Acme", "domain": "acme.example"})


def test_list_departments_is_open_to_any_signed_in_user(client, auth_headers, department):
    response = client.get(DEPARTMENTS, headers=auth_headers("customer"))

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert [item["name"] for item in data["items"]] == ["Redes y Servidores"]
    assert data["pagination"]["total"] == 1


def test_get_department_with_an_unknown_id_is_404(client, auth_headers):
    response = client.get(f"{DEPARTMENTS}/{uuid.uuid4()}", headers=auth_headers("agent"))

    assert response.status_code == 404
    assert response.get_json()["message"] == "Department not found."


def test_create_department_is_403_for_a_supervisor(client, auth_headers):
    assert client.post(DEPARTMENTS, json={"name": "Hardware"}, headers=auth_headers("supervisor")).status_code == 403


def test_create_department_answers_201_with_its_location(client, auth_headers):
    response = client.post(
        DEPARTMENTS,
        json={"name": "Hardware y Impresoras", "default_sla_hours": 8, "notification_email": "hw@example.com"},
        headers=auth_headers("admin"),
    )

    department = response.get_json()["data"]
    assert response.status_code == 201
    assert department["default_sla_hours"] == 8
    assert response.headers["Location"] == f"/api/v1/departments/{department['id']}"


def test_create_department_with_a_taken_name_is_409(client, auth_headers, department):
    response = client.post(DEPARTMENTS, json={"name": "redes y servidores"}, headers=auth_headers("admin"))

    assert response.status_code == 409
    assert response.get_json()["errors"] == {"name": ["The name is taken."]}


def test_update_department_changes_the_description(client, auth_headers, department):
    response = client.put(
        f"{DEPARTMENTS}/{department['id']}", json={"description": "Network team"}, headers=auth_headers("admin")
    )

    assert response.status_code == 200
    assert response.get_json()["data"]["description"] == "Network team"


def test_delete_department_with_members_is_409(client, auth_headers, department, users_service):
    users_service.add_user(email="member@example.com", password="x", role="agent", department_id=department["id"])

    response = client.delete(f"{DEPARTMENTS}/{department['id']}", headers=auth_headers("admin"))

    assert response.status_code == 409
    assert response.get_json()["message"] == "The department still has members."


def test_delete_department_answers_an_empty_success(client, auth_headers, department):
    response = client.delete(f"{DEPARTMENTS}/{department['id']}", headers=auth_headers("admin"))

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": None, "message": "Department deleted."}


def test_list_organizations_is_403_for_a_customer(client, auth_headers):
    assert client.get(ORGANIZATIONS, headers=auth_headers("customer")).status_code == 403


def test_list_organizations_is_open_to_agents(client, auth_headers, organization):
    response = client.get(ORGANIZATIONS, headers=auth_headers("agent"))

    assert response.status_code == 200
    assert response.get_json()["data"]["items"][0]["domain"] == "acme.example"


def test_create_organization_lowercases_the_domain(client, auth_headers):
    response = client.post(
        ORGANIZATIONS, json={"name": "Globex", "domain": " Globex.Example "}, headers=auth_headers("admin")
    )

    assert response.status_code == 201
    assert response.get_json()["data"]["domain"] == "globex.example"


def test_organization_vip_is_false_unless_set_and_changes_with_put(client, auth_headers):
    headers = auth_headers("admin")
    plain = client.post(ORGANIZATIONS, json={"name": "Globex"}, headers=headers).get_json()["data"]
    created = client.post(ORGANIZATIONS, json={"name": "Initech", "vip": True}, headers=headers).get_json()["data"]

    response = client.put(f"{ORGANIZATIONS}/{created['id']}", json={"vip": False}, headers=headers)

    assert (plain["vip"], created["vip"]) == (False, True)
    assert response.status_code == 200
    assert response.get_json()["data"]["vip"] is False
    assert client.get(f"{ORGANIZATIONS}/{created['id']}", headers=headers).get_json()["data"]["vip"] is False


def test_create_organization_with_an_invalid_domain_is_422(client, auth_headers):
    response = client.post(ORGANIZATIONS, json={"name": "Bad", "domain": "not a domain"}, headers=auth_headers("admin"))

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"domain": ["Not a valid domain name."]}


def test_get_organization_with_an_unknown_id_is_404(client, auth_headers):
    assert client.get(f"{ORGANIZATIONS}/{uuid.uuid4()}", headers=auth_headers("admin")).status_code == 404


def test_delete_organization_is_403_for_an_agent(client, auth_headers, organization):
    assert client.delete(f"{ORGANIZATIONS}/{organization['id']}", headers=auth_headers("agent")).status_code == 403


def test_department_keeps_fractional_sla_hours(client, auth_headers):
    response = client.post(
        DEPARTMENTS, json={"name": "Urgent", "default_sla_hours": 0.5}, headers=auth_headers("admin")
    )

    assert response.status_code == 201
    assert response.get_json()["data"]["default_sla_hours"] == 0.5


@pytest.mark.parametrize("path", [DEPARTMENTS, ORGANIZATIONS])
def test_writes_pass_the_caller_as_actor(client, auth_headers, accounts, fake_rpc, path):
    kind = path.rsplit("/", 1)[-1][:-1]
    headers = auth_headers("admin")

    created = client.post(path, json={"name": "Hardware"}, headers=headers).get_json()["data"]
    client.put(f"{path}/{created['id']}", json={"name": "Impresoras"}, headers=headers)
    client.delete(f"{path}/{created['id']}", headers=headers)

    admin_id = accounts["admin"]["id"]
    for verb in ("create", "update", "delete"):
        [call] = fake_rpc.calls_to("users", f"{verb}_{kind}")
        assert call.kwargs == {"actor": admin_id}
