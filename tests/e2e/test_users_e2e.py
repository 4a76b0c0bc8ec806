"""Users, departments and availability through the real gateway."""

import uuid

import pytest

pytestmark = pytest.mark.e2e


def test_admin_creates_an_agent_in_a_department(as_role):
    admin = as_role("admin")
    department = admin.post("/api/v1/departments", json={"name": f"Dept {uuid.uuid4().hex[:6]}",
                                                        "default_sla_hours": 6})
    assert department.status_code == 201, department.text
    dept_id = department.json()["data"]["id"]
    created = admin.post("/api/v1/users", json={"email": f"agent-{uuid.uuid4().hex[:6]}@example.com",
                                                "name": "New Agent", "password": "agent-pass1", "role": "agent",
                                                "department_id": dept_id, "skills": ["vpn"]})
    assert created.status_code == 201, created.text
    fetched = admin.get(f"/api/v1/users/{created.json()['data']['id']}")
    assert fetched.json()["data"]["department_id"] == dept_id


def test_agent_going_online_is_listed_as_available(as_role, stack):
    carlos = as_role("carlos")
    me = carlos.get("/api/v1/auth/me").json()["data"]
    response = carlos.patch(f"/api/v1/users/{me['id']}/availability", json={"availability": "online"})
    try:
        assert response.status_code == 200, response.text
        available = carlos.get("/api/v1/users/agents/available").json()["data"]
        items = available["items"] if isinstance(available, dict) else available
        assert me["id"] in [agent["id"] for agent in items]
    finally:  # an online agent is given new tickets by the router: other tests' tickets stay as they open them
        carlos.patch(f"/api/v1/users/{me['id']}/availability", json={"availability": "offline"})


def test_departments_list_includes_the_seeded_ones(as_role):
    response = as_role("ana").get("/api/v1/departments")
    names = [d["name"] for d in response.json()["data"]["items"]]
    assert "Redes y Servidores" in names


def test_unknown_user_id_is_404(as_role):
    response = as_role("admin").get(f"/api/v1/users/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_unknown_field_is_422_and_creates_nothing(as_role):
    admin = as_role("admin")
    email = f"x-{uuid.uuid4().hex[:6]}@example.com"
    response = admin.post("/api/v1/users", json={"email": email, "name": "X", "password": "agent-pass1",
                                                 "is_superuser": True})
    listed = admin.get("/api/v1/users", params={"q": email}).json()["data"]
    assert response.status_code == 422
    assert listed["pagination"]["total"] == 0


def test_weak_password_is_422(as_role):
    response = as_role("admin").post("/api/v1/users", json={"email": f"w-{uuid.uuid4().hex[:6]}@example.com",
                                                            "name": "W", "password": "short"})
    assert response.status_code == 422
    assert "password" in response.json()["errors"]


def test_deactivated_user_cannot_sign_in(as_role, stack, anon):
    admin = as_role("admin")
    email = f"gone-{uuid.uuid4().hex[:6]}@example.com"
    user = admin.post("/api/v1/users", json={"email": email, "name": "Gone", "password": "gone-pass1"}).json()["data"]
    assert admin.delete(f"/api/v1/users/{user['id']}").status_code in (200, 204)
    response = anon.post("/api/v1/auth/login", json={"email": email, "password": "gone-pass1"})
    assert response.status_code == 401
