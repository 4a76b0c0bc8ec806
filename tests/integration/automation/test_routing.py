"""The router on the real broker next to the real users and tickets services: a new ticket goes to the least
loaded online agent of its department through ``tickets.assign`` (in the ticket's history, by the system),
a ticket nobody can take waits in the backlog and is handed out as soon as capacity frees up, and with two
router processes no agent is given more than their maximum and no ticket is assigned twice."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from nameko.testing.services import entrypoint_waiter

from helpdesk_common.testing import backend, wait_until

pytestmark = pytest.mark.integration

WAIT = 20


@contextlib.contextmanager
def handled(container, method, event_type, **match):
    """Wait until ``container``'s ``method`` has handled an ``event_type`` event whose data matches ``match``."""

    def done(worker_ctx, result, exc_info):
        envelope = worker_ctx.args[0]
        data = envelope.data.get("ticket") or envelope.data.get("user") or envelope.data
        return envelope.type == event_type and all(data.get(k) == v for k, v in match.items())

    with entrypoint_waiter(container, method, callback=done, timeout=WAIT):
        yield


def department(users_rpc):
    return users_rpc.create_department({"name": f"Redes {uuid.uuid4().hex[:8]}"})["id"]


def agent(users_rpc, router, department_id, *, max_tickets=10, online=True, name="Carlos"):
    with handled(router, "on_user", "user.created", role="agent", name=name):
        user = users_rpc.create_user({"email": f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com", "name": name,
                                      "password": "Ag3nt-pass", "role": "agent", "department_id": department_id,
                                      "max_concurrent_tickets": max_tickets})
    if online:
        go_online(users_rpc, router, user["id"])
    return user["id"]


def go_online(users_rpc, router, user_id):
    with handled(router, "on_availability", "agent.availability_changed", user_id=user_id):
        users_rpc.set_availability(user_id, "online")


def open_ticket(tickets_rpc, router, customer, department_id, priority="medium", title="VPN caída"):
    # the router handles ticket.created by routing it; done once that worker is
    with handled(router, "on_ticket", "ticket.created", title=title):
        return tickets_rpc.create({"title": title, "description": "No conecta desde casa", "priority": priority,
                                   "department_id": department_id}, customer)


def assignee(tickets_rpc, admin, ticket):
    return tickets_rpc.get(ticket["id"], admin)["assignee_id"]


def test_a_new_ticket_goes_to_the_least_loaded_online_agent_and_says_why(router, users_rpc, tickets_rpc,
                                                                          automation_rpc, admin, customer):
    dept = department(users_rpc)
    carlos = agent(users_rpc, router, dept, name="Carlos")
    maria = agent(users_rpc, router, dept, name="Maria")
    agent(users_rpc, router, dept, name="Jorge", online=False)

    first = open_ticket(tickets_rpc, router, customer, dept, title="uno")
    second = open_ticket(tickets_rpc, router, customer, dept, title="dos")

    assert {assignee(tickets_rpc, admin, first), assignee(tickets_rpc, admin, second)} == {carlos, maria}
    history = tickets_rpc.history(first["id"], admin)
    assigned = [line for line in history if line["action"] == "assigned" and line["field"] == "assignee_id"]
    assert len(assigned) == 1
    assert assigned[0]["actor_role"] == "system" and assigned[0]["via"] == "automation: least_loaded"
    decisions = automation_rpc.list_decisions(admin, ticket_id=second["id"])["items"]
    assert [d["outcome"] for d in decisions] == ["assigned"]
    assert decisions[0]["reason"].startswith("least loaded in its department")
    passed = {c["name"]: c["passed_over"] for c in decisions[0]["candidates"]}
    assert passed["Jorge"] == "offline, not online"
    assert passed[[n for n in ("Carlos", "Maria") if passed[n] is not None][0]] is not None  # the busier one


def test_the_backlog_waits_for_capacity_in_order_and_drains_when_it_frees_up(router, users_rpc, tickets_rpc,
                                                                               automation_rpc, admin, customer):
    dept = department(users_rpc)
    carlos = agent(users_rpc, router, dept, max_tickets=2, online=False)
    low = open_ticket(tickets_rpc, router, customer, dept, priority="low", title="low")
    urgent = open_ticket(tickets_rpc, router, customer, dept, priority="urgent", title="urgent")
    medium = open_ticket(tickets_rpc, router, customer, dept, priority="medium", title="medium")

    queue = automation_rpc.backlog(admin)
    assert [(item["position"], item["ticket_id"]) for item in queue["items"]] == [
        (1, urgent["id"]), (2, medium["id"]), (3, low["id"])]
    assert automation_rpc.list_decisions(admin, ticket_id=low["id"])["items"][0]["outcome"] == "queued"

    go_online(users_rpc, router, carlos)  # drains: two fit

    assert assignee(tickets_rpc, admin, urgent) == carlos and assignee(tickets_rpc, admin, medium) == carlos
    assert assignee(tickets_rpc, admin, low) is None
    assert [item["ticket_id"] for item in automation_rpc.backlog(admin)["items"]] == [low["id"]]
    load = automation_rpc.workload(carlos, admin)
    assert (load["working_tickets"], load["at_capacity"]) == (2, True)

    carlos_actor = {"id": carlos, "role": "agent", "department_id": dept, "organization_id": None}
    with handled(router, "on_ticket", "ticket.status_changed", id=urgent["id"]):
        tickets_rpc.change_status(urgent["id"], "resolved", carlos_actor)

    assert assignee(tickets_rpc, admin, low) == carlos
    assert automation_rpc.backlog(admin)["total"] == 0


