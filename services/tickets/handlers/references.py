"""The references a ticket holds, checked before they are stored.

A ``department_id``, ``category``, ``assignee_id`` or ``organization_id`` that does not exist is refused
with ValidationFailed naming the field (a 422), so no ticket is filed where no agent looks. Categories are
this service's own; departments come from the local projection (``uow.departments``, kept by
``projections``), and a department it has not heard of yet (a fresh start, an event still in flight)
is asked of the users service before refusing; assignees and organizations are asked of the users service (the ``Directory``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from services.tickets.domain import rules
from services.tickets.domain.errors import ValidationFailed
from services.tickets.handlers.ports import TicketsUnitOfWork

log = logging.getLogger(__name__)


class Directory(Protocol):
    """What the tickets service needs to know about people and teams (the users service, over RPC)."""

    def get_user(self, user_id: str) -> dict[str, Any] | None: ...

    def find_users(self, handles: list[str]) -> list[dict[str, Any]]:
        """Return the people whose e-mail, or its local part, is one of ``handles``."""
        ...

    def get_department(self, department_id: str) -> dict[str, Any] | None: ...

    def get_organization(self, organization_id: str) -> dict[str, Any] | None: ...


def _unknown(field: str, what: str) -> ValidationFailed:
    return ValidationFailed(f"Unknown {what}.", {field: [f"No such {what}."]})


def check_department(uow: TicketsUnitOfWork, department_id: str | None, *, directory: Directory | None,
                     field: str = "department_id") -> None:
    """Refuse a department that does not exist; one the projection has not heard of is asked of users.

    A department the users service confirms is recorded in the projection (as of its ``updated_at``, so
    a newer event still wins; never over a row an event stored meanwhile), and the next ticket for it is
    checked locally.
    """
    if department_id is None:
        return
    repo = uow.departments
    known = repo.exists(department_id)
    if known is False:
        raise _unknown(field, "department")
    if known:
        return
    department = directory.get_department(department_id) if directory is not None else None
    if department is None:
        raise _unknown(field, "department")
    try:
        as_of = datetime.fromisoformat(department["updated_at"])
    except (KeyError, TypeError, ValueError):
        return  # confirmed, but not recordable: the next check asks again
    repo.remember(department_id, as_of=as_of)


def check_organization(organization_id: str | None, *, directory: Directory | None) -> None:
    """Refuse an organization that does not exist (asked of the users service: the projection keeps no deletions)."""
    if organization_id is not None and (directory is None or directory.get_organization(organization_id) is None):
        raise _unknown("organization_id", "organization")


def check_assignee(assignee_id: str | None, *, directory: Directory | None) -> None:
    """Refuse an assignee who is not an active member of staff (unknown, a customer, or deactivated)."""
    if assignee_id is None or directory is None:
        return
    agent = directory.get_user(assignee_id)
    if agent is None or agent.get("role") not in rules.STAFF_ROLES or agent.get("status") == "inactive":
        raise ValidationFailed("The assignee must be an active agent.", {"assignee_id": ["Not an active agent."]})


def file_under_category(uow: TicketsUnitOfWork, payload: dict[str, Any], *, route: bool) -> None:
    """Refuse a category that does not exist; file the ticket under the category's own spelling.

    With ``route`` (a new ticket), a ticket whose caller named no department gets the category's default
    department, when that department still exists (a deleted one routes nowhere rather than out of view).
    """
    name = payload.get("category")
    if not name:
        return
    category = uow.categories.find_by_name(name)
    if category is None:
        raise ValidationFailed(f"Unknown category {name!r}.", {"category": ["No such category."]})
    payload["category"] = category["name"]
    default = category["default_department_id"]
    if route and default and not payload.get("department_id"):
        if uow.departments.exists(default) is False:
            log.warning("category %s routes to department %s, which was deleted", category["id"], default)
            return
        payload["department_id"] = default
