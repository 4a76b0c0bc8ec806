"""The router's read model: agents and tickets as the users and tickets services describe them.

Fed by their events (once per event id, through the inbox claim of the reliable handlers; never over a
newer fact: tickets and users by their ``version``, availability by when it changed) and reconciled with
their listings at start and periodically, the events' safety net.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.vocabulary import CUSTOMER, STAFF_ROLES
from services.automation.domain.model import TrackedTicket
from services.automation.handlers.ports import AutomationUnitOfWork, Directory, TicketDesk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Effect:
    """What a fact means for routing: a ticket to route, and whether capacity may have freed up."""

    route: str | None = None
    freed: bool = False


def track_ticket(envelope: Envelope, *, uow: AutomationUnitOfWork) -> Effect:
    """Apply a ``ticket.*`` event to the copy; say whether the ticket needs an agent or capacity freed."""
    snapshot = envelope.data["ticket"]
    ticket = TrackedTicket.from_snapshot(snapshot, deleted=envelope.type == "ticket.deleted")
    if envelope.type == "ticket.merged":  # the duplicate is closed; the target comes with it
        _apply(uow, TrackedTicket.from_snapshot(envelope.data["target"]))
    previous = _apply(uow, ticket)
    if envelope.type == "ticket.commented":
        _note_message(uow, envelope.data)
    uow.commit()
    if previous is False:
        return Effect()  # an older or repeated fact
    freed = previous is not None and previous.assignee_id is not None and previous.working and (
        not ticket.working or ticket.assignee_id != previous.assignee_id)
    return Effect(route=ticket.id if ticket.wants_agent else None, freed=freed)


def _note_message(uow: AutomationUnitOfWork, data: dict) -> None:
    """A public message: an agent's answers the requester; the requester's awaits an answer (time rules)."""
    comment = data["comment"]
    if comment.get("internal") or comment.get("author_role") not in (*STAFF_ROLES, CUSTOMER):
        return  # internal notes and the system's messages answer nobody
    uow.tickets.note_message(data["ticket"]["id"], by_staff=comment["author_role"] in STAFF_ROLES,
                             at=datetime.fromisoformat(comment["created_at"]))


def _moment(envelope: Envelope) -> datetime:
    return datetime.fromisoformat(envelope.occurred_at)


def _apply(uow: AutomationUnitOfWork, ticket: TrackedTicket) -> TrackedTicket | None | bool:
    return uow.tickets.apply(ticket, now=uow.clock.now())


def track_user(envelope: Envelope, *, uow: AutomationUnitOfWork) -> Effect:
    """Apply a ``user.*`` event; a member of staff who may now take tickets may drain the backlog."""
    applied = uow.agents.apply_user(envelope.data["user"], as_of=_moment(envelope), now=uow.clock.now())
    uow.commit()
    return Effect(freed=applied)


def track_availability(envelope: Envelope, *, uow: AutomationUnitOfWork) -> Effect:
    """Apply an ``agent.availability_changed`` event (an agent we never heard of is asked for at the next sync)."""
    data = envelope.data
    applied = uow.agents.apply_availability(data["user_id"], data["availability"], as_of=_moment(envelope),
                                            now=uow.clock.now())
    uow.commit()
    return Effect(freed=applied and data["availability"] == "online")


def sync_agents(directory: Directory, *, uow: AutomationUnitOfWork, listed_since: datetime) -> dict[str, int]:
    """Reconcile the copy of staff with the users service's listing (newer facts are never undone)."""
    listed = applied = 0
    for page in directory.staff():
        for user in page:
            listed += 1
            applied += bool(uow.agents.apply_user(user, as_of=listed_since, now=uow.clock.now()))
    uow.commit()
    if applied:
        log.info("agents reconciled with the users service: %s of %s updated", applied, listed)
    return {"listed": listed, "updated": applied}


def sync_tickets(desk: TicketDesk, *, uow: AutomationUnitOfWork) -> dict[str, int]:
    """Reconcile the copy of working tickets with the tickets service.

    Every working ticket listed is applied by version; a ticket the copy holds as working that the listing
    no longer has left its working states (or was deleted) meanwhile: it is asked for one by one.
    """
    listed: set[str] = set()
    applied = 0
    for page in desk.working():
        for snapshot in page:
            listed.add(str(snapshot["id"]))
            applied += uow.tickets.apply(TrackedTicket.from_snapshot(snapshot), now=uow.clock.now()) is not False
        uow.commit()
    refreshed = 0
    for ticket_id in set(uow.tickets.working_versions()) - listed:
        snapshot = desk.get(ticket_id)
        if snapshot is None:
            refreshed += uow.tickets.mark_gone(ticket_id, now=uow.clock.now())
        else:
            refreshed += uow.tickets.apply(TrackedTicket.from_snapshot(snapshot), now=uow.clock.now()) is not False
    uow.commit()
    if applied or refreshed:
        log.info("tickets reconciled with the tickets service: %s listed, %s updated, %s refreshed",
                 len(listed), applied, refreshed)
    return {"listed": len(listed), "updated": applied, "refreshed": refreshed}
