"""Pure rules of tickets: the lifecycle, the ITIL priority matrix, numbering and who sees what."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# the service's names for the shared vocabulary (handlers and adapters import them from here)
from helpdesk_contracts.vocabulary import (  # noqa: F401
    INVERSE_LINK_KIND,
    LEVELS,
    LINK_KINDS,
    MANAGER_ROLES,
    MENTIONS_MAX,
    PRIORITIES,
    REOPEN_FROM,
    SOURCES,
    STAFF_ROLES,
    TRANSITIONS,
)
from helpdesk_contracts.vocabulary import TICKET_STATUSES as STATUSES  # noqa: F401

SORTABLE_FIELDS = ("created_at", "updated_at", "priority", "status", "number", "title")
"""What the ticket list sorts by (the repository maps each to its column)."""

# ITIL: priority from urgency × impact (rows: urgency, columns: impact low → critical).
_MATRIX = {
    "critical": ("high", "high", "urgent", "urgent"),
    "high": ("medium", "high", "high", "urgent"),
    "medium": ("low", "medium", "high", "high"),
    "low": ("low", "low", "medium", "high"),
}


def priority_from(urgency: str, impact: str) -> str:
    """Return the ITIL priority for an urgency and an impact."""
    return _MATRIX[urgency][LEVELS.index(impact)]


def legal_next(status: str) -> tuple[str, ...]:
    """Return the statuses a ticket may move to from ``status``."""
    return TRANSITIONS[status]


def format_number(sequence: int) -> str:
    """Return the human number of the n-th ticket: TKT-000123."""
    return f"TKT-{sequence:06d}"


@dataclass(frozen=True)
class Actor:
    """Who asks: taken from the caller's access token by the gateway."""

    id: str | None
    role: str
    department_id: str | None = None
    organization_id: str | None = None
    via: str = "api"
    organization_shared: bool = False
    """Whether the customer's organization shares tickets: set by the tickets service from its own
    projection (never from the caller) where a search index outside the database needs it."""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGER_ROLES

    @classmethod
    def system(cls, via: str) -> Actor:
        """An internal caller (automation, chat escalation)."""
        return cls(id=None, role="system", via=via)

    def to_dict(self) -> dict:
        return {"id": self.id, "role": self.role, "via": self.via}


SYSTEM_AUTHOR = "system"
"""The author id stored for a comment the system writes (a rule's reply, a merge note): answered as null."""


def can_view(actor: Actor, *, requester_id: str, department_id: str | None, assignee_id: str | None,
             organization_id: str | None = None, organization_shared: bool = False) -> bool:
    """Tell whether ``actor`` may see a ticket.

    Managers and the system see everything; agents see their department's tickets, those assigned to
    them and the not-yet-routed ones; customers see the tickets they requested and, when their
    organization shares tickets (``organization_shared``), every ticket of their organization.
    """
    if actor.role == "system" or actor.is_manager:
        return True
    if actor.is_staff:
        return (department_id is None or (actor.department_id is not None and department_id == actor.department_id)
                or (actor.id is not None and assignee_id == actor.id))
    if actor.id is None:
        return False
    return requester_id == actor.id or is_shared_with(actor, organization_id=organization_id,
                                                      organization_shared=organization_shared)


def is_shared_with(actor: Actor, *, organization_id: str | None, organization_shared: bool) -> bool:
    """Tell whether a ticket of ``organization_id`` is visible to ``actor`` only because their organization shares."""
    return (organization_shared and actor.role == "customer" and actor.organization_id is not None
            and organization_id == actor.organization_id)


# the public thread (seed 003): each side keeps its own read position; a public message written by one side
# is unread for the other side until that side reads the thread. Internal notes and system notes count for nobody.
THREAD_SIDES = ("requester", "agents")


def writer_side(actor: Actor) -> str | None:
    """Return the side a public message by ``actor`` comes from: agents, the customer's, or None (the system)."""
    if actor.is_staff:
        return "agents"
    if actor.role == "customer":
        return "requester"
    return None


def reader_side(actor: Actor, *, requester_id: str) -> str | None:
    """Return whose read position ``actor`` moves by reading a ticket's thread.

    Staff read for the agents' side; the requester for the requester's side. Anyone else (the system, a
    colleague of the requester on an organization-shared ticket) keeps no read position on the ticket.
    """
    if actor.is_staff:
        return "agents"
    if actor.role == "customer" and actor.id is not None and actor.id == requester_id:
        return "requester"
    return None


def other_side(side: str) -> str:
    """Return the side a message from ``side`` is unread for."""
    return "agents" if side == "requester" else "requester"


# links between tickets: stored once per pair, ``kind`` (LINK_KINDS) says what the linked ticket is to the other one
_INVERSE_KIND = INVERSE_LINK_KIND


def inverse_kind(kind: str) -> str:
    """Return the kind as seen from the other ticket: the parent of A makes A the child of B."""
    return _INVERSE_KIND[kind]


def stored_link(ticket_id: str, other_id: str, kind: str) -> tuple[str, str, str]:
    """Return the one row of a pair, ``(ticket_id, linked_id, kind of linked_id)``, lowest id first.

    Whichever side a link is made from, the same pair has the same row, so the table's unique pair
    refuses a second link between two tickets.
    """
    if ticket_id <= other_id:
        return ticket_id, other_id, kind
    return other_id, ticket_id, inverse_kind(kind)


def link_kind_from(ticket_id: str, row_ticket_id: str, row_kind: str) -> str:
    """Return what the other ticket of a stored link is to ``ticket_id``."""
    return row_kind if ticket_id == row_ticket_id else inverse_kind(row_kind)


def merge_resolution(target_number: str) -> str:
    """Return the resolution a duplicate is closed with."""
    return f"Merged into {target_number}."


# @mentions in comment bodies: ``@carlos`` (a handle: the e-mail's local part) or ``@carlos@example.com``.
# Not preceded by a word character, so a plain address in the text (``write to ana@example.com``) is no mention.
MAX_MENTIONS = MENTIONS_MAX
_MENTION = re.compile(
    r"(?<![\w.@])@([A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)"
)


def mention_handles(body: str) -> list[str]:
    """Return the handles and e-mails ``@mentioned`` in a text, lower-cased, once each, in order of appearance."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(body or ""):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)[:MAX_MENTIONS]


def resolve_mentions(handles: Iterable[str], people: Iterable[Mapping]) -> list[str]:
    """Return the ids of the active staff ``handles`` name unambiguously, in the handles' order.

    A handle matches a person's whole e-mail, or its local part; a handle that fits nobody (or several
    people) stays plain text.
    """
    staff = [p for p in people if p.get("role") in STAFF_ROLES and p.get("status") == "active" and p.get("email")]
    ids: list[str] = []
    for handle in handles:
        fits = [p for p in staff if (p["email"].lower() == handle if "@" in handle
                                     else p["email"].lower().split("@", 1)[0] == handle)]
        if len(fits) == 1 and fits[0]["id"] not in ids:
            ids.append(fits[0]["id"])
    return ids


def merge_mentions(given: Iterable[str], found: Iterable[str]) -> list[str]:
    """Return the ids given explicitly, then those found in the text, once each, at most ``MAX_MENTIONS``."""
    return list(dict.fromkeys([*given, *found]))[:MAX_MENTIONS]
