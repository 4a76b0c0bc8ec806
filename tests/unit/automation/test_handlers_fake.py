"""The automation handlers on the in-memory unit of work and services (``fakes.py``): no database, no broker.

Events are delivered as ``service.py`` does: the tracking handler first, then ``route_ticket`` for the
ticket it names and ``drain_backlog`` when capacity may have freed up. What needs SQL (the statements
themselves, the routing lock) is in ``test_repositories.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.automation import handlers
from services.automation.domain.errors import (
    DepartmentNotFound,
    PermissionDenied,
    TicketNotFound,
    UserNotFound,
    ValidationFailed,
)
from services.automation.handlers import Effect
from tests.unit.automation.factories import (
    DEPT_A,
    DEPT_B,
    DEPT_MISSING,
    actor,
    availability_event,
    new_id,
    ticket_event,
    ticket_snapshot,
    tracked,
    user_event,
    user_snapshot,
)


class Router:
    """The automation service without Nameko: delivers events, answers what each delivery did."""

    def __init__(self, uow, desk, directory, clock):
        self.uow, self.desk, self.directory, self.clock = uow, desk, directory, clock
        self.routed: handlers.Routed | None = None
        self.drained: int | None = None

    def deliver(self, envelope) -> Effect:
        track = {"ticket": handlers.track_ticket, "user": handlers.track_user,
                 "agent": handlers.track_availability}[envelope.type.split(".")[0]]
        with self.uow.open() as uow:
            effect = track(envelope, uow=uow)
        self.routed = self.drained = None
        if effect.route is not None:
            with self.uow.open() as uow:
                self.routed = handlers.route_ticket(effect.route, uow=uow, desk=self.desk, directory=self.directory,
                                                    trigger=envelope.type)
        if effect.freed:
            self.drain(envelope.type)
        self.clock.advance(minutes=1)
        return effect

    def drain(self, trigger: str = "sweep") -> int:
        self.drained = handlers.drain_backlog(self.uow.open, desk=self.desk, directory=self.directory, trigger=trigger)
        return self.drained

    # -- staff ------------------------------------------------------------------------------------------

    def hire(self, role: str = "agent", *, availability: str = "online", **fields) -> str:
        """A member of staff the users service announces (user.created); answers their id."""
        user = self.directory.add(user_snapshot(role, availability=availability, **fields))
        self.deliver(user_event("user.created", user, at=self.clock.now()))
        return user["id"]

    def go(self, agent_id: str, availability: str) -> Effect:
        return self.deliver(availability_event(self.directory.users[agent_id], availability, at=self.clock.now()))

    # -- tickets ----------------------------------------------------------------------------------------

    def open(self, **fields) -> str:
        """A ticket the tickets service announces (ticket.created); answers its id."""
        snapshot = self.desk.add(ticket_snapshot(created_at=self.clock.now(), **fields))
        self.deliver(ticket_event("ticket.created", snapshot, at=self.clock.now()))
        return snapshot["id"]

    def announce(self, type: str, ticket_id: str, **changes) -> Effect:
        """Someone changes a ticket in the tickets service, which announces it (``type``)."""
        snapshot = self.desk.change(ticket_id, **changes) if changes else self.desk.get(ticket_id)
        return self.deliver(ticket_event(type, snapshot, at=self.clock.now()))

    def load_of(self, agent_id: str) -> int:
        return self.uow.tickets.loads([agent_id]).get(agent_id, 0)


@pytest.fixture
def router(uow, desk, directory, clock):
    return Router(uow, desk, directory, clock)


# -- a new ticket ------------------------------------------------------------------------------------


def test_a_new_ticket_goes_to_the_least_loaded_online_agent_of_its_department(router, uow, desk, clock):
    busy, idle = router.hire(name="Busy"), router.hire(name="Idle")
    router.hire(name="Offline", availability="offline")
    router.hire(name="Elsewhere", department_id=DEPT_B)
    for _ in range(2):
        router.open(assignee_id=busy)  # assigned by hand already: not the router's business
    routed_at = clock.now()

    ticket_id = router.open(title="Printer on fire")

    assert desk.assigned == [(ticket_id, idle)] and desk.assignee_of(ticket_id) == idle
    assert desk.vias == ["automation: least_loaded"]
    assert uow.tickets.get(ticket_id).assignee_id == idle  # the router's copy follows the desk's answer
    assert router.routed.outcome == "assigned"
    [decision] = uow.decisions.rows
    assert (decision["ticket_id"], decision["outcome"], decision["agent_id"], decision["strategy"],
            decision["trigger"]) == (ticket_id, "assigned", idle, "least_loaded", "ticket.created")
    assert decision["candidates"][0] == {"agent_id": idle, "name": "Idle", "load": 0, "max_concurrent_tickets": 5,
                                         "passed_over": None}
    assert {c["name"]: c["passed_over"] for c in decision["candidates"][1:]} == {
        "Busy": "more loaded, or had a ticket more recently", "Offline": "offline, not online"}
    assert uow.agents.get(idle).last_assigned_at == routed_at and decision["at"] == routed_at


def test_a_repeated_or_older_ticket_event_changes_nothing(router, uow, desk):
    agent_id = router.hire()
    snapshot = desk.add(ticket_snapshot(title="First words"))
    created = ticket_event("ticket.created", snapshot, at=router.clock.now())
    router.deliver(created)
    assert desk.assigned == [(snapshot["id"], agent_id)]
    held = uow.tickets.get(snapshot["id"])

    again = router.deliver(created)
    older = router.deliver(ticket_event("ticket.updated", {**snapshot, "title": "Rewritten", "assignee_id": None},
                                        at=router.clock.now()))

    assert again == Effect() and older == Effect()
    assert uow.tickets.get(snapshot["id"]) == held and held.title == "First words" and held.assignee_id == agent_id
    assert len(desk.attempts) == 1 and len(uow.decisions.rows) == 1


def test_a_ticket_assigned_or_not_working_is_not_routed(router, desk):
    router.hire()

    router.open(assignee_id=new_id())
    router.open(status="waiting")

    assert desk.attempts == [] and router.routed is None


def test_nobody_online_queues_the_ticket_with_one_decision_and_a_second_attempt_records_none(router, uow, desk, clock):
    router.hire(availability="offline")
    queued_at = clock.now()

    ticket_id = router.open()

    assert router.routed.outcome == "queued" and router.routed.decision is not None
    [decision] = uow.decisions.rows
    assert decision["outcome"] == "queued" and decision["agent_id"] is None
    assert decision["reason"] == "nobody in its department can take it now (1 looked at)"
    assert uow.tickets.get(ticket_id).queued_since == queued_at

    again = handlers.route_ticket(ticket_id, uow=uow, desk=desk, directory=router.directory, trigger="sweep")
    router.announce("ticket.updated", ticket_id, title="Still down")  # a newer version, still unassigned

    assert again == handlers.Routed("queued", None) and router.routed == handlers.Routed("queued", None)
    assert len(uow.decisions.rows) == 1 and desk.attempts == []
    assert uow.tickets.get(ticket_id).queued_since == queued_at


def test_a_department_with_no_agent_at_all_is_said_so(router, uow):
    router.hire(department_id=DEPT_B)

    router.open(department_id=DEPT_A)

    assert uow.decisions.rows[0]["reason"] == "no agent in its department"


# -- the backlog -------------------------------------------------------------------------------------


def test_an_agent_coming_online_drains_the_backlog_in_order_up_to_their_capacity(router, uow, desk):
    agent_id = router.hire(availability="offline", max_concurrent_tickets=2)
    low = router.open(priority="low")
    urgent = router.open(priority="urgent")
    medium = router.open(priority="medium")
    assert [t.id for t in uow.tickets.backlog()[0]] == [urgent, medium, low]

    effect = router.go(agent_id, "online")

    assert effect.freed and router.drained == 2
    assert desk.assigned == [(urgent, agent_id), (medium, agent_id)]
    assert router.load_of(agent_id) == 2
    assert [t.id for t in uow.tickets.backlog()[0]] == [low]
    assert router.drain() == 0 and len(desk.assigned) == 2  # at capacity: never more


def test_the_soonest_sla_is_served_before_a_higher_priority(router, uow, desk):
    agent_id = router.hire(availability="offline", max_concurrent_tickets=1)
    urgent = router.open(priority="urgent")
    due_soon = router.open(priority="low")
    uow.tickets.set_sla(due_soon, router.clock.now() + timedelta(hours=1))
    uow.commit()

    router.go(agent_id, "online")

    assert desk.assigned == [(due_soon, agent_id)] and [t.id for t in uow.tickets.backlog()[0]] == [urgent]


def test_a_ticket_leaving_a_working_state_frees_capacity_and_the_next_is_assigned(router, uow, desk):
    agent_id = router.hire(max_concurrent_tickets=1)
    first = router.open(priority="high")
    second = router.open(priority="low")
    assert desk.assigned == [(first, agent_id)] and router.routed.outcome == "queued"

    effect = router.announce("ticket.status_changed", first, status="resolved")

    assert effect == Effect(route=None, freed=True)
    assert desk.assigned == [(first, agent_id), (second, agent_id)] and router.drained == 1
    assert router.load_of(agent_id) == 1


@pytest.mark.parametrize("status", ["waiting", "closed"])
def test_waiting_and_closed_tickets_no_longer_count_against_capacity(router, status):
    agent_id = router.hire(max_concurrent_tickets=1)
    ticket_id = router.open()
    assert router.load_of(agent_id) == 1

    effect = router.announce("ticket.status_changed", ticket_id, status=status)

    assert effect.freed and router.load_of(agent_id) == 0


def test_a_change_that_keeps_the_ticket_working_with_its_agent_frees_nothing(router):
    router.hire()
    ticket_id = router.open()

    effect = router.announce("ticket.status_changed", ticket_id, status="in_progress")

    assert effect == Effect()


def test_a_full_department_does_not_hold_up_the_others(router, uow, desk, clock):
    in_a = router.hire(availability="offline", max_concurrent_tickets=1)
    in_b = router.hire(availability="offline", max_concurrent_tickets=1, department_id=DEPT_B)
    a_first, a_second = router.open(priority="urgent"), router.open(priority="high")
    b_only = router.open(priority="low", department_id=DEPT_B)
    for agent_id in (in_a, in_b):  # both online at once, with no drain in between
        uow.agents.apply_availability(agent_id, "online", as_of=clock.now(), now=clock.now())
    uow.commit()

    assert router.drain() == 2

    assert desk.assigned == [(a_first, in_a), (b_only, in_b)]
    assert [t.id for t in uow.tickets.backlog()[0]] == [a_second]


def test_an_agent_going_away_drains_nothing(router, uow):
    agent_id = router.hire()
    router.hire(availability="offline")

    effect = router.go(agent_id, "away")

    assert effect == Effect() and uow.agents.get(agent_id).availability == "away"


# -- strategies --------------------------------------------------------------------------------------


def test_a_manual_only_department_is_never_routed_nor_in_the_backlog(router, uow, desk, directory):
    admin = actor("admin")
    handlers.set_strategy(DEPT_A, "manual_only", admin, uow=uow, directory=directory)
    in_a = router.hire()
    in_b = router.hire(department_id=DEPT_B)

    by_hand = router.open(department_id=DEPT_A)
    routed = router.open(department_id=DEPT_B)

    assert desk.assigned == [(routed, in_b)]
    assert uow.decisions.rows[0]["ticket_id"] == routed and len(uow.decisions.rows) == 1
    assert uow.tickets.backlog() == ([], 0)
    assert handlers.backlog(actor("supervisor"), uow=uow)["total"] == 0
    assert router.drain() == 0 and desk.assignee_of(by_hand) is None

    handlers.set_strategy(DEPT_A, "least_loaded", admin, uow=uow, directory=directory)  # opened to the router

    assert router.drain() == 1 and desk.assignee_of(by_hand) == in_a


def test_round_robin_gives_the_ticket_to_who_waited_longest_whatever_their_load(router, uow, desk, directory):
    handlers.set_strategy(DEPT_A, "round_robin", actor("admin"), uow=uow, directory=directory)
    recent = router.hire(name="Recent")
    router.open()  # Recent gets it (the only one online) and so has had a ticket most recently
    waiting = router.hire(name="Waiting")
    for _ in range(2):
        router.open(assignee_id=waiting)  # by hand: more load, but never given one by the router

    ticket_id = router.open()

    assert desk.assigned[-1] == (ticket_id, waiting)
    assert router.load_of(waiting) == 3 and router.load_of(recent) == 1
    assert uow.decisions.rows[-1]["strategy"] == "round_robin" and desk.vias[-1] == "automation: round_robin"


# -- people and the tickets service disagreeing -----------------------------------------------------


def test_a_manual_assignment_is_never_undone(router, desk, uow):
    routed_to = router.hire()
    by_hand = router.hire(availability="offline")  # a supervisor may give a ticket to anyone
    ticket_id = router.open()
    assert desk.assignee_of(ticket_id) == routed_to

    effect = router.announce("ticket.assigned", ticket_id, assignee_id=by_hand)

    assert effect == Effect(route=None, freed=True)  # the router's agent has room again
    assert desk.assignee_of(ticket_id) == by_hand and len(desk.attempts) == 1
    assert uow.tickets.get(ticket_id).assignee_id == by_hand


def test_a_queued_ticket_assigned_by_hand_leaves_the_backlog_for_good(router, desk, uow):
    agent_id = router.hire(availability="offline")
    colleague = router.hire(availability="offline")
    ticket_id = router.open()
    assert router.routed.outcome == "queued"

    router.announce("ticket.assigned", ticket_id, assignee_id=colleague)
    router.go(agent_id, "online")

    assert uow.tickets.backlog() == ([], 0)
    assert router.drained == 0 and desk.attempts == [] and desk.assignee_of(ticket_id) == colleague
    assert uow.tickets.get(ticket_id).queued_since is None


def test_a_ticket_assigned_meanwhile_is_refreshed_and_not_assigned_again(router, uow, desk):
    agent_id = router.hire()
    someone = new_id()
    snapshot = desk.add(ticket_snapshot())
    desk.change(snapshot["id"], assignee_id=someone)  # assigned by hand before the router heard of the ticket

    router.deliver(ticket_event("ticket.created", snapshot, at=router.clock.now()))

    assert router.routed == handlers.Routed("skipped")
    assert desk.attempts == [(snapshot["id"], agent_id, 1)] and desk.assigned == []
    assert desk.assignee_of(snapshot["id"]) == someone
    held = uow.tickets.get(snapshot["id"])
    assert (held.assignee_id, held.version) == (someone, 2) and uow.decisions.rows == []
    assert router.load_of(agent_id) == 0
    late = router.deliver(ticket_event("ticket.assigned", desk.get(snapshot["id"]), at=router.clock.now()))
    assert late == Effect() and len(desk.attempts) == 1


def test_a_ticket_changed_otherwise_meanwhile_is_assigned_once_at_its_new_version(router, uow, desk):
    agent_id = router.hire()
    snapshot = desk.add(ticket_snapshot())
    desk.change(snapshot["id"], title="Edited meanwhile")

    router.deliver(ticket_event("ticket.created", snapshot, at=router.clock.now()))

    assert desk.attempts == [(snapshot["id"], agent_id, 1), (snapshot["id"], agent_id, 2)]
    assert desk.assigned == [(snapshot["id"], agent_id)] and len(uow.decisions.rows) == 1
    held = uow.tickets.get(snapshot["id"])
    assert (held.title, held.assignee_id, held.version) == ("Edited meanwhile", agent_id, 3)


def test_a_ticket_gone_from_the_tickets_service_is_dropped(router, uow, desk):
    router.hire()
    snapshot = ticket_snapshot()  # the desk never had it (deleted before the router acted)

    router.deliver(ticket_event("ticket.created", snapshot, at=router.clock.now()))

    assert router.routed == handlers.Routed("skipped") and desk.assigned == []
    assert uow.tickets.get(snapshot["id"]).deleted and uow.tickets.backlog() == ([], 0)


def test_an_agent_the_tickets_service_refuses_is_refreshed_and_another_chosen(router, uow, desk, directory):
    refused = router.hire(name="Refused")
    other = router.hire(name="Other")
    router.open(assignee_id=other)  # Other is more loaded: Refused is chosen first
    directory.users[refused].update(status="inactive", version=2)  # the router has not heard yet
    desk.refused.add(refused)

    ticket_id = router.open()

    assert [a for _, a, _ in desk.attempts] == [refused, other] and desk.assigned == [(ticket_id, other)]
    assert uow.agents.get(refused).status == "inactive"
    [decision] = uow.decisions.rows
    assert {c["agent_id"]: c["passed_over"] for c in decision["candidates"]}[refused] == "account inactive"


# -- tracking ----------------------------------------------------------------------------------------


def test_a_customer_is_not_tracked(router, uow, directory):
    customer = directory.add(user_snapshot("customer"))

    assert router.deliver(user_event("user.created", customer, at=router.clock.now())) == Effect()
    assert uow.agents.get(customer["id"]) is None


def test_an_older_availability_change_is_ignored(router, uow, clock):
    agent_id = router.hire(availability="offline")
    router.go(agent_id, "online")
    stale = availability_event(router.directory.users[agent_id], "offline", at=clock.now() - timedelta(hours=1))

    assert router.deliver(stale) == Effect()
    assert uow.agents.get(agent_id).availability == "online"


def test_sync_reconciles_staff_and_working_tickets_with_their_services(router, uow, desk, directory, clock):
    directory.add(user_snapshot(availability="online", name="Listed"))
    directory.add(user_snapshot("customer"))
    working = [desk.add(ticket_snapshot(assignee_id=new_id())) for _ in range(3)]
    resolved = desk.add(ticket_snapshot(assignee_id=new_id()))
    with uow:
        uow.tickets.apply(tracked(id=resolved["id"], assignee_id=resolved["assignee_id"]), now=clock.now())
        uow.tickets.apply(tracked(id="deleted-meanwhile", assignee_id=new_id()), now=clock.now())
        uow.commit()
    desk.change(resolved["id"], status="resolved")

    agents = handlers.sync_agents(directory, uow=uow, listed_since=clock.now())
    tickets = handlers.sync_tickets(desk, uow=uow)

    assert agents == {"listed": 1, "updated": 1} and [a.name for a in uow.agents.in_scope(None)] == ["Listed"]
    assert tickets == {"listed": 3, "updated": 3, "refreshed": 2}
    assert set(uow.tickets.working_versions()) == {t["id"] for t in working}
    assert uow.tickets.get("deleted-meanwhile").deleted and uow.tickets.get(resolved["id"]).status == "resolved"


# -- questions ---------------------------------------------------------------------------------------


@pytest.fixture
def decided(router):
    """A routed ticket of department A, a queued one of B, a routed one of no department (oldest first)."""
    agent_id = router.hire()
    return {"agent": agent_id, "a": router.open(), "b": router.open(department_id=DEPT_B),
            "none": router.open(department_id=None)}


def test_only_staff_see_decisions(uow, decided):
    with pytest.raises(PermissionDenied):
        handlers.list_decisions(actor("customer"), uow=uow)
    with pytest.raises(PermissionDenied):
        handlers.list_decisions(actor("customer"), uow=uow, ticket_id=decided["a"])


def test_an_agent_sees_the_decisions_of_their_department_and_of_tickets_of_none(uow, decided):
    seen = handlers.list_decisions(actor("agent", department_id=DEPT_A), uow=uow)

    assert seen["total"] == 2 and [d["ticket_id"] for d in seen["items"]] == [decided["none"], decided["a"]]


def test_a_supervisor_sees_every_decision_newest_first_and_pages_them(uow, decided):
    everything = handlers.list_decisions(actor("supervisor", department_id=DEPT_B), uow=uow)
    second = handlers.list_decisions(actor("supervisor"), uow=uow, page=2, limit=2)

    assert [d["ticket_id"] for d in everything["items"]] == [decided["none"], decided["b"], decided["a"]]
    assert second == {"items": [everything["items"][2]], "total": 3}


def test_the_decisions_of_one_ticket_are_given_to_staff_who_see_it(uow, decided, clock):
    [decision] = handlers.list_decisions(actor("agent", department_id=DEPT_A), uow=uow, ticket_id=decided["a"])["items"]

    assert decision["outcome"] == "assigned" and decision["agent_id"] == decided["agent"]
    assert decision["department_id"] == DEPT_A and decision["at"].endswith("+00:00")
    assert decision["candidates"][0]["agent_id"] == decided["agent"]
    queued = handlers.list_decisions(actor("admin"), uow=uow, ticket_id=decided["b"])["items"]
    assert [(d["outcome"], d["agent_id"]) for d in queued] == [("queued", None)]


def test_a_ticket_of_another_department_or_unknown_is_not_found(uow, decided):
    agent_a = actor("agent", department_id=DEPT_A)

    with pytest.raises(TicketNotFound):
        handlers.list_decisions(agent_a, uow=uow, ticket_id=decided["b"])
    with pytest.raises(TicketNotFound):
        handlers.list_decisions(actor("admin"), uow=uow, ticket_id=new_id())


def test_an_agent_sees_a_ticket_of_another_department_assigned_to_them(router, uow, desk):
    agent_id = router.hire(department_id=DEPT_B)
    ticket_id = router.open(department_id=DEPT_A, assignee_id=agent_id)

    answer = handlers.list_decisions(actor("agent", department_id=DEPT_B, id=agent_id), uow=uow, ticket_id=ticket_id)

    assert answer == {"items": [], "total": 0}  # seen (no TicketNotFound); assigned by hand: no decision


@pytest.fixture
def waiting(router, uow):
    """Tickets nobody can take: four of department A, one of B, one of none, in the order served."""
    router.hire(availability="offline")
    urgent = router.open(priority="urgent")
    old_low, new_low = router.open(priority="low"), router.open(priority="low")
    high = router.open(priority="high")
    in_b = router.open(department_id=DEPT_B, priority="urgent")
    unrouted = router.open(department_id=None, priority="medium")
    return {"a": [urgent, high, old_low, new_low], "b": [in_b], "none": [unrouted]}


def test_the_backlog_lists_tickets_in_the_order_served_with_their_positions(uow, waiting):
    seen = handlers.backlog(actor("agent", department_id=DEPT_A), uow=uow)

    assert seen["total"] == 5
    assert [(i["position"], i["ticket_id"]) for i in seen["items"]] == list(enumerate(
        [waiting["a"][0], waiting["a"][1], *waiting["none"], *waiting["a"][2:]], start=1))
    first = seen["items"][0]
    assert first["priority"] == "urgent" and first["queued_since"] is not None and first["sla_due_at"] is None


def test_a_backlog_page_goes_on_counting_positions(uow, waiting):
    page = handlers.backlog(actor("supervisor"), uow=uow, page=2, limit=2)

    assert page["total"] == 6
    assert [(i["position"], i["ticket_id"]) for i in page["items"]] == [(3, waiting["a"][1]), (4, waiting["none"][0])]


def test_the_backlog_narrowed_to_one_department(uow, waiting):
    of_b = handlers.backlog(actor("supervisor"), uow=uow, department_id=DEPT_B)
    a_asking_b = handlers.backlog(actor("agent", department_id=DEPT_A), uow=uow, department_id=DEPT_B)

    assert [i["ticket_id"] for i in of_b["items"]] == waiting["b"] and of_b["total"] == 1
    assert a_asking_b == {"items": [], "total": 0}
    with pytest.raises(PermissionDenied):
        handlers.backlog(actor("customer"), uow=uow)


@pytest.fixture
def loaded(router):
    """An agent (capacity 3) holding a ticket in every status, and one deleted."""
    agent_id = router.hire(max_concurrent_tickets=3)
    for status in ("new", "open", "in_progress", "waiting", "resolved", "closed"):
        router.open(assignee_id=agent_id, status=status)
    gone = router.open(assignee_id=agent_id, status="open")
    router.announce("ticket.deleted", gone, deleted_at=router.clock.now().isoformat())
    return agent_id


def test_workload_counts_only_new_open_and_in_progress_as_working(uow, loaded):
    mine = handlers.workload(loaded, actor("agent", department_id=DEPT_A, id=loaded), uow=uow)

    assert mine["working_tickets"] == 3 and mine["at_capacity"] is True and mine["capacity_left"] == 0
    assert mine["by_status"] == {"closed": 1, "in_progress": 1, "new": 1, "open": 1, "resolved": 1, "waiting": 1}
    assert (mine["user_id"], mine["max_concurrent_tickets"], mine["availability"]) == (loaded, 3, "online")
    assert handlers.workload(loaded, actor("supervisor"), uow=uow) == mine


def test_an_agent_below_capacity_has_room_left(router, uow):
    agent_id = router.hire(max_concurrent_tickets=4)
    router.open(assignee_id=agent_id, status="waiting")
    router.open(assignee_id=agent_id)

    answer = handlers.workload(agent_id, actor("admin"), uow=uow)

    assert (answer["working_tickets"], answer["capacity_left"], answer["at_capacity"]) == (1, 3, False)


def test_an_agent_asking_for_another_agents_workload_or_an_unknown_one_is_told_not_found(uow, loaded):
    with pytest.raises(UserNotFound):
        handlers.workload(loaded, actor("agent", department_id=DEPT_A), uow=uow)
    with pytest.raises(UserNotFound):
        handlers.workload(new_id(), actor("supervisor"), uow=uow)
    with pytest.raises(PermissionDenied):
        handlers.workload(loaded, actor("customer", id=loaded), uow=uow)


def test_an_admin_sets_a_departments_strategy(uow, directory, clock):
    admin = actor("admin")

    answer = handlers.set_strategy(DEPT_B, "round_robin", admin, uow=uow, directory=directory)

    assert answer == {"department_id": DEPT_B, "strategy": "round_robin", "updated_at": clock.now().isoformat(),
                      "updated_by": admin["id"]}
    assert uow.strategies.of(DEPT_B) == "round_robin" and uow.strategies.of(DEPT_A) == "least_loaded"
    assert handlers.list_strategies(actor("agent"), uow=uow) == {"items": [answer], "total": 1}


@pytest.mark.parametrize(("department", "strategy", "role", "error"), [
    (DEPT_A, "round_robin", "supervisor", PermissionDenied),
    (DEPT_A, "round_robin", "agent", PermissionDenied),
    (DEPT_A, "fastest", "admin", ValidationFailed),
    (DEPT_A, None, "admin", ValidationFailed),
    (DEPT_MISSING, "round_robin", "admin", DepartmentNotFound),
])
def test_setting_a_strategy_is_refused_and_changes_nothing(uow, directory, department, strategy, role, error):
    with pytest.raises(error):
        handlers.set_strategy(department, strategy, actor(role), uow=uow, directory=directory)

    assert uow.strategies.all() == [] and uow.commits == 0


# -- the fakes themselves ---------------------------------------------------------------------------


def test_the_fake_unit_of_work_rolls_back_to_the_last_commit(uow, clock):
    kept, dropped = tracked(), tracked()
    uow.tickets.apply(kept, now=clock.now())
    uow.commit()

    uow.tickets.apply(dropped, now=clock.now())
    uow.tickets.mark_queued(kept.id, now=clock.now())
    uow.routing.take(now=clock.now())
    uow.rollback()

    assert uow.tickets.get(dropped.id) is None and uow.tickets.get(kept.id).queued_since is None
    assert uow.routing.taken == []
    with uow:
        uow.tickets.apply(dropped, now=clock.now())  # left without a commit: dropped, as close() does
    assert uow.tickets.get(dropped.id) is None


def test_the_fake_desk_refuses_a_stale_version_and_bumps_what_it_changes(desk):
    from services.automation.domain.errors import TicketChanged

    snapshot = desk.add(ticket_snapshot())
    with pytest.raises(TicketChanged):
        desk.assign(snapshot["id"], "someone", expected_version=2, via="test")

    answer = desk.assign(snapshot["id"], "someone", expected_version=1, via="test")

    assert (answer["assignee_id"], answer["version"]) == ("someone", 2) and desk.get(snapshot["id"]) == answer
    with pytest.raises(TicketChanged):
        desk.assign(snapshot["id"], "other", expected_version=1, via="test")


# -- a category's required skills ------------------------------------------------------------------


def test_a_ticket_needing_skills_goes_to_an_agent_holding_them_all_even_a_busier_one(router, desk, uow):
    router.hire(name="Idle", skills=["impresoras"])
    expert = router.hire(name="Expert", skills=["VPN", "redes"])
    router.open(assignee_id=expert)  # busier

    ticket_id = router.open(required_skills=["vpn", "redes"])

    assert desk.assignee_of(ticket_id) == expert
    decision = uow.decisions.rows[-1]
    assert {c["name"]: c["passed_over"] for c in decision["candidates"]}["Idle"] == "lacks skills: redes, vpn"


def test_a_ticket_nobody_has_the_skills_for_waits_without_holding_up_the_others_of_its_department(router, desk):
    router.hire(name="Generalist", availability="offline")
    waiting = router.open(required_skills=["mainframe"])
    plain = router.open()
    assert desk.assignee_of(waiting) is None and desk.assignee_of(plain) is None

    generalist = next(u for u in router.directory.users.values() if u["name"] == "Generalist")["id"]
    router.go(generalist, "online")

    assert desk.assignee_of(plain) == generalist and desk.assignee_of(waiting) is None
