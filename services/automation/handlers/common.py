"""What every automation handler shares: reading the caller, pages, and who may see what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpdesk_common.payloads import page_args
from helpdesk_contracts.vocabulary import MANAGER_ROLES, ROLES, STAFF_ROLES
from services.automation.domain.errors import PermissionDenied, ValidationFailed
from services.automation.domain.model import TrackedTicket


@dataclass(frozen=True)
class Actor:
    """Who is asking (the gateway passes the caller of every request)."""

    id: str | None
    role: str
    department_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGER_ROLES


def actor_from(raw: Any) -> Actor:
    """Read the caller passed with a call."""
    if not isinstance(raw, dict) or raw.get("role") not in ROLES or not isinstance(raw.get("id"), str):
        raise ValidationFailed("A valid actor is required.", {"actor": ["Must carry id and role."]})
    department = raw.get("department_id")
    return Actor(id=raw["id"], role=raw["role"], department_id=department if isinstance(department, str) else None)


def require_staff(actor: Actor, message: str = "Only staff can see how tickets are routed.") -> None:
    if not actor.is_staff:
        raise PermissionDenied(message)


def require_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise PermissionDenied("Only admins can change how tickets are routed.")


def departments_seen(actor: Actor) -> list[str | None] | None:
    """The departments whose routing ``actor`` sees: every one (None) for managers; else their own and
    the not-yet-routed tickets (no department), as agents see tickets."""
    if actor.is_manager:
        return None
    return [actor.department_id, None] if actor.department_id else [None]


def may_see(actor: Actor, ticket: TrackedTicket) -> bool:
    """Whether ``actor`` sees the ticket (the tickets service's rule for staff)."""
    if actor.is_manager:
        return True
    return (ticket.department_id is None or ticket.department_id == actor.department_id
            or (actor.id is not None and ticket.assignee_id == actor.id))


def page_of(page: Any, limit: Any) -> tuple[int, int]:
    return page_args(page, limit)
