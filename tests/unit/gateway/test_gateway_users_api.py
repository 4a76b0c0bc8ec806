"""``/api/v1/users``: who may list, read, create, change and deactivate users."""

from __future__ import annotations

import uuid

import pytest

USERS = "/api/v1/users"
NEW_USER = {"email": "new.agent@example.com", "name": "New Agent", "password": "S3cure-pass", "role": "agent"}


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_list_users_is_403_below_supervisor(client, auth_headers, role):
    assert client.get(USERS, headers=auth_headers(role)).status_code == 403


def test_list_users_answers_items_and_pagination(client, auth_headers):
    response = client.get(f"{USERS}?limit=3&page=1", headers=auth_headers("supervisor"))

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert len(data["items"]) == 3
    assert data["pagination"] == {"page": 1, "limit": 3, "total": 4, "total_pages": 2, "total_exact": True}


def test_list_users_passes_only_the_given_filters(client, auth_headers, fake_rpc):
    client.get(f"{USERS}?role=agent&q=pers", headers=auth_headers("admin"))

    call = fake_rpc.calls[-1]
    assert (call.method, call.args) == ("list_users", ({"role": "agent", "q": "pers"}, 1, 20))


def test_get_user_with_an_unknown_id_is_404(client, auth_headers):
    response = client.get(f"{USERS}/{uuid.uuid4()}", headers=auth_headers("admin"))

    assert response.status_code == 404
    assert response.get_json() == {"success": False, "message": "User not found.", "errors": {}}


def test_get_user_with_a_malformed_id_is_404(client, auth_headers):
    assert client.get(f"{USERS}/not-a-uuid", headers=auth_headers("admin")).status_code == 404


def test_get_user_lets_a_customer_read_themselves(client, auth_headers, accounts):
    response = client.get(f"{USERS}/{accounts['customer']['id']}", headers=auth_headers("customer"))

    assert response.status_code == 200


def test_get_user_hides_other_users_from_a_customer_with_404(client, auth_headers, accounts, fake_rpc):
    response = client.get(f"{USERS}/{accounts['agent']['id']}", headers=auth_headers("customer"))

    assert response.status_code == 404
    assert fake_rpc.calls == []


def test_get_user_lets_an_agent_read_anyone(client, auth_headers, accounts):
    response = client.get(f"{USERS}/{accounts['customer']['id']}", headers=auth_headers("agent"))

    assert response.status_code == 200
    assert response.get_json()["data"]["email"] == "customer@example.com"


def test_create_user_answers_201_with_its_location(client, auth_headers):
    response = client.post(USERS, json=NEW_USER, headers=auth_headers("admin"))

    user = response.get_json()["data"]
    assert response.status_code == 201
    assert user["role"] == "agent"
    assert response.headers["Location"] == f"/api/v1/users/{user['id']}"


def test_create_user_is_403_for_a_supervisor(client, auth_headers):
    assert client.post(USERS, json=NEW_USER, headers=auth_headers("supervisor")).status_code == 403


def test_create_user_with_a_taken_email_is_409(client, auth_headers):
    response = client.post(USERS, json={**NEW_USER, "email": "customer@example.com"}, headers=auth_headers("admin"))

    assert response.status_code == 409


def test_create_user_with_an_unknown_department_is_422_naming_the_field(client, auth_headers):
    payload = {**NEW_USER, "department_id": str(uuid.uuid4())}

    response = client.post(USERS, json=payload, headers=auth_headers("admin"))

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"department_id": ["No such department."]}


def test_update_user_changes_the_given_fields(client, auth_headers, accounts):
    user_id = accounts["agent"]["id"]

    response = client.put(f"{USERS}/{user_id}", json={"skills": ["vpn", "printers"]}, headers=auth_headers("admin"))

    assert response.status_code == 200
    assert response.get_json()["data"]["skills"] == ["vpn", "printers"]


def test_deactivate_user_marks_the_user_inactive(client, auth_headers, accounts):
    response = client.delete(f"{USERS}/{accounts['agent']['id']}", headers=auth_headers("admin"))

    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "inactive"


def test_deactivate_user_refuses_the_admin_themselves_with_409(client, auth_headers, accounts, fake_rpc):
    response = client.delete(f"{USERS}/{accounts['admin']['id']}", headers=auth_headers("admin"))

    assert response.status_code == 409
    assert "deactivate_user" not in fake_rpc.methods_called()


def test_change_role_sets_the_new_role(client, auth_headers, accounts):
    response = client.patch(
        f"{USERS}/{accounts['agent']['id']}/role", json={"role": "supervisor"}, headers=auth_headers("admin")
    )

    assert response.status_code == 200
    assert response.get_json()["data"]["role"] == "supervisor"


def test_change_role_refuses_the_admins_own_role_with_409(client, auth_headers, accounts):
    response = client.patch(
        f"{USERS}/{accounts['admin']['id']}/role", json={"role": "agent"}, headers=auth_headers("admin")
    )

    assert response.status_code == 409


def test_set_availability_lets_an_agent_set_their_own(client, auth_headers, accounts):
    response = client.patch(
        f"{USERS}/{accounts['agent']['id']}/availability",
        json={"availability": "online"},
        headers=auth_headers("agent"),
    )

    assert response.status_code == 200
    assert response.get_json()["data"]["availability"] == "online"


def test_set_availability_of_another_agent_is_403_for_an_agent(client, auth_headers, accounts, users_service):
    other = users_service.add_user(email="other.agent@example.com", password="x", role="agent")

    response = client.patch(
        f"{USERS}/{other['id']}/availability", json={"availability": "online"}, headers=auth_headers("agent")
    )

    assert response.status_code == 403


def test_set_availability_lets_a_supervisor_set_an_agents(client, auth_headers, accounts):
    response = client.patch(
        f"{USERS}/{accounts['agent']['id']}/availability",
        json={"availability": "away"},
        headers=auth_headers("supervisor"),
    )

    assert response.status_code == 200


def test_set_availability_is_403_for_a_customer(client, auth_headers, accounts):
    response = client.patch(
        f"{USERS}/{accounts['customer']['id']}/availability",
        json={"availability": "online"},
        headers=auth_headers("customer"),
    )

    assert response.status_code == 403


def test_available_agents_is_not_shadowed_by_the_user_id_route(client, auth_headers, fake_rpc):
    response = client.get(f"{USERS}/agents/available", headers=auth_headers("customer"))

    assert response.status_code == 200
    assert fake_rpc.methods_called() == ["list_available_agents"]


def test_available_agents_lists_online_agents_without_contact_details(client, auth_headers, users_service):
    users_service.add_user(email="online@example.com", password="x", role="agent", availability="online", phone="555")

    response = client.get(f"{USERS}/agents/available", headers=auth_headers("customer"))

    (agent,) = response.get_json()["data"]["items"]
    assert agent["open_slots"] == 10
    assert "phone" not in agent and "email" not in agent


def test_available_agents_passes_the_filters(client, auth_headers, fake_rpc):
    department_id = str(uuid.uuid4())

    client.get(f"{USERS}/agents/available?department_id={department_id}&skill=vpn", headers=auth_headers("agent"))

    assert fake_rpc.calls[-1].kwargs == {"department_id": department_id, "skill": "vpn"}
