"""The tickets service's copy of what it needs to know about organizations: whether they share tickets.

Fed by the users service's ``organization.*`` events (see ``handlers.project_organization``), so deciding
what a customer may see never waits on another service.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, String, Table, insert, select, update
from sqlalchemy.orm import Session

from helpdesk_common.db import UtcDateTime
from services.tickets.adapters.orm import metadata
from services.tickets.domain.rules import Actor

organizations = Table(
    "ticket_organizations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("shared_tickets", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


class SqlAlchemyOrganizationRepository:
    """Organization rows (id, shared_tickets, as of updated_at) in the tickets database."""

    def __init__(self, session: Session):
        self.session = session

    def find(self, organization_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(organizations).where(organizations.c.id == organization_id)).first()
        return dict(row._mapping) if row is not None else None

    def shares_tickets(self, organization_id: str) -> bool:
        """Tell whether an organization's members see each other's tickets (unknown: no)."""
        return bool(self.session.scalar(
            select(organizations.c.shared_tickets).where(organizations.c.id == organization_id)))

    def with_sharing(self, actor: Actor) -> Actor:
        """Return ``actor`` with ``organization_shared`` as this projection says (never the caller's word).

        Only a customer with an organization is looked up; anyone else is returned as is.
        """
        if actor.role != "customer" or not actor.organization_id:
            return actor
        return dataclasses.replace(actor, organization_shared=self.shares_tickets(actor.organization_id))

    def shared_older_than(self, moment: datetime) -> list[str]:
        """Return the ids of organizations stored as sharing whose last known fact is older than ``moment``."""
        return list(self.session.scalars(select(organizations.c.id).where(
            organizations.c.shared_tickets.is_(True), organizations.c.updated_at < moment)))

    def apply(self, organization_id: str, *, shared_tickets: bool, as_of: datetime) -> bool:
        """Store what an event says unless a newer fact is already stored; tell whether it was applied.

        Two replicas inserting the same new organization at once: the primary key lets one commit, the
        other's event is retried and then finds the row.
        """
        current = self.session.execute(
            select(organizations.c.updated_at).where(organizations.c.id == organization_id).with_for_update()
        ).first()
        if current is None:
            self.session.execute(insert(organizations).values(
                id=organization_id, shared_tickets=shared_tickets, updated_at=as_of))
            return True
        if as_of < current.updated_at:
            return False  # an older event arriving late
        self.session.execute(update(organizations).where(organizations.c.id == organization_id)
                             .values(shared_tickets=shared_tickets, updated_at=as_of))
        return True
