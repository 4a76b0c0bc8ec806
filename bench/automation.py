"""Routing figures for ``make bench``: how long the router takes to decide, with 500 agents and 10 000
working tickets in its read model, and to drain a 1 000-ticket backlog when 50 agents come online.

Measured on a database of its own, in this process, through the service's own handlers and unit of work
(``handlers.route_ticket``, ``handlers.drain_backlog``): the routing turn, the reads, the choice, the
decision's row and the commit. The tickets service's ``assign`` is answered in process (the RPC round trip,
about a bare RPC of the foundation figures, is not in these numbers)."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import SystemClock
from helpdesk_common.db import make_engine
from helpdesk_contracts.vocabulary import CONCURRENT_TICKETS_MAX, PRIORITIES
from services.automation import handlers
from services.automation.adapters.orm import agents, tickets
from services.automation.adapters.uow import AutomationUnitOfWork
from services.automation.domain.model import PRIORITY_RANK

AGENTS, DEPARTMENTS, WORKING_TICKETS, DECISIONS, BACKLOG, NEWCOMERS = 500, 10, 10_000, 300, 1_000, 50


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


class _Desk:
    """The tickets service's ``assign`` answered in process: the ticket, one version on, with its agent."""

    def __init__(self, uow_factory):
        self._open = uow_factory

    def assign(self, ticket_id: str, assignee_id: str, *, expected_version: int, via: str) -> dict[str, Any]:
        return {**self.snapshots[ticket_id], "assignee_id": assignee_id, "version": expected_version + 1,
                "status": "open"}

    def get(self, ticket_id):  # never asked: nothing changes behind the router's back here
        return self.snapshots.get(ticket_id)

    def act(self, method, ticket_id, *, via, command_id, **arguments):  # a rule's action, answered in process
        self.acted += 1
        return {**self.snapshots.get(ticket_id, {}), "version": 2}

    acted = 0

    def working(self):
        return iter(())

    snapshots: dict[str, dict[str, Any]] = {}


class _Directory:
    def get_user(self, user_id):
        return None

    def department_exists(self, department_id):
        return True

    def get_organization(self, organization_id):
        return None

    def staff(self):
        return iter(())


def _ticket_row(department: str, *, assignee: str | None, now: datetime, age: int) -> dict[str, Any]:
    priority = random.choice(PRIORITIES)
    return {"id": str(uuid.uuid4()), "number": f"TKT-{random.randint(1, 999999):06d}", "title": "bench",
            "status": "open" if assignee else "new", "priority": priority, "priority_rank": PRIORITY_RANK[priority],
            "department_id": department, "category": None, "assignee_id": assignee, "requester_id": str(uuid.uuid4()),
            "created_at": now - timedelta(seconds=age), "version": 1, "deleted": False, "working": True,
            "sla_due_at": None, "queued_since": None, "updated_at": now}


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: row[k] for k in ("id", "number", "title", "status", "priority", "department_id", "category",
                                    "assignee_id", "requester_id", "version")},
            "created_at": row["created_at"].isoformat()}