def test_manual_only_departments_are_left_to_people(router, users_rpc, tickets_rpc, automation_rpc, admin, customer):
    dept = department(users_rpc)
    agent(users_rpc, router, dept)
    automation_rpc.set_strategy(dept, "manual_only", admin)

    ticket = open_ticket(tickets_rpc, router, customer, dept)

    assert assignee(tickets_rpc, admin, ticket) is None
    assert automation_rpc.backlog(admin)["total"] == 0
    assert automation_rpc.list_strategies(admin)["items"][0]["strategy"] == "manual_only"


@pytest.mark.skipif(backend() != "postgresql", reason="replicas need PostgreSQL: SQLite takes one writer process "
                                                    "(README), and two containers in one test process would "
                                                    "block each other's hub on its lock")
def test_two_router_processes_never_exceed_capacity_nor_assign_a_ticket_twice(
        router, service_container, automation_db_url, users_rpc, tickets_rpc, automation_rpc, admin, customer):
    dept = department(users_rpc)
    limits = {agent(users_rpc, router, dept, max_tickets=most, name=name): most
              for name, most in (("Carlos", 3), ("Maria", 2))}
    service_container("automation", DATABASE_URL=automation_db_url)  # a replica on the same database, same queues
    opened = [tickets_rpc.create({"title": f"t{n}", "description": "x", "department_id": dept}, customer)
              for n in range(10)]

    def settled():  # every ticket decided, five in the backlog (the routers announce no decision)
        decided = sum(len(automation_rpc.list_decisions(admin, ticket_id=t["id"])["items"]) > 0 for t in opened)
        return decided == len(opened) and automation_rpc.backlog(admin)["total"] == 5

    wait_until(settled, timeout=WAIT, what="the routers did not settle")

    owners = [assignee(tickets_rpc, admin, ticket) for ticket in opened]
    for agent_id, most in limits.items():
        assert owners.count(agent_id) == most
    assert owners.count(None) == 5
    for ticket in opened:
        lines = [line for line in tickets_rpc.history(ticket["id"], admin)
                 if line["action"] == "assigned" and line["field"] == "assignee_id"]
        assert len(lines) == (1 if assignee(tickets_rpc, admin, ticket) else 0)


def test_a_ticket_of_a_category_needing_skills_goes_to_an_agent_holding_them(router, users_rpc, tickets_rpc,
                                                                              automation_rpc, admin, customer):
    dept = department(users_rpc)
    category = tickets_rpc.create_category({"name": f"VPN {uuid.uuid4().hex[:6]}", "required_skills": ["vpn"]}, admin)
    with handled(router, "on_user", "user.created", name="Generalist"):
        users_rpc.create_user({"email": f"gen-{uuid.uuid4().hex[:8]}@example.com", "name": "Generalist",
                               "password": "Ag3nt-pass", "role": "agent", "department_id": dept})
    generalist = users_rpc.list_users(filters={"q": "Generalist"})["items"][0]["id"]
    go_online(users_rpc, router, generalist)
    with handled(router, "on_user", "user.created", name="Expert"):
        expert = users_rpc.create_user({"email": f"exp-{uuid.uuid4().hex[:8]}@example.com", "name": "Expert",
                                        "password": "Ag3nt-pass", "role": "agent", "department_id": dept,
                                        "skills": ["VPN"]})["id"]
    go_online(users_rpc, router, expert)

    with handled(router, "on_ticket", "ticket.created", title="Sin VPN"):
        ticket = tickets_rpc.create({"title": "Sin VPN", "description": "x", "department_id": dept,
                                     "category": category["name"]}, customer)

    assert ticket["required_skills"] == ["vpn"] and assignee(tickets_rpc, admin, ticket) == expert
    [decision] = automation_rpc.list_decisions(admin, ticket_id=ticket["id"])["items"]
    assert {c["name"]: c["passed_over"] for c in decision["candidates"]}["Generalist"] == "lacks skills: vpn"
