"""Killing a router process under load loses no effect and doubles none (real processes, real broker, real
database): two automation processes share the work while tickets stream in; each is killed with SIGKILL in
turn (its unacked events go to the other, its half-done rule jobs are finished by a sweep) and restarted.
In the end every ticket has exactly one assignment and exactly one note of the rule, and no agent holds more
than their maximum."""

from __future__ import annotations

import signal
import threading
import time
import uuid

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from helpdesk_common.stack import Stack, free_port, make_env
from helpdesk_common.testing import wait_until

pytestmark = pytest.mark.integration

TICKETS, AGENTS, CAPACITY = 60, 3, 20  # capacity for every ticket, and not one more


def _answers(amqp_uri: str) -> bool:
    try:
        with ServiceRpcProxy("automation", {"AMQP_URI": amqp_uri}, timeout=2) as proxy:
            return proxy.ping() == "pong"
    except Exception:  # not consuming yet: ask again
        return False


@pytest.fixture
def routers(services, automation_db_url, amqp_uri, tmp_path):
    env = make_env(amqp_uri=amqp_uri, database_urls={"automation": automation_db_url}, var_dir=tmp_path,
                   gateway_port=free_port(),
                   extra={"AUTOMATION_SYNC_SECONDS": "0", "BACKLOG_SWEEP_SECONDS": "2", "TIME_RULES_SECONDS": "0",
                          "OUTBOX_POLL_SECONDS": "0.2", "EVENT_RETRY_DELAYS_MS": "100,200"})
    stack = Stack(env=env, log_dir=tmp_path, gateway_port=0)

    def start(name):
        stack.start(name, extra_env={"AUTOMATION_METRICS_PORT": str(free_port())})

    stack.restart = start
    try:
        for name in ("automation", "automation.2"):
            start(name)
        wait_until(lambda: all(_answers(amqp_uri) for _ in range(4)), timeout=60, what="the routers did not answer")
        yield stack
    finally:
        stack.stop_all()


def test_killing_routers_under_load_loses_and_doubles_no_assignment_and_no_rule_action(
        routers, users_rpc, tickets_rpc, admin, customer, amqp_uri, event_probe):
    department = users_rpc.create_department({"name": f"Crash {uuid.uuid4().hex[:6]}"})["id"]
    with ServiceRpcProxy("automation", {"AMQP_URI": amqp_uri}, timeout=15) as automation:
        automation.create_rule({"name": "Note every ticket", "triggers": ["ticket.created"],
                                "actions": [{"type": "add_comment", "body": "Seen by the rule.", "internal": True}]},
                               admin)
        agents = []
        for n in range(AGENTS):
            user = users_rpc.create_user({"email": f"crash-{n}-{uuid.uuid4().hex[:6]}@example.com", "name": f"A{n}",
                                          "password": "Ag3nt-pass", "role": "agent", "department_id": department,
                                          "max_concurrent_tickets": CAPACITY})
            users_rpc.set_availability(user["id"], "online")
            agents.append(user["id"])
        wait_until(lambda: all(automation.workload(a, admin)["availability"] == "online" for a in agents
                           if _known(automation, a, admin)), timeout=30, what="the routers did not see the agents")
        wait_until(lambda: all(_known(automation, a, admin) for a in agents), timeout=30, what="agents unknown")

    assigned, noted = event_probe("tickets", "ticket.assigned"), event_probe("tickets", "ticket.commented")
    created: list[str] = []

    def load():
        for n in range(TICKETS):
            created.append(tickets_rpc.create({"title": f"Carga {n}", "description": "x", "department_id": department},
                                              customer)["id"])
            threading.Event().wait(0.05)

    loader = threading.Thread(target=load)
    loader.start()
    for turn, name in enumerate(("automation", "automation.2"), start=1):  # each killed in turn under load
        wait_until(lambda turn=turn: len(created) >= TICKETS // 3 * turn, timeout=60, what="tickets were not created")
        routers.stop(name, sig=signal.SIGKILL)
        routers.restart(name)
    loader.join(timeout=120)
    assert len(created) == TICKETS

    by_ticket: dict[str, list[str]] = {}
    deadline = time.monotonic() + 120
    while len(by_ticket) < TICKETS and time.monotonic() < deadline:
        event = assigned.wait("ticket.assigned", timeout=max(1.0, deadline - time.monotonic()))
        if event["data"]["ticket"]["id"] in created and event["data"]["actor"]["role"] == "system":
            by_ticket.setdefault(event["data"]["ticket"]["id"], []).append(event["data"]["assignee_id"])
    notes: dict[str, int] = {}
    while sum(notes.values()) < TICKETS and time.monotonic() < deadline:
        event = noted.wait("ticket.commented", timeout=max(1.0, deadline - time.monotonic()))
        if event["data"]["comment"]["author_role"] == "system":
            notes[event["data"]["ticket"]["id"]] = notes.get(event["data"]["ticket"]["id"], 0) + 1

    for ticket_id in created:  # the record, not only the events: one assignment, one note, each
        history = tickets_rpc.history(ticket_id, admin)
        assignments = [h for h in history if h["action"] == "assigned" and h["field"] == "assignee_id"]
        assert len(assignments) == 1, (ticket_id, assignments)
        system_notes = [c for c in tickets_rpc.list_comments(ticket_id, admin) if c["author_role"] == "system"]
        assert len(system_notes) == 1, (ticket_id, system_notes)
    assert sorted(by_ticket) == sorted(created) and all(len(v) == 1 for v in by_ticket.values())
    loads = {agent: sum(1 for v in by_ticket.values() if v == [agent]) for agent in agents}
    assert all(count <= CAPACITY for count in loads.values()), loads


def _known(automation, agent_id, admin) -> bool:
    try:
        automation.workload(agent_id, admin)
    except Exception:  # UserNotFound until the router has the user.created event
        return False
    return True