def run(url: str) -> dict[str, float]:
    random.seed(11)
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    def open_uow() -> AutomationUnitOfWork:
        return AutomationUnitOfWork(factory, producer="automation", clock=SystemClock())

    now = datetime.now(UTC)
    departments = [str(uuid.uuid4()) for _ in range(DEPARTMENTS)]
    staff = [{"id": str(uuid.uuid4()), "name": f"Agent {n}", "role": "agent", "status": "active",
              "availability": "online", "department_id": departments[n % DEPARTMENTS], "skills": [],
              "max_concurrent_tickets": 40, "version": 1, "availability_as_of": now, "last_assigned_at": None,
              "updated_at": now} for n in range(AGENTS + NEWCOMERS)]
    newcomers = staff[AGENTS:]
    for agent in newcomers:  # the agents who come online for the drain: offline, in one department
        agent.update(availability="offline", department_id=departments[0])
    working = [_ticket_row(staff[n % AGENTS]["department_id"], assignee=staff[n % AGENTS]["id"], now=now, age=n)
               for n in range(WORKING_TICKETS)]
    with engine.begin() as conn:
        conn.execute(insert(agents), staff)
        conn.execute(insert(tickets), working)

    desk, directory = _Desk(open_uow), _Directory()
    fresh = [_ticket_row(random.choice(departments), assignee=None, now=now, age=0) for _ in range(DECISIONS)]
    with engine.begin() as conn:
        conn.execute(insert(tickets), fresh)
    desk.snapshots = {row["id"]: _snapshot(row) for row in fresh}
    decision_times = []
    for row in fresh:
        started = time.perf_counter()
        with open_uow() as uow:
            routed = handlers.route_ticket(row["id"], uow=uow, desk=desk, directory=directory, trigger="bench")
        decision_times.append(time.perf_counter() - started)
        assert routed.outcome == "assigned", routed
    print(f"routing decision ({AGENTS} agents, {WORKING_TICKETS} working tickets, {DECISIONS} decisions, assign "
          f"RPC answered in process): p50 {pct(decision_times, 50) * 1000:.2f} ms, "
          f"p99 {pct(decision_times, 99) * 1000:.2f} ms   (target p99 ≤ 5 ms)")

    # a backlog nobody can take: the department's own agents are made full, the newcomers are offline
    with engine.begin() as conn:
        conn.execute(agents.update().where(agents.c.department_id == departments[0],
                                           agents.c.availability == "online").values(max_concurrent_tickets=0))
    backlog = [_ticket_row(departments[0], assignee=None, now=now, age=n) for n in range(BACKLOG)]
    with engine.begin() as conn:
        conn.execute(insert(tickets), backlog)
    desk.snapshots.update({row["id"]: _snapshot(row) for row in backlog})
    with engine.begin() as conn:
        conn.execute(agents.update().where(agents.c.id.in_([a["id"] for a in newcomers]))
                     .values(availability="online"))
    started = time.perf_counter()
    assigned = handlers.drain_backlog(open_uow, desk=desk, directory=directory, trigger="bench")
    drain = time.perf_counter() - started
    print(f"backlog drain ({BACKLOG} tickets, {NEWCOMERS} agents coming online with room for 40 each): "
          f"{assigned} assigned in {drain:.2f} s   (target ≤ 5 s; assign RPC answered in process)")
    figures = {"routing_decision_p50_ms": pct(decision_times, 50) * 1000,
               "routing_decision_p99_ms": pct(decision_times, 99) * 1000,
               "backlog_drain_seconds": drain, "backlog_drained": assigned}
    figures.update(_rules(engine, open_uow, desk, directory, departments))
    engine.dispose()
    return figures


RULES, RULE_EVENTS, TIME_TICKETS, TIME_RULES = 200, 2_000, 100_000, 5


