"""Pure rules of tickets: the ITIL priority matrix, the lifecycle table, numbering and who sees what."""

import re

import pytest

from helpdesk_contracts.events import TICKET_SNAPSHOT
from services.tickets.domain import rules

# priority_from: the ITIL matrix (rows urgency, columns impact), all 16 cells

MATRIX = [
    # urgency, impact, priority
    ("low", "low", "low"),
    ("low", "medium", "low"),
    ("low", "high", "medium"),
    ("low", "critical", "high"),
    ("medium", "low", "low"),
    ("medium", "medium", "medium"),
    ("medium", "high", "high"),
    ("medium", "critical", "high"),
    ("high", "low", "medium"),
    ("high", "medium", "high"),
    ("high", "high", "high"),
    ("high", "critical", "urgent"),
    ("critical", "low", "high"),
    ("critical", "medium", "high"),
    ("critical", "high", "urgent"),
    ("critical", "critical", "urgent"),
]


@pytest.mark.parametrize(("urgency", "impact", "priority"), MATRIX, ids=[f"{u}-{i}" for u, i, _ in MATRIX])
def test_priority_from_follows_the_itil_matrix(urgency, impact, priority):
    assert rules.priority_from(urgency, impact) == priority


def test_priority_matrix_covers_every_level_pair():
    assert {(u, i) for u, i, _ in MATRIX} == {(u, i) for u in rules.LEVELS for i in rules.LEVELS}


def test_priority_from_never_drops_when_urgency_or_impact_rises():
    rank = rules.PRIORITIES.index
    for a, lower in enumerate(rules.LEVELS):
        for higher in rules.LEVELS[a:]:
            for other in rules.LEVELS:
                assert rank(rules.priority_from(higher, other)) >= rank(rules.priority_from(lower, other))
                assert rank(rules.priority_from(other, higher)) >= rank(rules.priority_from(other, lower))


def test_priority_from_is_symmetric_in_urgency_and_impact():
    for u in rules.LEVELS:
        for i in rules.LEVELS:
            assert rules.priority_from(u, i) == rules.priority_from(i, u)


# legal_next: the lifecycle

LIFECYCLE = {
    "new": {"open", "in_progress", "waiting", "resolved", "closed"},
    "open": {"in_progress", "waiting", "resolved", "closed"},
    "in_progress": {"waiting", "resolved", "closed"},
    "waiting": {"in_progress", "resolved", "closed"},
    "resolved": {"closed", "open"},
    "closed": {"open"},
}


@pytest.mark.parametrize("status", rules.STATUSES)
def test_legal_next_lists_the_allowed_moves(status):
    assert set(rules.legal_next(status)) == LIFECYCLE[status]


@pytest.mark.parametrize("status", rules.STATUSES)
def test_legal_next_never_allows_staying_put(status):
    assert status not in rules.legal_next(status)


def test_legal_next_allows_reopening_only_from_resolved_or_closed():
    reopenable = {s for s in rules.STATUSES if "open" in rules.legal_next(s)} - {"new"}
    assert reopenable == set(rules.REOPEN_FROM) == {"resolved", "closed"}


def test_legal_next_never_goes_back_to_new():
    assert all("new" not in rules.legal_next(s) for s in rules.STATUSES)


def test_legal_next_rejects_unknown_status():
    with pytest.raises(KeyError):
        rules.legal_next("archived")


# format_number


@pytest.mark.parametrize(
    ("sequence", "number"),
    [(1, "TKT-000001"), (123, "TKT-000123"), (999_999, "TKT-999999"), (1_000_000, "TKT-1000000")],
)
def test_format_number_pads_to_six_digits(sequence, number):
    assert rules.format_number(sequence) == number


@pytest.mark.parametrize("sequence", [1, 42, 999_999, 1_000_000])
def test_format_number_matches_the_event_contract(sequence):
    pattern = TICKET_SNAPSHOT["properties"]["number"]["pattern"]
    assert re.fullmatch(pattern, rules.format_number(sequence))


# Actor


@pytest.mark.parametrize(
    ("role", "staff", "manager"),
    [
        ("customer", False, False),
        ("agent", True, False),
        ("supervisor", True, True),
        ("admin", True, True),
        ("system", False, False),
    ],
)
def test_actor_role_flags(role, staff, manager):
    actor = rules.Actor(id="x", role=role)
    assert (actor.is_staff, actor.is_manager) == (staff, manager)


def test_actor_system_has_no_id_and_keeps_its_channel():
    actor = rules.Actor.system("automation")
    assert (actor.id, actor.role, actor.via) == (None, "system", "automation")
    assert actor.to_dict() == {"id": None, "role": "system", "via": "automation"}


# can_view: who sees what

ME, OTHER, THIRD = "me", "other", "third"
A, B = "dept-a", "dept-b"

# (role, actor department, ticket requester, ticket department, ticket assignee, visible)
VISIBILITY = {
    "admin sees another department's assigned ticket": ("admin", None, OTHER, B, THIRD, True),
    "supervisor sees outside own department": ("supervisor", A, OTHER, B, THIRD, True),
    "system sees everything": ("system", None, OTHER, B, THIRD, True),
    "agent sees own department's ticket": ("agent", A, OTHER, A, None, True),
    "agent sees own department's ticket assigned to someone else": ("agent", A, OTHER, A, THIRD, True),
    "agent sees a not-yet-routed ticket": ("agent", A, OTHER, None, None, True),
    "agent sees a not-yet-routed ticket assigned to another": ("agent", A, OTHER, None, THIRD, True),
    "agent sees another department's ticket assigned to them": ("agent", A, OTHER, B, ME, True),
    "agent misses another department's unassigned ticket": ("agent", A, OTHER, B, None, False),
    "agent misses another department's ticket assigned to another": ("agent", A, OTHER, B, THIRD, False),
    "agent misses another department's ticket they requested": ("agent", A, ME, B, None, False),
    "agent without department sees not-yet-routed": ("agent", None, OTHER, None, None, True),
    "agent without department misses routed": ("agent", None, OTHER, B, None, False),
    "customer sees own ticket": ("customer", None, ME, None, None, True),
    "customer sees own ticket routed and assigned": ("customer", None, ME, B, THIRD, True),
    "customer misses another's ticket": ("customer", None, OTHER, None, None, False),
    "customer misses another's ticket even if in their department": ("customer", A, OTHER, A, None, False),
    "customer misses a ticket assigned to their id": ("customer", None, OTHER, None, ME, False),
}


@pytest.mark.parametrize(
    ("role", "actor_department", "requester", "department", "assignee", "visible"),
    list(VISIBILITY.values()),
    ids=list(VISIBILITY),
)
def test_can_view_follows_the_visibility_table(role, actor_department, requester, department, assignee, visible):
    actor = rules.Actor(id=ME, role=role, department_id=actor_department)
    assert rules.can_view(actor, requester_id=requester, department_id=department, assignee_id=assignee) is visible
