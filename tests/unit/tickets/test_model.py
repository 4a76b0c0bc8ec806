"""Entities of the tickets domain, without a database: construction, edits, the lifecycle, assignment and
replies, plus a hypothesis state machine that drives random status moves and checks the invariants."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from helpdesk_common.clock import FakeClock
from services.tickets.domain import rules
from services.tickets.domain.errors import IllegalTransition, PermissionDenied, ValidationFailed
from services.tickets.domain.model import Ticket, normalize_tags
from tests.unit.tickets.factories import new_id


def state(ticket: Ticket) -> dict:
    """Every attribute of a ticket, to compare before and after a refused change."""
    return dict(vars(ticket))


def moved(ticket: Ticket, *path: str, actor: rules.Actor, clock: FakeClock) -> Ticket:
    for status in path:
        clock.advance(minutes=1)
        ticket.change_status(status, actor=actor, now=clock.now())
    return ticket


# construction


def test_ticket_starts_new_at_version_one_when_created(ticket_factory, clock):
    ticket = ticket_factory()
    assert (ticket.status, ticket.version, ticket.reopen_count, ticket.assignee_id) == ("new", 1, 0, None)
    assert ticket.created_at == ticket.updated_at == clock.now()
    assert (ticket.first_response_at, ticket.resolved_at, ticket.closed_at, ticket.deleted_at) == (None,) * 4


def test_ticket_normalises_title_and_tags_when_created(ticket_factory):
    ticket = ticket_factory(title="  Printer  ", tags=[" VPN", "vpn", "Email", "  ", ""])
    assert (ticket.title, ticket.tags) == ("Printer", ["email", "vpn"])


def test_ticket_records_requester_as_creator_unless_told(ticket_factory):
    requester, agent_id = new_id(), new_id()
    assert ticket_factory(requester_id=requester).created_by == requester
    assert ticket_factory(requester_id=requester, created_by=agent_id).created_by == agent_id


def test_ticket_derives_priority_from_urgency_and_impact_when_created(ticket_factory):
    ticket = ticket_factory(priority="low", urgency="critical", impact="high")
    assert ticket.priority == "urgent"


def test_ticket_keeps_given_priority_without_both_urgency_and_impact(ticket_factory):
    assert ticket_factory(priority="high", urgency="low").priority == "high"


# Ticket.edit


def test_edit_returns_only_fields_that_changed(ticket_factory, actor_factory, clock):
    ticket = ticket_factory(title="Old", category="network")
    changes = ticket.edit({"title": "New", "category": "network"}, actor=actor_factory("agent"), now=clock.now())
    assert changes == {"title": {"before": "Old", "after": "New"}}


def test_edit_bumps_version_and_updated_at_once_for_several_fields(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    clock.advance(minutes=5)
    ticket.edit({"title": "T", "description": "D", "category": "c"}, actor=actor_factory("agent"), now=clock.now())
    assert (ticket.version, ticket.updated_at) == (2, clock.now())


def test_edit_changes_nothing_when_values_are_equal(ticket_factory, actor_factory, clock):
    ticket = ticket_factory(tags=["a", "b"])
    before = state(ticket)
    clock.advance(minutes=5)
    assert ticket.edit({"tags": ["B", "a"]}, actor=actor_factory("agent"), now=clock.now()) == {}
    assert state(ticket) == before


def test_edit_normalises_tags(ticket_factory, actor_factory, clock):
    ticket = ticket_factory(tags=["old"])
    changes = ticket.edit({"tags": ["  VPN ", "vpn", "Wi-Fi", ""]}, actor=actor_factory("agent"), now=clock.now())
    assert ticket.tags == ["vpn", "wi-fi"]
    assert changes == {"tags": {"before": ["old"], "after": ["vpn", "wi-fi"]}}


def test_edit_strips_title(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    ticket.edit({"title": "  Spaced  "}, actor=actor_factory("agent"), now=clock.now())
    assert ticket.title == "Spaced"


def test_edit_recomputes_priority_when_urgency_and_impact_change(ticket_factory, actor_factory, clock):
    ticket = ticket_factory(priority="medium")
    changes = ticket.edit({"urgency": "critical", "impact": "critical"}, actor=actor_factory("agent"), now=clock.now())
    assert ticket.priority == "urgent"
    assert changes["priority"] == {"before": "medium", "after": "urgent"}


def test_edit_recomputes_priority_when_only_urgency_changes_and_impact_is_known(ticket_factory, actor_factory, clock):
    ticket = ticket_factory(urgency="low", impact="high")
    assert ticket.priority == "medium"
    ticket.edit({"urgency": "critical"}, actor=actor_factory("agent"), now=clock.now())
    assert ticket.priority == "urgent"


def test_edit_keeps_explicit_priority_over_urgency_and_impact(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    ticket.edit(
        {"urgency": "low", "impact": "low", "priority": "urgent"}, actor=actor_factory("agent"), now=clock.now()
    )
    assert ticket.priority == "urgent"


def test_edit_leaves_priority_alone_when_impact_is_unknown(ticket_factory, actor_factory, clock):
    ticket = ticket_factory(priority="high")
    changes = ticket.edit({"urgency": "low"}, actor=actor_factory("agent"), now=clock.now())
    assert ticket.priority == "high"
    assert set(changes) == {"urgency"}


def test_edit_lets_requester_retitle_a_new_ticket(ticket_factory, actor_factory, clock):
    requester = actor_factory("customer")
    ticket = ticket_factory(requester_id=requester.id)
    changes = ticket.edit({"title": "Better", "description": "More"}, actor=requester, now=clock.now())
    assert set(changes) == {"title", "description"}


@pytest.mark.parametrize(
    "field_value",
    [("priority", "urgent"), ("tags", ["x"]), ("category", "c"), ("metadata", {"k": "v"}), ("urgency", "high")],
)
def test_edit_refuses_requester_other_fields(ticket_factory, actor_factory, clock, field_value):
    requester = actor_factory("customer")
    ticket = ticket_factory(requester_id=requester.id)
    before = state(ticket)
    with pytest.raises(PermissionDenied):
        ticket.edit({"title": "T", field_value[0]: field_value[1]}, actor=requester, now=clock.now())
    assert state(ticket) == before


def test_edit_refuses_requester_once_ticket_is_open(ticket_factory, actor_factory, clock):
    requester = actor_factory("customer")
    ticket = moved(ticket_factory(requester_id=requester.id), "open", actor=actor_factory("agent"), clock=clock)
    before = state(ticket)
    with pytest.raises(PermissionDenied):
        ticket.edit({"title": "Too late"}, actor=requester, now=clock.now())
    assert state(ticket) == before


def test_edit_lets_system_change_any_field_in_any_status(ticket_factory, actor_factory, clock):
    ticket = moved(ticket_factory(), "open", actor=actor_factory("agent"), clock=clock)
    changes = ticket.edit(
        {"priority": "urgent", "tags": ["auto"]}, actor=rules.Actor.system("automation"), now=clock.now()
    )
    assert set(changes) == {"priority", "tags"}


def test_edit_rejects_read_only_field(ticket_factory, actor_factory, clock):
    with pytest.raises(ValidationFailed) as exc:
        ticket_factory().edit({"status": "closed"}, actor=actor_factory("admin"), now=clock.now())
    assert "status" in exc.value.errors


# Ticket.change_status


def test_change_status_moves_and_bumps_version(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    clock.advance(minutes=3)
    changes = ticket.change_status("in_progress", actor=actor_factory("agent"), now=clock.now())
    assert changes == {"status": {"before": "new", "after": "in_progress"}}
    assert (ticket.status, ticket.version, ticket.updated_at) == ("in_progress", 2, clock.now())


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ((), "new"),
        (("open",), "open"),
        (("open",), "new"),
        (("in_progress",), "open"),
        (("waiting",), "open"),
        (("resolved",), "in_progress"),
        (("closed",), "resolved"),
        (("closed",), "waiting"),
    ],
)
def test_change_status_refuses_illegal_move_and_lists_legal_ones(ticket_factory, actor_factory, clock, path, to):
    agent = actor_factory("agent")
    ticket = moved(ticket_factory(), *path, actor=agent, clock=clock)
    before = state(ticket)
    with pytest.raises(IllegalTransition) as exc:
        ticket.change_status(to, actor=agent, now=clock.now())
    for legal in rules.legal_next(ticket.status):
        assert legal in exc.value.message
    assert exc.value.errors["status"]
    assert state(ticket) == before


def test_change_status_rejects_unknown_status(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    with pytest.raises(ValidationFailed) as exc:
        ticket.change_status("archived", actor=actor_factory("agent"), now=clock.now())
    assert "status" in exc.value.errors
    assert ticket.version == 1


def test_change_status_sets_resolved_at_when_resolved(ticket_factory, actor_factory, clock):
    ticket = moved(ticket_factory(), "in_progress", "resolved", actor=actor_factory("agent"), clock=clock)
    assert (ticket.resolved_at, ticket.closed_at) == (clock.now(), None)


def test_change_status_keeps_resolved_at_when_closing_a_resolved_ticket(ticket_factory, actor_factory, clock):
    ticket = moved(ticket_factory(), "resolved", actor=actor_factory("agent"), clock=clock)
    resolved_at = ticket.resolved_at
    moved(ticket, "closed", actor=actor_factory("agent"), clock=clock)
    assert (ticket.resolved_at, ticket.closed_at) == (resolved_at, clock.now())
    assert resolved_at < ticket.closed_at


def test_change_status_sets_resolved_at_when_closing_directly(ticket_factory, actor_factory, clock):
    ticket = moved(ticket_factory(), "open", "closed", actor=actor_factory("agent"), clock=clock)
    assert ticket.resolved_at == ticket.closed_at == clock.now()


@pytest.mark.parametrize("end", ["resolved", "closed"])
def test_change_status_counts_reopen_and_clears_resolution_times(ticket_factory, actor_factory, clock, end):
    ticket = moved(ticket_factory(), "in_progress", end, actor=actor_factory("agent"), clock=clock)
    changes = ticket.change_status("open", actor=actor_factory("agent"), now=clock.now())
    assert (ticket.status, ticket.reopen_count, ticket.resolved_at, ticket.closed_at) == ("open", 1, None, None)
    assert changes["reopen_count"] == {"before": 0, "after": 1}


def test_change_status_counts_every_reopen(ticket_factory, actor_factory, clock):
    ticket = moved(
        ticket_factory(),
        "resolved",
        "open",
        "closed",
        "open",
        "resolved",
        "closed",
        "open",
        actor=actor_factory("agent"),
        clock=clock,
    )
    assert ticket.reopen_count == 3


def test_change_status_records_resolution_when_resolving(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    changes = ticket.change_status("resolved", actor=actor_factory("agent"), now=clock.now(), resolution="Rebooted")
    assert ticket.resolution == "Rebooted"
    assert changes["resolution"] == {"before": None, "after": "Rebooted"}


def test_change_status_ignores_resolution_for_other_moves(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    ticket.change_status("in_progress", actor=actor_factory("agent"), now=clock.now(), resolution="Nope")
    assert ticket.resolution is None


def test_change_status_lets_requester_close_own_ticket(ticket_factory, actor_factory, clock):
    requester = actor_factory("customer")
    ticket = ticket_factory(requester_id=requester.id)
    ticket.change_status("closed", actor=requester, now=clock.now(), resolution="Fixed itself")
    assert (ticket.status, ticket.resolution) == ("closed", "Fixed itself")


@pytest.mark.parametrize("end", ["resolved", "closed"])
def test_change_status_lets_requester_reopen_own_ticket(ticket_factory, actor_factory, clock, end):
    requester = actor_factory("customer")
    ticket = moved(ticket_factory(requester_id=requester.id), end, actor=actor_factory("agent"), clock=clock)
    ticket.change_status("open", actor=requester, now=clock.now())
    assert (ticket.status, ticket.reopen_count) == ("open", 1)


@pytest.mark.parametrize(
    ("path", "to"),
    [((), "in_progress"), ((), "resolved"), ((), "open"), (("in_progress",), "waiting"), (("in_progress",), "open")],
)
def test_change_status_refuses_requester_other_moves(ticket_factory, actor_factory, clock, path, to):
    requester = actor_factory("customer")
    ticket = moved(ticket_factory(requester_id=requester.id), *path, actor=actor_factory("agent"), clock=clock)
    before = state(ticket)
    with pytest.raises(PermissionDenied):
        ticket.change_status(to, actor=requester, now=clock.now())
    assert state(ticket) == before


def test_change_status_refuses_customer_on_someone_elses_ticket(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    with pytest.raises(PermissionDenied):
        ticket.change_status("closed", actor=actor_factory("customer"), now=clock.now())
    assert ticket.status == "new"


# Ticket.assign


def test_assign_opens_a_new_ticket_when_an_agent_is_assigned(ticket_factory, clock):
    ticket = ticket_factory()
    agent_id = new_id()
    changes = ticket.assign(assignee_id=agent_id, department_id=None, set_department=False, now=clock.now())
    assert changes == {"assignee_id": {"before": None, "after": agent_id}, "status": {"before": "new", "after": "open"}}
    assert (ticket.assignee_id, ticket.status, ticket.version) == (agent_id, "open", 2)


def test_assign_keeps_status_of_a_ticket_in_progress(ticket_factory, actor_factory, clock):
    ticket = moved(ticket_factory(), "in_progress", actor=actor_factory("agent"), clock=clock)
    changes = ticket.assign(assignee_id=new_id(), department_id=None, set_department=False, now=clock.now())
    assert set(changes) == {"assignee_id"}
    assert ticket.status == "in_progress"


def test_assign_to_department_only_keeps_a_new_ticket_new(ticket_factory, clock):
    ticket = ticket_factory()
    changes = ticket.assign(assignee_id=None, department_id="d" * 36, set_department=True, now=clock.now())
    assert changes == {"department_id": {"before": None, "after": "d" * 36}}
    assert ticket.status == "new"


def test_assign_ignores_department_unless_told_to_set_it(ticket_factory, clock):
    ticket = ticket_factory(department_id="a" * 36)
    ticket.assign(assignee_id=new_id(), department_id="b" * 36, set_department=False, now=clock.now())
    assert ticket.department_id == "a" * 36


def test_assign_none_unassigns_the_agent(ticket_factory, clock):
    ticket = ticket_factory()
    agent_id = new_id()
    ticket.assign(assignee_id=agent_id, department_id=None, set_department=False, now=clock.now())
    changes = ticket.assign(assignee_id=None, department_id=None, set_department=False, now=clock.now())
    assert changes == {"assignee_id": {"before": agent_id, "after": None}}
    assert (ticket.assignee_id, ticket.status, ticket.version) == (None, "open", 3)


def test_assign_changes_nothing_when_already_assigned_to_that_agent(ticket_factory, clock):
    ticket = ticket_factory()
    agent_id = new_id()
    ticket.assign(assignee_id=agent_id, department_id=None, set_department=False, now=clock.now())
    before = state(ticket)
    clock.advance(minutes=1)
    assert ticket.assign(assignee_id=agent_id, department_id=None, set_department=False, now=clock.now()) == {}
    assert state(ticket) == before


# Ticket.record_reply


def test_record_reply_sets_first_response_for_staff_public_reply(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    clock.advance(minutes=7)
    changes = ticket.record_reply(actor=actor_factory("agent"), internal=False, now=clock.now())
    assert ticket.first_response_at == clock.now()
    assert changes == {"first_response_at": {"before": None, "after": clock.now().isoformat()}}


def test_record_reply_keeps_the_first_response_time(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    ticket.record_reply(actor=actor_factory("agent"), internal=False, now=clock.now())
    first = ticket.first_response_at
    clock.advance(hours=1)
    assert ticket.record_reply(actor=actor_factory("supervisor"), internal=False, now=clock.now()) == {}
    assert ticket.first_response_at == first


@pytest.mark.parametrize(
    ("role", "internal"), [("agent", True), ("admin", True), ("customer", False), ("system", False)]
)
def test_record_reply_leaves_first_response_unset_for_notes_customers_and_system(
    ticket_factory, actor_factory, clock, role, internal
):
    ticket = ticket_factory()
    assert ticket.record_reply(actor=actor_factory(role), internal=internal, now=clock.now()) == {}
    assert ticket.first_response_at is None


def test_record_reply_touches_the_ticket(ticket_factory, actor_factory, clock):
    ticket = ticket_factory()
    clock.advance(minutes=2)
    ticket.record_reply(actor=actor_factory("customer"), internal=False, now=clock.now())
    assert (ticket.version, ticket.updated_at) == (2, clock.now())


# soft delete and tags


def test_soft_delete_stamps_deleted_at(ticket_factory, clock):
    ticket = ticket_factory()
    clock.advance(days=1)
    ticket.soft_delete(now=clock.now())
    assert (ticket.deleted_at, ticket.version) == (clock.now(), 2)


def test_normalize_tags_lowercases_trims_dedupes_and_sorts():
    assert normalize_tags([" b", "A", "a ", "", "   ", "C"]) == ["a", "b", "c"]


# the lifecycle as a state machine

AGENT = rules.Actor(id="00000000-0000-0000-0000-00000000000a", role="agent")
REQUESTER = rules.Actor(id="00000000-0000-0000-0000-00000000000c", role="customer")
STRANGER = rules.Actor(id="00000000-0000-0000-0000-00000000000d", role="customer")


def customer_may(actor: rules.Actor, status: str, to: str) -> bool:
    """What the lifecycle lets a customer do: close or reopen their own ticket."""
    if actor.id != REQUESTER.id:
        return False
    return (to == "closed" and to in rules.legal_next(status)) or (to == "open" and status in rules.REOPEN_FROM)


class TicketLifecycle(RuleBasedStateMachine):
    """Random status moves (plus assignments and replies) by agents and customers on one ticket."""

    def __init__(self):
        super().__init__()
        self.clock = FakeClock()
        self.ticket = Ticket(
            id=new_id(),
            number="TKT-000001",
            title="T",
            description="D",
            requester_id=REQUESTER.id,
            now=self.clock.now(),
        )
        self.reopens = 0
        self.version = 1

    @rule(
        to=st.sampled_from(rules.STATUSES),
        actor=st.sampled_from([AGENT, AGENT, REQUESTER, STRANGER]),
        resolution=st.none() | st.just("Done"),
    )
    def change_status(self, to, actor, resolution):
        ticket = self.ticket
        before = state(ticket)
        self.clock.advance(minutes=1)
        allowed = to in rules.legal_next(ticket.status) and (actor.is_staff or customer_may(actor, ticket.status, to))
        if not allowed:
            with pytest.raises((IllegalTransition, PermissionDenied) if not actor.is_staff else IllegalTransition):
                ticket.change_status(to, actor=actor, now=self.clock.now(), resolution=resolution)
            assert state(ticket) == before
            return
        reopening = before["status"] in rules.REOPEN_FROM and to == "open"
        changes = ticket.change_status(to, actor=actor, now=self.clock.now(), resolution=resolution)
        self.reopens += reopening
        self.version += 1
        assert ticket.status == to
        assert changes["status"] == {"before": before["status"], "after": to}
        assert ticket.updated_at == self.clock.now()

    @precondition(lambda self: self.ticket.status not in rules.REOPEN_FROM)
    @rule(assignee=st.none() | st.sampled_from([AGENT.id, "00000000-0000-0000-0000-0000000000b0"]))
    def assign(self, assignee):
        before = self.ticket.assignee_id
        self.clock.advance(minutes=1)
        changes = self.ticket.assign(
            assignee_id=assignee, department_id=None, set_department=False, now=self.clock.now()
        )
        assert bool(changes) == (assignee != before)
        self.version += bool(changes)

    @rule(actor=st.sampled_from([AGENT, REQUESTER]), internal=st.booleans())
    def reply(self, actor, internal):
        self.clock.advance(minutes=1)
        self.ticket.record_reply(actor=actor, internal=internal and actor.is_staff, now=self.clock.now())
        self.version += 1

    @invariant()
    def status_is_known(self):
        assert self.ticket.status in rules.STATUSES

    @invariant()
    def reopen_count_counts_reopens(self):
        assert self.ticket.reopen_count == self.reopens

    @invariant()
    def closed_at_set_iff_closed(self):
        assert (self.ticket.closed_at is not None) == (self.ticket.status == "closed")

    @invariant()
    def resolved_at_set_iff_resolved_or_closed(self):
        assert (self.ticket.resolved_at is not None) == (self.ticket.status in rules.REOPEN_FROM)

    @invariant()
    def version_counts_changes(self):
        assert self.ticket.version == self.version

    @invariant()
    def timestamps_are_ordered(self):
        ticket = self.ticket
        assert ticket.created_at <= ticket.updated_at
        if ticket.resolved_at and ticket.closed_at:
            assert ticket.resolved_at <= ticket.closed_at <= ticket.updated_at
        if ticket.first_response_at:
            assert ticket.created_at < ticket.first_response_at <= ticket.updated_at


TicketLifecycle.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ticket_lifecycle_keeps_its_invariants_under_random_moves = TicketLifecycle.TestCase