def _rules(engine, open_uow, desk, directory, departments) -> dict[str, float]:
    """Rule evaluation: ticket.created events through the rules (queued with the claim, run, recorded) with
    200 enabled rules, one in twenty matching; and one scan of the time rules over 100 000 open tickets."""
    from helpdesk_contracts.envelope import Envelope

    admin = {"id": str(uuid.uuid4()), "role": "admin", "department_id": None, "organization_id": None}
    words = [f"word{n}" for n in range(RULES)]
    for n, word in enumerate(words):
        condition = {"all": [{"field": "title", "operator": "contains", "value": word},
                             {"field": "priority", "operator": "in", "value": ["high", "urgent"]},
                             {"any": [{"field": "tags", "operator": "not_in", "value": ["spam"]},
                                      {"field": "category", "operator": "is_empty", "value": True}]}]}
        with open_uow() as uow:
            handlers.create_rule({"name": f"Rule {n}", "triggers": ["ticket.created", "ticket.updated"],
                                  "conditions": condition, "actions": [{"type": "add_tag", "tag": word}]},
                                 admin, uow=uow, directory=directory)
    now = datetime.now(UTC)
    events = []
    for n in range(RULE_EVENTS):
        row = _ticket_row(random.choice(departments), assignee=None, now=now, age=0)
        row.update(title=f"{words[n % RULES] if n % 20 == 0 else 'nothing'} here", priority="high")
        snapshot = {**_snapshot(row), "tags": [], "source": "web", "updated_at": now.isoformat()}
        desk.snapshots[row["id"]] = snapshot
        events.append(Envelope.new("ticket.created", {"ticket": snapshot, "actor": {"id": None, "role": "customer"}},
                                   producer="tickets", occurred_at=now))
    from services.automation.domain.rules import Facts

    with open_uow() as uow:
        enabled = [rule for rule in uow.rules.enabled() if rule.fires_on("ticket.created")]
    started = time.perf_counter()
    matched = 0
    for envelope in events:  # the evaluation alone: every enabled rule's conditions on the event's ticket
        facts = Facts(ticket=envelope.data["ticket"], now=now)
        matched += sum(1 for rule in enabled if rule.predicate(facts))
    evaluation = RULE_EVENTS / (time.perf_counter() - started)
    print(f"rules: evaluating {len(enabled)} enabled rules on each of {RULE_EVENTS} ticket events: {evaluation:.0f} "
          f"events/s in one process, {matched} matches   (target ≥ 2000/s)")
    started = time.perf_counter()
    for envelope in events:
        with open_uow() as uow:
            queued = handlers.queue_rules(envelope, uow=uow)
            handlers.track_ticket(envelope, uow=uow)
        if queued:
            handlers.run_rule_job(envelope.id, open_uow, desk=desk, directory=directory)
    elapsed = time.perf_counter() - started
    rate = RULE_EVENTS / elapsed
    print(f"rules: the same events handled whole (the read model's row, the job of each that may match, its run "
          f"recorded and its action answered in process, on the service's database): {rate:.0f} events/s")

    # time rules over 100 000 open tickets, nothing due but the ones made so
    with engine.begin() as conn:
        conn.execute(tickets.delete())
        rows = [_ticket_row(random.choice(departments), assignee=None, now=now, age=n) for n in range(TIME_TICKETS)]
        for row in rows:
            row.update(status="waiting", working=False, activity_at=now - timedelta(minutes=random.randint(0, 600)))
        due = random.sample(range(TIME_TICKETS), 100)
        for index in due:
            rows[index]["activity_at"] = now - timedelta(days=2)
        for start in range(0, TIME_TICKETS, 5000):
            conn.execute(insert(tickets), rows[start:start + 5000])
    for n in range(TIME_RULES):
        with open_uow() as uow:
            handlers.create_rule({"name": f"Time {n}", "triggers": ["time"],
                                  "conditions": {"all": [
                                      {"field": "status", "operator": "equals", "value": "waiting"},
                                      {"field": "minutes_without_activity", "operator": "greater_than",
                                       "value": 1440 + n}]},
                                  "actions": [{"type": "add_tag", "tag": f"stale{n}"}]},
                                 admin, uow=uow, directory=directory)
    desk.acted = 0
    started = time.perf_counter()
    fired = handlers.run_time_rules(open_uow, desk=desk, directory=directory)
    scan = time.perf_counter() - started
    again = handlers.run_time_rules(open_uow, desk=desk, directory=directory)
    interval = 30
    print(f"time rules: one scan of {TIME_RULES} rules over {TIME_TICKETS} open tickets took {scan:.2f} s, "
          f"{fired} firings of {len(due) * TIME_RULES} due (a second scan: {again}); worst lateness about "
          f"{interval + scan:.0f} s (every {interval} s + the scan)   (target p99 ≤ 60 s, none missed or doubled)")
    return {"rule_evaluations_per_second": evaluation, "rule_events_per_second": rate, "time_rule_scan_seconds": scan, "time_rule_firings": fired,
            "time_rule_firings_again": again}


# -- through the running stack ----------------------------------------------------------------------

LIVE_AGENTS, LATENCY_RATE, LATENCY_SECONDS = 20, 100.0, 15.0


