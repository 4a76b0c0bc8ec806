"""How links between tickets are stored: one row per pair (``rules.stored_link``), read from either side."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.orm import Session

from services.tickets.adapters.orm import links


class SqlAlchemyLinkRepository:
    """Ticket links in the tickets database."""

    def __init__(self, session: Session):
        self.session = session

    def add(self, *, id: str, ticket_id: str, linked_id: str, kind: str, now: datetime, created_by: str | None) -> None:
        self.session.execute(insert(links).values(id=id, ticket_id=ticket_id, linked_id=linked_id, kind=kind,
                                                  created_at=now, created_by=created_by))

    def find(self, ticket_id: str, linked_id: str) -> dict[str, Any] | None:
        """Return the stored row of a pair (give it in stored order), or None."""
        row = self.session.execute(
            select(links).where(and_(links.c.ticket_id == ticket_id, links.c.linked_id == linked_id))
        ).first()
        return dict(row._mapping) if row else None

    def remove(self, link_id: str) -> None:
        self.session.execute(delete(links).where(links.c.id == link_id))

    def of(self, ticket_id: str) -> list[dict[str, Any]]:
        """Return every row naming ``ticket_id`` on either side, oldest first."""
        query = (select(links).where(or_(links.c.ticket_id == ticket_id, links.c.linked_id == ticket_id))
                 .order_by(links.c.created_at, links.c.id))
        return [dict(row._mapping) for row in self.session.execute(query)]
