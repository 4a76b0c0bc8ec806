"""What the router knows: agents, the tickets it tracks, and the decisions it makes (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpdesk_contracts.vocabulary import AGENT, PRIORITIES, ROUTING_OUTCOMES, ROUTING_STRATEGIES, SUPERVISOR

# tickets in these states count against an agent's max_concurrent_tickets; waiting/resolved/closed do not
WORKING_STATUSES = ("new", "open", "in_progress")
ASSIGNABLE_ROLES = (AGENT, SUPERVISOR)  # who the router gives tickets to (admins only by hand)
STRATEGIES = ROUTING_STRATEGIES
LEAST_LOADED, ROUND_ROBIN, MANUAL_ONLY = STRATEGIES
DEFAULT_STRATEGY = LEAST_LOADED
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}  # low 0 … urgent 3

# what a decision came to
OUTCOMES = ROUTING_OUTCOMES
ASSIGNED, QUEUED = OUTCOMES


@dataclass
class Agent:
    """One member of staff as the router sees them (a copy of the users service's facts)."""

    id: str
    name: str
    role: str
    status: str
    availability: str
    department_id: str | None
    skills: list[str] = field(default_factory=list)
    max_concurrent_tickets: int = 10
    last_assigned_at: datetime | None = None


@dataclass
class TrackedTicket:
    """One ticket as the router sees it (a copy of the tickets service's facts, by version)."""

    id: str
    number: str
    title: str
    status: str
    priority: str
    department_id: str | None
    category: str | None
    assignee_id: str | None
    requester_id: str | None
    created_at: datetime
    version: int
    deleted: bool = False
    sla_due_at: datetime | None = None
    queued_since: datetime | None = None
    # what time-based rules look at (kept, not used by routing)
    tags: list[str] = field(default_factory=list)
    activity_at: datetime | None = None  # the ticket's own updated_at: its last activity
    first_response_at: datetime | None = None
    required_skills: list[str] = field(default_factory=list)  # its category's: an agent must hold them all

    @property
    def working(self) -> bool:
        return self.status in WORKING_STATUSES and not self.deleted

    @property
    def wants_agent(self) -> bool:
        """Unassigned and still to be worked: the router's business (unless its department routes by hand)."""
        return self.working and self.assignee_id is None

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any], *, deleted: bool = False) -> TrackedTicket:
        """Read the ``ticket`` of a ``ticket.*`` event (or of a tickets RPC answer)."""
        return cls(
            id=str(snapshot["id"]),
            number=str(snapshot.get("number") or ""),
            title=str(snapshot.get("title") or ""),
            status=str(snapshot["status"]),
            priority=str(snapshot.get("priority") or "medium"),
            department_id=snapshot.get("department_id"),
            category=snapshot.get("category"),
            assignee_id=snapshot.get("assignee_id"),
            requester_id=snapshot.get("requester_id"),
            created_at=datetime.fromisoformat(snapshot["created_at"]),
            version=int(snapshot.get("version") or 1),
            deleted=deleted or bool(snapshot.get("deleted_at")),
            tags=list(snapshot.get("tags") or []),
            activity_at=_moment(snapshot.get("updated_at")),
            first_response_at=_moment(snapshot.get("first_response_at")),
            required_skills=list(snapshot.get("required_skills") or []),
        )


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Candidate:
    """One agent the router looked at for a ticket, with their load and, if passed over, why."""

    agent_id: str
    name: str
    load: int
    max_concurrent_tickets: int
    passed_over: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "name": self.name, "load": self.load,
                "max_concurrent_tickets": self.max_concurrent_tickets, "passed_over": self.passed_over}


@dataclass(frozen=True)
class Choice:
    """What the router decided for one ticket: an agent, or the backlog, and why."""

    agent_id: str | None
    strategy: str
    reason: str
    candidates: tuple[Candidate, ...] = ()

    @property
    def outcome(self) -> str:
        return ASSIGNED if self.agent_id else QUEUED
