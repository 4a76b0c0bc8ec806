"""Commands on a ticket's lifecycle: open, edit, move through statuses, assign, delete.

Every change writes the ticket, its history lines and its events in one transaction."""

from __future__ import annotations

import uuid
from typing import Any

from services.tickets import schemas
from services.tickets.domain import rules, search
from services.tickets.domain.errors import PermissionDenied, ValidationFailed
from services.tickets.domain.model import Ticket
from services.tickets.handlers.common import (
    actor_from,
    answer,
    check_version,
    index_ticket,
    require_staff,
    snapshot,
    visible,
)
from services.tickets.handlers.ports import TicketsUnitOfWork
from services.tickets.handlers.references import (
    Directory,
    check_assignee,
    check_department,
    check_organization,
    file_under_category,
)


def open_ticket(data: dict[str, Any], actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                directory: Directory | None = None) -> dict[str, Any]:
    """Open a ticket; agents may open one on behalf of a requester."""
    actor = actor_from(actor_raw)
    payload = schemas.load(schemas.OpenTicket, data)
    requester_id = payload.pop("requester_id", None)
    check_department(uow, payload.get("department_id"), directory=directory)
    if payload.get("organization_id") and (actor.is_staff or actor.role == "system"):
        check_organization(payload["organization_id"], directory=directory)
    if requester_id and requester_id != actor.id:
        require_staff(actor)
        requester = directory.get_user(requester_id) if directory is not None else None
        if directory is not None and requester is None:
            raise ValidationFailed("Unknown requester.", {"requester_id": ["No such user."]})
        if requester and requester.get("role") == "customer" and not payload.get("organization_id"):
            payload["organization_id"] = requester.get("organization_id")  # shared with their colleagues too
    requester_id = requester_id or actor.id
    if requester_id is None:
        raise ValidationFailed("A requester is required.", {"requester_id": ["Missing."]})
    if not actor.is_staff and actor.role != "system":
        payload["organization_id"] = actor.organization_id
    file_under_category(uow, payload, route=True)
    repo = uow.tickets
    number = rules.format_number(repo.next_number())
    ticket = Ticket(id=str(uuid.uuid4()), number=number, requester_id=requester_id, now=uow.clock.now(),
                    created_by=actor.id, **payload)
    repo.insert_new(ticket)
    repo.record_history(ticket.id, actor=actor, action="created", changes=None, now=uow.clock.now())
    index_ticket(uow, ticket, [])
    uow.emit("ticket.created", {"ticket": snapshot(ticket, uow=uow), "actor": actor.to_dict()})
    uow.commit()
    return answer(ticket, actor, uow=uow)


def update_ticket(ticket_id: str, changes: dict[str, Any], actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                  expected_version: int | None = None) -> dict[str, Any]:
    """Edit a ticket's fields (agents; requesters only title/description while new)."""
    actor = actor_from(actor_raw)
    payload = schemas.load(schemas.EditTicket, changes)
    ticket = visible(uow, ticket_id, actor, for_update=True)
    check_version(ticket, expected_version)
    if payload.get("category") != ticket.category:  # a client sending back what it read is no change to check
        file_under_category(uow, payload, route=False)
    applied = ticket.edit(payload, actor=actor, now=uow.clock.now())
    if applied:
        uow.tickets.record_history(ticket.id, actor=actor, action="updated", changes=applied, now=uow.clock.now())
        if search.INDEXED_FIELDS & applied.keys():
            index_ticket(uow, ticket)
        uow.emit("ticket.updated", {"ticket": snapshot(ticket, uow=uow), "changes": applied, "actor": actor.to_dict()})
    uow.commit()
    return answer(ticket, actor, uow=uow)


