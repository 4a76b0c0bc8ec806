"""The SQL repositories of the automation service (``adapters/repository.py``) on a real migrated database:
SQLite by default, PostgreSQL when HELPDESK_TEST_POSTGRES_URL is set. The same key behaviours the fakes
stand in for, and the routing handlers once end to end on them."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from helpdesk_common.db import make_engine
from services.automation import handlers
from services.automation.adapters.orm import routing_locks, tickets
from services.automation.adapters.uow import AutomationUnitOfWork
from tests.unit.automation.factories import (
    DEPT_A,
    DEPT_B,
    START,
    actor,
    availability_event,
    new_id,
    ticket_event,
    ticket_snapshot,
    tracked,
    user_event,
    user_snapshot,
)
from tests.unit.automation.fakes import FakeDirectory, FakeTicketDesk


@pytest.fixture
def look(new_uow):
    """``look(fn)``: ``fn(uow)`` on a unit of work opened and closed for it (SQLite's pool has one connection)."""

    def read(fn):
        with new_uow() as uow:
            return fn(uow)

    return read


def _store(new_uow, *items, now=START):
    """Apply tickets and commit, in a unit of work of their own."""
    with new_uow() as uow:
        for item in items:
            uow.tickets.apply(item, now=now)
        uow.commit()


def _set_sla(engine, ticket_id, due):
    with engine.begin() as conn:
        conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(sla_due_at=due))


# -- tickets -----------------------------------------------------------------------------------------


def test_a_ticket_is_applied_by_version_and_an_equal_or_older_one_changes_nothing(new_uow, clock, look):
    first = tracked(title="First", version=2)
    with new_uow() as uow:
        assert uow.tickets.apply(first, now=clock.now()) is None  # new to us
        assert uow.tickets.apply(tracked(id=first.id, title="Same version", version=2), now=clock.now()) is False
        assert uow.tickets.apply(tracked(id=first.id, title="Older", version=1), now=clock.now()) is False
        uow.commit()

    with new_uow() as uow:
        previous = uow.tickets.apply(tracked(id=first.id, title="Newer", version=3, status="open"), now=clock.now())
        uow.commit()

    assert previous == first  # the copy held before, as it was read back
    held = look(lambda uow: uow.tickets.get(first.id))
    assert (held.title, held.version, held.status) == ("Newer", 3, "open")
    assert held.created_at == first.created_at and held.created_at.tzinfo is not None


