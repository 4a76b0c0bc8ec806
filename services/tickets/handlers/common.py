"""What every tickets handler needs: the caller, the ticket they may see, and the answer they get."""

from __future__ import annotations

from typing import Any

from helpdesk_common.payloads import page_args
from services.tickets import schemas
from services.tickets.domain import rules, search
from services.tickets.domain.errors import PermissionDenied, StaleTicket, TicketNotFound, ValidationFailed
from services.tickets.domain.model import Comment, Ticket
from services.tickets.handlers.ports import TicketsUnitOfWork


def actor_from(raw: dict[str, Any] | None) -> rules.Actor:
    """Read the caller the gateway (or another service) passes with every call."""
    if not isinstance(raw, dict) or raw.get("role") not in (*rules.STAFF_ROLES, "customer", "system"):
        raise ValidationFailed("A valid actor is required.", {"actor": ["Must carry id and role."]})
    if raw["role"] != "system" and not raw.get("id"):
        raise ValidationFailed("A valid actor is required.", {"actor": ["Only the system may act without an id."]})
    return rules.Actor(
        id=raw.get("id"),
        role=raw["role"],
        department_id=raw.get("department_id"),
        organization_id=raw.get("organization_id"),
        via=str(raw.get("via") or "api")[:100],
    )


def visible(uow: TicketsUnitOfWork, ticket_id: str, actor: rules.Actor, *, for_update: bool = False) -> Ticket:
    """Return the ticket if ``actor`` may see it; TicketNotFound otherwise (as if it did not exist)."""
    ticket = uow.tickets.get(ticket_id, for_update=for_update)
    if not rules.can_view(actor, requester_id=ticket.requester_id, department_id=ticket.department_id,
                          assignee_id=ticket.assignee_id, organization_id=ticket.organization_id,
                          organization_shared=shares(uow, actor, ticket)):
        raise TicketNotFound()  # no existence oracle for tickets one may not see
    if for_update:
        # a command's snapshot names its category's skills: read them (kept by uow.categories) before the
        # command queues its writes, which a read after them would send early, one more round trip
        required_skills(uow, ticket)
    return ticket


def shares(uow: TicketsUnitOfWork, actor: rules.Actor, ticket: Ticket) -> bool:
    """Tell whether ``ticket`` is shared with ``actor`` through their organization (asked only when it matters)."""
    if actor.id == ticket.requester_id or not rules.is_shared_with(
            actor, organization_id=ticket.organization_id, organization_shared=True):
        return False
    return uow.organizations.shares_tickets(ticket.organization_id)


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    """Refuse a change made against another version of the ticket than its current one (StaleTicket)."""
    if expected_version is None:
        return
    try:
        expected_version = int(expected_version)
    except (TypeError, ValueError):
        raise ValidationFailed("expected_version must be an integer.", {"expected_version": ["Must be an integer."]}) from None
    if expected_version != ticket.version:
        raise StaleTicket(
            f"The ticket changed since you read it (you had version {expected_version}, it is now {ticket.version}).",
            {"version": [str(ticket.version)]},
        )


def require_staff(actor: rules.Actor) -> None:
    """Refuse callers who are neither staff nor the system."""
    if not actor.is_staff and actor.role != "system":
        raise PermissionDenied("Only agents can do this.")


def required_skills(uow: TicketsUnitOfWork, ticket: Ticket) -> list[str]:
    """Return the skills the ticket's category needs: none without a category or for a name no category has
    (deleted or renamed since the ticket was filed). Read once per unit of work (``uow.categories`` keeps it)."""
    return _skills(uow.categories.find_by_name(ticket.category) if ticket.category else None)


def _skills(category: dict[str, Any] | None) -> list[str]:
    return list(category["required_skills"] or []) if category else []


def snapshot(ticket: Ticket, *, uow: TicketsUnitOfWork) -> dict[str, Any]:
    """Return the ticket as events carry it."""
    return schemas.ticket_snapshot(ticket, required_skills=required_skills(uow, ticket))


def answer(ticket: Ticket, actor: rules.Actor, *, uow: TicketsUnitOfWork,
           skills: list[str] | None = None) -> dict[str, Any]:
    """Return the ticket as ``actor`` reads it (staff fields, their side's unread count, its category's skills:
    ``skills`` when the caller read them already, see ``answer_page``)."""
    side = rules.reader_side(actor, requester_id=ticket.requester_id)
    return schemas.ticket_view(ticket, staff=actor.is_staff or actor.role == "system",
                               required_skills=required_skills(uow, ticket) if skills is None else skills,
                               unread=ticket.unread_for(side) if side else None)


def answer_page(tickets: list[Ticket], actor: rules.Actor, *, uow: TicketsUnitOfWork) -> list[dict[str, Any]]:
    """Return a page of tickets as ``actor`` reads them, their categories read in one query (none when no
    ticket on the page has a category)."""
    found = uow.categories.find_by_names({t.category for t in tickets if t.category})
    return [answer(t, actor, uow=uow, skills=_skills(found.get(t.category))) for t in tickets]


def index_ticket(uow: TicketsUnitOfWork, ticket: Ticket, comments: list[Comment] | None = None) -> None:
    """Rewrite the ticket's row in the embedded search index, in this transaction."""
    if comments is None:
        comments = uow.comments.of(ticket.id, include_internal=True)
    uow.search.index(search.document_for(ticket, comments))


def list_filters(actor: rules.Actor, filters: dict[str, Any] | None) -> dict[str, Any]:
    """Load the list's filters (``assignee_id=me`` is the caller)."""
    loaded = schemas.load(schemas.ListFilters, filters or {})
    if loaded.get("assignee_id") == "me":
        loaded["assignee_id"] = actor.id
    return loaded


def page_of(page: Any, limit: Any) -> tuple[int, int]:
    """Read a page number and size (bad ones are ValidationFailed)."""
    return page_args(page, limit, max_limit=schemas.MAX_PAGE_SIZE)
