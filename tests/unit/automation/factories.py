"""Builders shared by the automation tests: callers, domain agents and tickets, the users' and tickets'
snapshots their events carry (checked against the published schemas), and the envelopes themselves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.events import latest_version, validate_data
from services.automation.domain.model import Agent, TrackedTicket

DEPT_A = str(uuid.uuid4())
DEPT_B = str(uuid.uuid4())
DEPT_MISSING = str(uuid.uuid4())  # no such department in the users service
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # FakeClock's default start


def new_id() -> str:
    return str(uuid.uuid4())


def actor(role: str, *, department_id: str | None = None, id: str | None = "new") -> dict[str, Any]:
    """The actor dict the gateway passes with every call (a fresh id unless given)."""
    return {"id": new_id() if id == "new" else id, "role": role, "department_id": department_id,
            "organization_id": None}


# -- domain objects (routing rules) ------------------------------------------------------------------


def agent(name: str = "Ana", **overrides: Any) -> Agent:
    """An active, online agent with room for tickets; keyword overrides win."""
    fields: dict[str, Any] = {"id": f"agent-{name.lower()}", "name": name, "role": "agent", "status": "active",
                              "availability": "online", "department_id": DEPT_A, "skills": [],
                              "max_concurrent_tickets": 5, "last_assigned_at": None}
    fields.update(overrides)
    return Agent(**fields)


def tracked(**overrides: Any) -> TrackedTicket:
    """An unassigned new ticket of department A; keyword overrides win."""
    fields: dict[str, Any] = {"id": new_id(), "number": "TKT-000001", "title": "VPN is down", "status": "new",
                              "priority": "medium", "department_id": DEPT_A, "category": None, "assignee_id": None,
                              "requester_id": new_id(), "created_at": START, "version": 1}
    fields.update(overrides)
    return TrackedTicket(**fields)


# -- what the users and tickets services publish ---------------------------------------------------

_numbers = iter(range(1, 10**6))


def ticket_snapshot(**overrides: Any) -> dict[str, Any]:
    """A ticket as ``ticket.*`` events carry it (TICKET_SNAPSHOT): new, unassigned, of department A."""
    created = overrides.pop("created_at", START)
    snapshot: dict[str, Any] = {
        "id": new_id(), "number": f"TKT-{next(_numbers):06d}", "title": "VPN is down", "status": "new",
        "priority": "medium", "urgency": None, "impact": None, "category": None, "tags": [],
        "requester_id": new_id(), "assignee_id": None, "department_id": DEPT_A, "organization_id": None,
        "source": "web", "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "updated_at": START.isoformat(), "first_response_at": None, "resolved_at": None, "closed_at": None,
        "reopen_count": 0, "version": 1,
    }
    snapshot.update(overrides)
    return snapshot


def user_snapshot(role: str = "agent", **overrides: Any) -> dict[str, Any]:
    """A user as ``user.*`` events carry it (USER_SNAPSHOT): an active, offline agent of department A."""
    user_id = overrides.pop("id", None) or new_id()
    snapshot: dict[str, Any] = {
        "id": user_id, "email": f"{role}-{user_id[:8]}@example.com", "name": f"{role.title()} {user_id[:4]}",
        "role": role, "status": "active", "availability": "offline", "department_id": DEPT_A,
        "organization_id": None, "skills": [], "max_concurrent_tickets": 5, "max_concurrent_chats": 3, "version": 1,
    }
    snapshot.update(overrides)
    return snapshot


def envelope(type: str, data: dict[str, Any], *, at: datetime) -> Envelope:
    """An event as it arrives from the broker (``occurred_at`` a string), its data valid for its type."""
    validate_data(type, latest_version(type), data)
    producer = "tickets" if type.startswith("ticket.") else "users"
    sent = Envelope.new(type, data, producer=producer, occurred_at=at, version=latest_version(type))
    return Envelope.from_dict(sent.to_dict())


def ticket_event(type: str, snapshot: dict[str, Any], *, at: datetime, **extra: Any) -> Envelope:
    """A ``ticket.*`` event about ``snapshot`` (the fields each type requires besides it filled in)."""
    actor_field = {"id": None, "role": "system", "via": "test"}
    data: dict[str, Any] = {"ticket": dict(snapshot), "actor": actor_field}
    if type == "ticket.updated":
        data["changes"] = {}
    elif type == "ticket.status_changed":
        data.update({"from": "new", "to": snapshot["status"], "resolution": None})
    elif type == "ticket.assigned":
        data.update({"assignee_id": snapshot["assignee_id"], "previous_assignee_id": None,
                     "department_id": snapshot["department_id"], "previous_department_id": None})
    data.update(extra)
    return envelope(type, data, at=at)


def user_event(type: str, user: dict[str, Any], *, at: datetime) -> Envelope:
    data: dict[str, Any] = {"user": dict(user)}
    if type == "user.updated":
        data["changes"] = {}
    return envelope(type, data, at=at)


def availability_event(user: dict[str, Any], availability: str, *, at: datetime, previous: str = "offline") -> Envelope:
    return envelope("agent.availability_changed", {
        "user_id": user["id"], "availability": availability, "previous": previous,
        "department_id": user.get("department_id"), "skills": list(user.get("skills") or [])}, at=at)