def change_status(ticket_id: str, status: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                  resolution: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
    """Move a ticket through its lifecycle."""
    actor = actor_from(actor_raw)
    if resolution is not None and (not isinstance(resolution, str) or len(resolution) > schemas.COMMENT_MAX):
        raise ValidationFailed("Invalid resolution.", {"resolution": [f"At most {schemas.COMMENT_MAX} characters."]})
    ticket = visible(uow, ticket_id, actor, for_update=True)
    check_version(ticket, expected_version)
    previous = ticket.status
    applied = ticket.change_status(status, actor=actor, now=uow.clock.now(), resolution=resolution)
    uow.tickets.record_history(ticket.id, actor=actor, action="status_changed", changes=applied, now=uow.clock.now())
    uow.emit("ticket.status_changed", {"ticket": snapshot(ticket, uow=uow), "from": previous, "to": ticket.status,
                                       "resolution": ticket.resolution, "actor": actor.to_dict()})
    uow.commit()
    return answer(ticket, actor, uow=uow)


def close_ticket(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork, resolution: str | None = None,
                 expected_version: int | None = None) -> dict[str, Any]:
    """Close a ticket with an optional resolution."""
    return change_status(ticket_id, "closed", actor_raw, uow=uow, resolution=resolution,
                         expected_version=expected_version)


def assign_ticket(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork, assignee_id: str | None = None,
                  department_id: str | None = None, set_department: bool = False, set_assignee: bool = True,
                  directory: Directory | None = None, expected_version: int | None = None) -> dict[str, Any]:
    """Give a ticket to an agent and/or a department.

    ``set_assignee``/``set_department`` say which of the two the caller means to change, so that moving a
    ticket to another department keeps its agent; ``assignee_id=None`` with ``set_assignee`` unassigns.
    """
    actor = actor_from(actor_raw)
    require_staff(actor)
    if not set_assignee and not set_department:
        raise ValidationFailed("Give an assignee, a department, or both.", {"assignee_id": ["Missing."]})
    if set_assignee:
        check_assignee(assignee_id, directory=directory)
    if set_department:
        check_department(uow, department_id, directory=directory)
    ticket = visible(uow, ticket_id, actor, for_update=True)
    check_version(ticket, expected_version)
    previous_assignee, previous_department = ticket.assignee_id, ticket.department_id
    applied = ticket.assign(assignee_id=assignee_id if set_assignee else ticket.assignee_id,
                            department_id=department_id, set_department=set_department, now=uow.clock.now())
    if applied:
        uow.tickets.record_history(ticket.id, actor=actor, action="assigned", changes=applied, now=uow.clock.now())
        if "status" in applied:
            uow.emit("ticket.status_changed", {"ticket": snapshot(ticket, uow=uow), "from": applied["status"]["before"],
                                               "to": ticket.status, "resolution": ticket.resolution,
                                               "actor": actor.to_dict()})
        if ticket.assignee_id is None and previous_assignee is not None and set_assignee and not set_department:
            uow.emit("ticket.unassigned", {"ticket": snapshot(ticket, uow=uow),
                                           "previous_assignee_id": previous_assignee, "actor": actor.to_dict()})
        else:
            uow.emit("ticket.assigned", {"ticket": snapshot(ticket, uow=uow), "assignee_id": ticket.assignee_id,
                                         "previous_assignee_id": previous_assignee,
                                         "department_id": ticket.department_id,
                                         "previous_department_id": previous_department, "actor": actor.to_dict()})
    uow.commit()
    return answer(ticket, actor, uow=uow)


def change_priority(ticket_id: str, priority: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                    expected_version: int | None = None) -> dict[str, Any]:
    """Set a ticket's priority (agents)."""
    actor = actor_from(actor_raw)
    require_staff(actor)
    return update_ticket(ticket_id, {"priority": priority}, actor_raw, uow=uow, expected_version=expected_version)


def delete_ticket(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> None:
    """Soft-delete a ticket (admins)."""
    actor = actor_from(actor_raw)
    if actor.role not in ("admin", "system"):
        raise PermissionDenied("Only admins can delete tickets.")
    ticket = visible(uow, ticket_id, actor, for_update=True)
    ticket.soft_delete(now=uow.clock.now())
    uow.search.delete(ticket.id)
    uow.tickets.record_history(ticket.id, actor=actor, action="deleted", changes=None, now=uow.clock.now())
    uow.emit("ticket.deleted", {"ticket": snapshot(ticket, uow=uow), "actor": actor.to_dict()})
    uow.commit()
