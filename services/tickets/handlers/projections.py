"""What the tickets service knows of the users service's organizations and departments.

Local copies fed by ``organization.*`` / ``department.*`` events (once per event id, through the inbox
claim their reliable handlers make, never over a newer fact) and reconciled with the users service's listings, their safety net."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from helpdesk_contracts.envelope import Envelope
from services.tickets.domain.errors import ValidationFailed
from services.tickets.handlers.ports import TicketsUnitOfWork

log = logging.getLogger(__name__)


def project_organization(envelope: Envelope, *, uow: TicketsUnitOfWork) -> bool:
    """Keep the local copy of whether an organization shares tickets, from ``organization.*`` events.

    Once per event id (its reliable handler claims it in the inbox), and never over a newer fact: events are ordered by the organization's
    ``updated_at`` (a deletion by when it happened, and it stops the sharing). Answers whether it changed
    anything.
    """
    organization, organization_id, deleted, as_of = _fact(envelope, "organization")
    applied = uow.organizations.apply(
        organization_id, shared_tickets=bool(organization.get("shared_tickets")) and not deleted, as_of=as_of)
    uow.commit()
    return applied


def sync_organizations(listing: list[dict[str, Any]], *, uow: TicketsUnitOfWork, listed_since: datetime,
                       complete: bool) -> dict[str, int]:
    """Reconcile the local copy of organizations with a listing of the users service.

    The events keep the copy current; this is their safety net for the facts no queue of ours received
    (organizations older than the copy, or announced before this service first declared its queues).
    The same newer-fact-wins rule as the events applies, so a listing never undoes a newer event.
    With a ``complete`` listing (nothing was added or removed while it was paged), an organization the
    copy holds as sharing but the users service no longer lists, and that no fact has touched since
    ``listed_since``, was deleted meanwhile: it stops sharing.
    """
    repo = uow.organizations
    applied = 0
    listed: set[str] = set()
    for organization in listing:
        try:
            organization_id = str(organization["id"])
            as_of = datetime.fromisoformat(organization["updated_at"])
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("skipping an unreadable organization in the listing: %r", exc)
            continue
        listed.add(organization_id)
        known = repo.find(organization_id)
        shared = bool(organization.get("shared_tickets"))
        if known is not None and known["shared_tickets"] == shared and known["updated_at"] >= as_of:
            continue  # the copy already says this, or something newer
        applied += bool(repo.apply(organization_id, shared_tickets=shared, as_of=as_of))
    unshared = 0
    if complete:
        for organization_id in repo.shared_older_than(listed_since):
            if organization_id not in listed:
                unshared += bool(repo.apply(organization_id, shared_tickets=False, as_of=listed_since))
    uow.commit()
    if applied or unshared:
        log.info("organizations reconciled with the users service: %s updated, %s no longer sharing",
                 applied, unshared)
    return {"listed": len(listed), "updated": applied, "unshared": unshared}


def project_department(envelope: Envelope, *, uow: TicketsUnitOfWork) -> bool:
    """Keep the local copy of which departments exist, from ``department.*`` events.

    Once per event id (its reliable handler claims it in the inbox), never over a newer fact (events are ordered by the department's
    ``updated_at``, a deletion by when it happened), and a deletion is final. Answers whether it changed
    anything.
    """
    _, department_id, deleted, as_of = _fact(envelope, "department")
    applied = uow.departments.apply(department_id, deleted=deleted, as_of=as_of)
    uow.commit()
    return applied


def sync_departments(listing: list[dict[str, Any]], *, uow: TicketsUnitOfWork, listed_since: datetime,
                     complete: bool) -> dict[str, int]:
    """Reconcile the local copy of departments with a listing of the users service.

    The events' safety net, as ``sync_organizations`` is for organizations: a listed department
    the copy never heard of is stored as existing (a tombstone stays); with a ``complete`` listing, one the copy
    holds as existing that is no longer listed and that no fact has touched since ``listed_since`` was
    deleted meanwhile.
    """
    repo = uow.departments
    added, removed = 0, 0
    listed: set[str] = set()
    for department in listing:
        try:
            department_id = str(department["id"])
            as_of = datetime.fromisoformat(department["updated_at"])
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("skipping an unreadable department in the listing: %r", exc)
            continue
        listed.add(department_id)
        if repo.find(department_id) is not None:
            continue  # known to exist, or deleted since the listing was read (a deletion is final)
        added += bool(repo.apply(department_id, deleted=False, as_of=as_of))
    if complete:
        for department_id in repo.alive_older_than(listed_since):
            if department_id not in listed:
                removed += bool(repo.apply(department_id, deleted=True, as_of=listed_since))
    uow.commit()
    if added or removed:
        log.info("departments reconciled with the users service: %s added, %s deleted", added, removed)
    return {"listed": len(listed), "added": added, "deleted": removed}


def _fact(envelope: Envelope, name: str) -> tuple[dict[str, Any], str, bool, datetime]:
    """Read a ``<name>.*`` event: the entity, its id, whether it was deleted, and the moment it is true as of
    (the entity's ``updated_at``; a deletion's own time)."""
    entity = envelope.data.get(name) or {}
    deleted = envelope.type == f"{name}.deleted"
    stamp = envelope.occurred_at if deleted else entity.get("updated_at") or envelope.occurred_at
    try:
        as_of = datetime.fromisoformat(stamp)
        entity_id = str(entity["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed(f"Unreadable {envelope.type} event: {exc!r}") from None  # retried, then parked
    if as_of.utcoffset() is None:
        raise ValidationFailed(f"Unreadable {envelope.type} event: a time without an offset.")
    return entity, entity_id, deleted, as_of
