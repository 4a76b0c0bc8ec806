"""The router through the real stack (gateway, users, tickets, automation, RabbitMQ): a ticket opened in a
department whose agent is online is assigned to them by the system, the decision says why, the agent's
workload counts it, and a ticket nobody can take waits in the queue until the agent is back online."""

import uuid

import pytest

from helpdesk_common.testing import wait_until
from tests.e2e.conftest import Api, login

pytestmark = pytest.mark.e2e
TICKETS = "/api/v1/tickets"


@pytest.fixture
def team(as_role, stack):
    """A department of its own with one agent, offline again afterwards (an online agent is also given the
    tickets that name no department, so other tests' tickets stay as they open them)."""
    admin = as_role("admin")
    department = admin.post("/api/v1/departments", json={"name": f"Router {uuid.uuid4().hex[:6]}"}).json()["data"]
    email = f"router-{uuid.uuid4().hex[:6]}@example.com"
    agent = admin.post("/api/v1/users", json={"email": email, "name": "Rita Router", "password": "router-pass1",
                                              "role": "agent", "department_id": department["id"],
                                              "max_concurrent_tickets": 1000}).json()["data"]
    client = Api(stack.base_url, login(stack.base_url, email, "router-pass1")["access_token"])
    yield department["id"], agent["id"], client
    client.patch(f"/api/v1/users/{agent['id']}/availability", json={"availability": "offline"})


def test_a_ticket_goes_to_the_online_agent_of_its_department_and_the_next_waits_for_capacity(
        as_role, team, event_probe):
    department_id, agent_id, agent = team
    admin, ana = as_role("admin"), as_role("ana")
    # online: she is also given the backlog of tickets with no department the other tests left (hundreds in a
    # full run); her load counts them, so it is read once she has them all: none left in the queue she sees
    assert agent.patch(f"/api/v1/users/{agent_id}/availability", json={"availability": "online"}).status_code == 200
    wait_until(lambda: agent.get("/api/v1/automation/queue").json()["data"]["pagination"]["total"] == 0, timeout=120,
               what="her queue did not empty")
    probe = event_probe("tickets", "ticket.assigned")

    first = ana.post(TICKETS, json={"title": "Sin red", "description": "Planta 3", "department_id": department_id})
    assert first.status_code == 201, first.text
    first_id = first.json()["data"]["id"]

    event = probe.wait("ticket.assigned", where=lambda e: e["data"]["ticket"]["id"] == first_id, timeout=20)
    assert event["data"]["assignee_id"] == agent_id and event["data"]["actor"]["role"] == "system"
    assert agent.get(f"{TICKETS}/{first_id}").json()["data"]["assignee_id"] == agent_id
    decisions = admin.get("/api/v1/automation/decisions", params={"ticket_id": first_id}).json()["data"]["items"]
    assert [(d["outcome"], d["agent_id"]) for d in decisions] == [("assigned", agent_id)]
    assert "Rita Router" in decisions[0]["reason"]

    # full: her maximum lowered to what she holds
    load = agent.get(f"/api/v1/users/{agent_id}/workload").json()["data"]["working_tickets"]
    assert load >= 1
    assert admin.put(f"/api/v1/users/{agent_id}", json={"max_concurrent_tickets": load}).status_code == 200
    wait_until(lambda: agent.get(f"/api/v1/users/{agent_id}/workload").json()["data"]["at_capacity"], timeout=20,
               what="the router did not see her at capacity")

    second = ana.post(TICKETS, json={"title": "Sin impresora", "description": "Planta 3",
                                     "department_id": department_id}).json()["data"]

    def decided():
        answer = admin.get("/api/v1/automation/decisions", params={"ticket_id": second["id"]})
        return answer.status_code == 200 and answer.json()["data"]["items"]

    wait_until(decided, timeout=20, what="no decision on the second ticket")
    queue = admin.get("/api/v1/automation/queue", params={"department_id": department_id}).json()["data"]["items"]
    assert [(item["position"], item["ticket_id"]) for item in queue] == [(1, second["id"])]
    assert ana.get("/api/v1/automation/queue").status_code == 403

    probe = event_probe("tickets", "ticket.assigned")
    assert agent.patch(f"{TICKETS}/{first_id}/status", json={"status": "resolved"}).status_code == 200
    event = probe.wait("ticket.assigned", where=lambda e: e["data"]["ticket"]["id"] == second["id"], timeout=20)
    assert event["data"]["assignee_id"] == agent_id