def run_live(base: str, amqp_uri: str, stack, args) -> dict[str, float]:
    """The router in the running stack: its drain of the waiting tickets through the real broker, the time
    from ``ticket.created`` to ``ticket.assigned`` at 100 creates/s, and create throughput with it assigning
    every ticket next to the same with it stopped."""
    import threading

    import requests
    from kombu import Connection, Exchange, Queue

    from bench.tickets import login, measure_creates

    admin = login(base, "admin@example.com", "admin123")
    headers = {"Authorization": f"Bearer {admin['access_token']}"}
    department = requests.post(f"{base}/api/v1/departments", json={"name": f"Bench {uuid.uuid4().hex[:6]}"},
                               headers=headers, timeout=30).json()["data"]["id"]
    for n in range(LIVE_AGENTS):  # room for all the bench creates (20 000): every ticket is assigned
        user = requests.post(f"{base}/api/v1/users", headers=headers, timeout=30, json={
            "email": f"bench-agent-{n}-{uuid.uuid4().hex[:6]}@example.com", "name": f"Bench agent {n}",
            "password": "bench-agent-123", "role": "agent", "department_id": department,
            "max_concurrent_tickets": CONCURRENT_TICKETS_MAX}).json()["data"]
        requests.patch(f"{base}/api/v1/users/{user['id']}/availability", json={"availability": "online"},
                       headers=headers, timeout=30)

    def waiting() -> int:
        answer = requests.get(f"{base}/api/v1/automation/queue", params={"limit": 1}, headers=headers, timeout=30)
        return answer.json()["data"]["pagination"]["total"]

    started, before = time.monotonic(), None
    while (left := waiting()) > 0 and time.monotonic() - started < 600:
        before = before if before is not None else left
        time.sleep(0.5)
    drained = time.monotonic() - started
    if before:
        print(f"router drain through the broker: {before} waiting tickets (the bench's creates) to {LIVE_AGENTS} "
              f"agents coming online in {drained:.1f} s ({before / drained:.0f} assignments/s)")

    # ticket.created -> ticket.assigned, both as a consumer of the tickets events receives them
    seen: dict[str, dict[str, float]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    queue_name = f"bench-assign-{uuid.uuid4().hex[:8]}"

    def consume() -> None:
        with Connection(amqp_uri) as conn:
            exchange = Exchange("tickets.events", type="topic", durable=True)
            queues = [Queue(queue_name, exchange=exchange, routing_key=key, durable=False, auto_delete=True)
                      for key in ("ticket.created", "ticket.assigned")]

            def on_message(body, message):
                kind = body.get("type")
                ticket_id = body["data"]["ticket"]["id"]
                with lock:
                    seen.setdefault(ticket_id, {}).setdefault(kind, time.perf_counter())
                message.ack()

            with conn.Consumer(queues, callbacks=[on_message], accept=["json"]):
                ready.set()
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.5)
                    except TimeoutError:
                        continue

    ready = threading.Event()
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    ready.wait(10)
    session = requests.Session()
    customer = login(base, "ana@example.com", "ana123")
    session.headers["Authorization"] = f"Bearer {customer['access_token']}"
    created: list[str] = []
    gap, next_at, ends = 1.0 / LATENCY_RATE, time.perf_counter(), time.perf_counter() + LATENCY_SECONDS

    def create() -> None:
        answer = session.post(f"{base}/api/v1/tickets", json={"title": "Bench latency", "description": "x",
                                                              "department_id": department}, timeout=30)
        if answer.status_code == 201:
            with lock:
                created.append(answer.json()["data"]["id"])

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        while next_at < ends:
            pool.submit(create)
            next_at += gap
            time.sleep(max(0.0, next_at - time.perf_counter()))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            done = sum(1 for t in created if "ticket.assigned" in seen.get(t, {}))
        if done == len(created):
            break
        time.sleep(0.2)
    stop.set()
    with lock:
        latencies = [seen[t]["ticket.assigned"] - seen[t]["ticket.created"] for t in created
                     if "ticket.created" in seen.get(t, {}) and "ticket.assigned" in seen.get(t, {})]
    print(f"ticket.created -> ticket.assigned through the broker ({len(created)} tickets at {LATENCY_RATE:.0f}/s, "
          f"{len(latencies)} assigned): p50 {pct(latencies, 50) * 1000:.1f} ms, p99 {pct(latencies, 99) * 1000:.1f} ms"
          f"   (target p99 ≤ 100 ms)")

    requests.post(f"{base}/api/v1/auth/register", json={"email": "bench.api@example.com", "name": "Bench API",
                                                         "password": "bench-api-123"}, timeout=30)  # taken: fine
    api = login(base, "bench.api@example.com", "bench-api-123")
    with_router = measure_creates(base, api["access_token"], stack, clients=16, seconds=args.seconds)
    stack.stop("automation")
    without = measure_creates(base, api["access_token"], stack, clients=16, seconds=args.seconds)
    stack.start("automation")
    ratio = with_router["rate"] / without["rate"] if without.get("rate") else float("nan")
    print(f"ticket creates (16 clients) with the router assigning every ticket: {with_router['rate']:.1f}/s, "
          f"with it stopped: {without['rate']:.1f}/s, x{ratio:.2f}   (target: at least x0.75)")
    return {"assign_latency_p50_ms": pct(latencies, 50) * 1000, "assign_latency_p99_ms": pct(latencies, 99) * 1000,
            "creates_with_router": with_router["rate"], "creates_without_router": without["rate"],
            "creates_router_ratio": ratio, "router_drain_seconds": drained}