def test_two_transactions_storing_the_same_new_agent_ticket_and_strategy_both_succeed(new_uow, clock, look, engine):
    """An event and the start-up listing (or two replicas) bringing the same new row at once: the second
    waits for the first, then finds the row and applies over it by version, instead of failing on the key
    (which made the whole reconciliation give up until its next round)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: its transactions never interleave")
    user, ticket = user_snapshot(), tracked()
    first = new_uow()
    assert first.agents.apply_user(user, as_of=START, now=START) is True
    assert first.tickets.apply(ticket, now=START) is None
    assert first.strategies.set(DEPT_A, "round_robin", actor_id=None, now=START) is None
    results = {}

    def second():
        with new_uow() as uow:
            results["agent"] = uow.agents.apply_user({**user, "name": "Newer", "version": 2}, as_of=START, now=START)
            results["ticket"] = uow.tickets.apply(tracked(id=ticket.id, title="Newer", version=2), now=START)
            results["strategy"] = uow.strategies.set(DEPT_A, "least_loaded", actor_id=None, now=START)
            uow.commit()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting on the first transaction's new rows
    first.commit()
    thread.join(10)
    assert not thread.is_alive()

    assert results == {"agent": True, "ticket": ticket, "strategy": "round_robin"}
    assert look(lambda uow: uow.agents.get(user["id"])).name == "Newer"
    assert look(lambda uow: uow.tickets.get(ticket.id)).title == "Newer"
    assert look(lambda uow: uow.strategies.of(DEPT_A)) == "least_loaded"


def test_a_ticket_reads_back_as_it_was_stored(new_uow, look):
    ticket = tracked(category="Network", priority="urgent", department_id=None, assignee_id=new_id())
    _store(new_uow, ticket)

    assert look(lambda uow: uow.tickets.get(ticket.id)) == ticket
    assert look(lambda uow: uow.tickets.get(new_id())) is None


def test_loads_count_only_working_tickets_of_each_agent(new_uow, clock):
    ana, bob = new_id(), new_id()
    statuses = ("new", "open", "in_progress", "waiting", "resolved", "closed")
    of_ana = [tracked(assignee_id=ana, status=s) for s in statuses]
    unassigned, of_bob = tracked(status="new"), tracked(assignee_id=bob, status="in_progress")
    _store(new_uow, *of_ana, tracked(assignee_id=ana, status="open", deleted=True), of_bob, unassigned)

    uow = new_uow()

    assert uow.tickets.loads() == {ana: 3, bob: 1}
    assert uow.tickets.loads([ana]) == {ana: 3}
    assert uow.tickets.loads([new_id()]) == {} and uow.tickets.loads([]) == {}
    assert uow.tickets.load_by_status(ana) == {s: 1 for s in statuses}  # the deleted one is nobody's
    assert set(uow.tickets.working_versions()) == {t.id for t in [*of_ana[:3], of_bob, unassigned]}


def test_a_ticket_gone_no_longer_counts(new_uow, clock):
    ana = new_id()
    ticket = tracked(assignee_id=ana)
    _store(new_uow, ticket)

    with new_uow() as uow:
        assert uow.tickets.mark_gone(ticket.id, now=clock.now()) is True
        assert uow.tickets.mark_gone(ticket.id, now=clock.now()) is False
        uow.commit()

    uow = new_uow()
    assert uow.tickets.loads() == {} and uow.tickets.working_versions() == {}
    assert uow.tickets.get(ticket.id).deleted


@pytest.fixture
def backlog(new_uow, engine):
    """Unassigned working tickets (and some that are not), in the order they should be served."""
    due_soon = tracked(priority="low", created_at=START + timedelta(minutes=9))
    due_later = tracked(priority="low", created_at=START + timedelta(minutes=8), department_id=DEPT_B)
    urgent = tracked(priority="urgent", created_at=START + timedelta(minutes=5))
    high_old = tracked(priority="high", created_at=START + timedelta(minutes=1), department_id=None)
    high_new = tracked(priority="high", created_at=START + timedelta(minutes=2))
    medium = tracked(priority="medium", created_at=START, department_id=DEPT_B)
    _store(new_uow, due_soon, due_later, urgent, high_old, high_new, medium,
           tracked(priority="urgent", assignee_id=new_id()), tracked(priority="urgent", status="waiting"),
           tracked(priority="urgent", deleted=True))
    _set_sla(engine, due_soon.id, START + timedelta(hours=1))
    _set_sla(engine, due_later.id, START + timedelta(hours=3))
    return [due_soon, due_later, urgent, high_old, high_new, medium]


def test_the_backlog_is_served_by_sla_then_priority_then_age(new_uow, backlog, look):
    found, total = look(lambda uow: uow.tickets.backlog())

    assert [t.id for t in found] == [t.id for t in backlog] and total == 6
    assert found[0].sla_due_at == START + timedelta(hours=1)


def test_a_backlog_page_counts_every_ticket(new_uow, backlog, look):
    found, total = look(lambda uow: uow.tickets.backlog(offset=2, limit=3))

    assert [t.id for t in found] == [t.id for t in backlog[2:5]] and total == 6


def test_the_backlog_narrowed_to_departments(new_uow, backlog):
    due_soon, due_later, urgent, high_old, high_new, medium = backlog
    repo = new_uow().tickets

    assert [t.id for t in repo.backlog(department_ids=[DEPT_A])[0]] == [due_soon.id, urgent.id, high_new.id]
    assert [t.id for t in repo.backlog(department_ids=[None])[0]] == [high_old.id]
    assert [t.id for t in repo.backlog(department_ids=[DEPT_B, None])[0]] == [due_later.id, high_old.id, medium.id]
    assert repo.backlog(department_ids=[]) == ([], 0)


def test_a_manual_only_department_is_left_out_of_the_backlog(new_uow, backlog, clock, look):
    with new_uow() as uow:
        uow.strategies.set(DEPT_B, "manual_only", actor_id=None, now=clock.now())
        uow.strategies.set(DEPT_A, "round_robin", actor_id=None, now=clock.now())
        uow.commit()

    found, total = look(lambda uow: uow.tickets.backlog())

    assert [t.department_id for t in found] == [DEPT_A, DEPT_A, None, DEPT_A] and total == 4
    assert look(lambda uow: uow.tickets.backlog(department_ids=[DEPT_B])) == ([], 0)


def test_a_ticket_is_marked_queued_once_until_it_no_longer_wants_an_agent(new_uow, clock, look):
    ticket = tracked()
    _store(new_uow, ticket)
    first_time = clock.now()

    with new_uow() as uow:
        assert uow.tickets.mark_queued(ticket.id, now=first_time) is True
        clock.advance(minutes=5)
        assert uow.tickets.mark_queued(ticket.id, now=clock.now()) is False
        assert uow.tickets.mark_queued(new_id(), now=clock.now()) is False
        uow.tickets.apply(tracked(id=ticket.id, version=2, title="Still unassigned"), now=clock.now())
        uow.commit()
    assert look(lambda uow: uow.tickets.get(ticket.id)).queued_since == first_time  # still waiting since then

    _store(new_uow, tracked(id=ticket.id, version=3, assignee_id=new_id()))
    assert look(lambda uow: uow.tickets.get(ticket.id)).queued_since is None


# -- agents ------------------------------------------------------------------------------------------


def _hire(new_uow, clock, **fields):
    user = user_snapshot(**fields)
    with new_uow() as uow:
        assert uow.agents.apply_user(user, as_of=clock.now(), now=clock.now()) is True
        uow.commit()
    return user


def test_a_member_of_staff_is_stored_and_a_newer_version_only_replaces_them(new_uow, clock, look):
    user = _hire(new_uow, clock, name="Ana", availability="online", skills=["vpn", "linux", "vpn"],
                 max_concurrent_tickets=4)

    with new_uow() as uow:
        assert uow.agents.apply_user({**user, "name": "Stale"}, as_of=clock.now(), now=clock.now()) is False
        assert uow.agents.apply_user({**user, "name": "Ana B.", "version": 2}, as_of=clock.now(),
                                     now=clock.now()) is True
        uow.commit()

    held = look(lambda uow: uow.agents.get(user["id"]))
    assert (held.name, held.skills, held.max_concurrent_tickets, held.availability) == (
        "Ana B.", ["linux", "vpn"], 4, "online")
    assert look(lambda uow: uow.agents.versions()) == {user["id"]: 2}


def test_a_customer_not_held_is_ignored_but_staff_becoming_one_is_kept_unassignable(new_uow, clock):
    customer = user_snapshot("customer")
    staff = _hire(new_uow, clock, availability="online")

    with new_uow() as uow:
        assert uow.agents.apply_user(customer, as_of=clock.now(), now=clock.now()) is False
        assert uow.agents.apply_user({**staff, "role": "customer", "version": 2}, as_of=clock.now(),
                                     now=clock.now()) is True
        uow.commit()

    uow = new_uow()
    assert uow.agents.get(customer["id"]) is None
    assert uow.agents.get(staff["id"]).role == "customer"
    assert uow.agents.in_scope(None) == [] and uow.agents.able_departments() == (set(), False)


def test_an_availability_change_older_than_the_one_held_is_ignored(new_uow, clock, look):
    user = _hire(new_uow, clock, availability="offline")
    earlier, later = clock.now() - timedelta(minutes=1), clock.now() + timedelta(minutes=1)

    with new_uow() as uow:
        assert uow.agents.apply_availability(user["id"], "online", as_of=earlier, now=clock.now()) is False
        assert uow.agents.apply_availability(new_id(), "online", as_of=later, now=clock.now()) is False
        uow.commit()
    assert look(lambda uow: uow.agents.get(user["id"])).availability == "offline"

    with new_uow() as uow:
        assert uow.agents.apply_availability(user["id"], "online", as_of=later, now=clock.now()) is True
        # a user snapshot as of before that change keeps the newer availability
        assert uow.agents.apply_user({**user, "version": 2, "availability": "offline"}, as_of=clock.now(),
                                     now=clock.now()) is True
        uow.commit()
    assert look(lambda uow: uow.agents.get(user["id"])).availability == "online"


def test_agents_in_scope_and_the_departments_able_to_take_tickets(new_uow, clock):
    a_online = _hire(new_uow, clock, availability="online", department_id=DEPT_A)
    b_away = _hire(new_uow, clock, availability="away", department_id=DEPT_B)
    admin = _hire(new_uow, clock, role="admin", availability="online", department_id=DEPT_B)
    _hire(new_uow, clock, availability="online", department_id=DEPT_B, status="on_leave")

    uow = new_uow()

    assert [a.id for a in uow.agents.in_scope(DEPT_A)] == [a_online["id"]]
    assert admin["id"] not in {a.id for a in uow.agents.in_scope(None)}
    assert b_away["id"] in {a.id for a in uow.agents.in_scope(DEPT_B)} and len(uow.agents.in_scope(None)) == 3
    assert uow.agents.able_departments() == ({DEPT_A}, True)


def test_marking_an_agent_assigned_records_when(new_uow, clock, look):
    user = _hire(new_uow, clock)
    with new_uow() as uow:
        uow.agents.mark_assigned(user["id"], now=clock.now() + timedelta(minutes=3))
        uow.commit()

    assert look(lambda uow: uow.agents.get(user["id"])).last_assigned_at == clock.now() + timedelta(minutes=3)


# -- strategies, decisions, the routing lock --------------------------------------------------------


def test_a_strategy_is_set_answering_the_one_before(new_uow, clock):
    with new_uow() as uow:
        assert uow.strategies.set(DEPT_A, "round_robin", actor_id="admin-1", now=clock.now()) is None
        assert uow.strategies.set(DEPT_A, "manual_only", actor_id="admin-2", now=clock.now()) == "round_robin"
        uow.commit()

    uow = new_uow()
    assert (uow.strategies.of(DEPT_A), uow.strategies.of(DEPT_B), uow.strategies.of(None)) == (
        "manual_only", "least_loaded", "least_loaded")
    assert uow.strategies.all() == [{"department_id": DEPT_A, "strategy": "manual_only", "updated_at": clock.now(),
                                     "updated_by": "admin-2"}]


def test_decisions_are_paged_newest_first_and_narrowed(new_uow, clock):
    rows = []
    with new_uow() as uow:
        for minutes, department in [(0, DEPT_A), (1, DEPT_B), (2, None), (3, DEPT_A)]:
            rows.append(uow.decisions.add({
                "ticket_id": new_id(), "ticket_number": "TKT-000001", "department_id": department,
                "at": START + timedelta(minutes=minutes), "outcome": "queued", "agent_id": None,
                "strategy": "least_loaded", "trigger": "test", "reason": "nobody",
                "candidates": [{"agent_id": "x", "passed_over": "offline, not online"}]}))
        uow.commit()
    repo = new_uow().decisions

    everything, total = repo.page(ticket_ids=None, department_ids=None, offset=0, limit=10)
    assert [r["id"] for r in everything] == [r["id"] for r in reversed(rows)] and total == 4
    assert everything[0] == rows[3]  # read back as stored (the candidates' JSON included)
    mine, total = repo.page(ticket_ids=None, department_ids=[DEPT_A, None], offset=1, limit=1)
    assert [r["id"] for r in mine] == [rows[2]["id"]] and total == 3
    one, total = repo.page(ticket_ids=[rows[1]["ticket_id"]], department_ids=None, offset=0, limit=10)
    assert [r["id"] for r in one] == [rows[1]["id"]] and total == 1
    assert repo.page(ticket_ids=None, department_ids=[], offset=0, limit=10) == ([], 0)


def test_the_routing_lock_can_be_taken_twice_in_one_transaction(new_uow, clock):
    with new_uow() as uow:  # the tables were emptied: the first take() makes the row, the second updates it
        uow.routing.take(now=clock.now())
        uow.routing.take(now=clock.now() + timedelta(seconds=1))
        uow.routing.take(now=clock.now(), scope="other")
        uow.commit()

    with new_uow() as uow:
        rows = dict(uow.session.execute(select(routing_locks.c.scope, routing_locks.c.taken_at)).all())
    assert rows == {"global": clock.now() + timedelta(seconds=1), "other": clock.now()}


def test_the_migration_seeds_the_global_lock_row(service_database, clock):
    engine = make_engine(service_database("automation"))
    uow = AutomationUnitOfWork(sessionmaker(bind=engine), producer="automation", clock=clock)
    try:
        assert uow.session.scalar(select(routing_locks.c.scope)) == "global"
        uow.routing.take(now=clock.now())
        uow.routing.take(now=clock.now())
        uow.commit()
        assert uow.session.execute(select(routing_locks.c.taken_at)).scalars().all() == [clock.now()]
    finally:
        uow.close()
        engine.dispose()


# -- the handlers on the database --------------------------------------------------------------------


def test_events_as_they_arrive_are_applied_and_a_ticket_routed_through_the_database(new_uow, clock):
    desk, directory = FakeTicketDesk(), FakeDirectory()
    user = directory.add(user_snapshot(availability="offline"))
    with new_uow() as uow:
        assert handlers.track_user(user_event("user.created", user, at=clock.now()), uow=uow).freed
    clock.advance(minutes=1)
    with new_uow() as uow:  # an availability event carries its time as a string
        assert handlers.track_availability(availability_event(user, "online", at=clock.now()), uow=uow).freed
    with new_uow() as uow:
        stale = availability_event(user, "offline", at=clock.now() - timedelta(hours=1))
        assert not handlers.track_availability(stale, uow=uow).freed
    snapshot = desk.add(ticket_snapshot())
    with new_uow() as uow:
        effect = handlers.track_ticket(ticket_event("ticket.created", snapshot, at=clock.now()), uow=uow)
    assert effect.route == snapshot["id"]

    with new_uow() as uow:
        routed = handlers.route_ticket(effect.route, uow=uow, desk=desk, directory=directory, trigger="test")

    assert routed.outcome == "assigned" and desk.assigned == [(snapshot["id"], user["id"])]
    uow = new_uow()
    assert uow.tickets.get(snapshot["id"]).assignee_id == user["id"]
    assert uow.agents.get(user["id"]).last_assigned_at == clock.now()
    [decision] = handlers.list_decisions(actor("supervisor"), uow=uow)["items"]
    assert decision["agent_id"] == user["id"] and decision["candidates"][0]["passed_over"] is None


def test_the_backlog_drains_through_the_database_up_to_capacity(new_uow, clock, look):
    desk, directory = FakeTicketDesk(), FakeDirectory()
    user = directory.add(user_snapshot(availability="offline", max_concurrent_tickets=1))
    with new_uow() as uow:
        handlers.track_user(user_event("user.created", user, at=clock.now()), uow=uow)
    queued = []
    for priority in ("low", "urgent"):
        snapshot = desk.add(ticket_snapshot(priority=priority))
        with new_uow() as uow:
            handlers.track_ticket(ticket_event("ticket.created", snapshot, at=clock.now()), uow=uow)
        with new_uow() as uow:
            assert handlers.route_ticket(snapshot["id"], uow=uow, desk=desk, directory=directory,
                                         trigger="test").outcome == "queued"
        queued.append(snapshot["id"])
    clock.advance(minutes=1)
    with new_uow() as uow:
        handlers.track_availability(availability_event(user, "online", at=clock.now()), uow=uow)

    assert handlers.drain_backlog(new_uow, desk=desk, directory=directory, trigger="test") == 1

    assert desk.assigned == [(queued[1], user["id"])]
    assert [t.id for t in look(lambda uow: uow.tickets.backlog())[0]] == [queued[0]]
    assert handlers.drain_backlog(new_uow, desk=desk, directory=directory, trigger="test") == 0
    assert handlers.workload(user["id"], actor("admin"), uow=new_uow())["working_tickets"] == 1


# -- rules ------------------------------------------------------------------------------------------


def test_rules_and_time_rules_run_on_the_sql_repositories(new_uow, clock, look):
    """An event's rule and a time rule end to end on the real tables: queued, run once, recorded, the job gone;
    the requester's unanswered message and the ticket's time in its status kept for the time rules."""
    desk, directory = FakeTicketDesk(), FakeDirectory()
    admin = actor("admin")
    with new_uow() as uow:
        handlers.create_rule({"name": "Tag", "triggers": ["ticket.created"], "actions": [{"type": "add_tag", "tag": "x"}]},
                             admin, uow=uow, directory=directory)
    with new_uow() as uow:
        handlers.create_rule({"name": "Unanswered", "triggers": ["time"],
                              "conditions": {"field": "minutes_without_agent_reply", "operator": "greater_than",
                                             "value": 60},
                              "actions": [{"type": "set_priority", "priority": "high"}]},
                             admin, uow=uow, directory=directory)
    snapshot = desk.add(ticket_snapshot(created_at=clock.now(), updated_at=clock.now().isoformat()))
    created = ticket_event("ticket.created", snapshot, at=clock.now())
    with new_uow() as uow:
        assert handlers.queue_rules(created, uow=uow) is True
        handlers.track_ticket(created, uow=uow)
    [result] = handlers.run_rule_job(created.id, new_uow, desk=desk, directory=directory)
    assert result["outcome"] == "applied" and desk.get(snapshot["id"])["tags"] == ["x"]
    assert handlers.run_rule_job(created.id, new_uow, desk=desk, directory=directory) == []  # the job is gone

    [held] = look(lambda uow: uow.tickets.for_time_rules())
    assert held["awaiting_agent_since"] == clock.now() and held["status_since"] == clock.now()
    clock.advance(minutes=61)
    assert handlers.run_time_rules(new_uow, desk=desk, directory=directory) == 1
    assert handlers.run_time_rules(new_uow, desk=desk, directory=directory) == 0
    assert desk.get(snapshot["id"])["priority"] == "high"
    assert look(lambda uow: uow.rule_runs.page(ticket_id=snapshot["id"], rule_id=None, offset=0, limit=10))[1] == 2

    with new_uow() as uow:
        uow.tickets.note_message(snapshot["id"], by_staff=True, at=clock.now())
        uow.commit()
    assert look(lambda uow: uow.tickets.for_time_rules())[0]["awaiting_agent_since"] is None


def test_the_enabled_rules_are_read_again_when_any_changes(new_uow, look):
    directory = FakeDirectory()
    admin = actor("admin")
    with new_uow() as uow:
        rule = handlers.create_rule({"name": "Tag", "triggers": ["ticket.created"],
                                     "actions": [{"type": "add_tag", "tag": "x"}]}, admin, uow=uow, directory=directory)
    assert [r.id for r in look(lambda uow: uow.rules.enabled())] == [rule["id"]]
    assert look(lambda uow: uow.rules.enabled()) is look(lambda uow: uow.rules.enabled())  # kept between events
    with new_uow() as uow:
        handlers.toggle_rule(rule["id"], False, admin, uow=uow)
    assert look(lambda uow: uow.rules.enabled()) == []
    with new_uow() as uow:
        other = handlers.create_rule({"name": "Other", "triggers": ["ticket.created"],
                                      "actions": [{"type": "add_tag", "tag": "y"}]}, admin, uow=uow, directory=directory)
    assert [r.id for r in look(lambda uow: uow.rules.enabled())] == [other["id"]]
