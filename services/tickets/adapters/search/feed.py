"""Read search documents from the tickets database: one ticket (for an event) or all of them (a reindex).

Ticket events carry a snapshot without the description or the thread, so an event only says *which*
ticket to copy; its current state is read here. Stale or repeated events are then harmless: they copy
the same (or a newer) version, and an index that keeps versions ignores what it already has.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.tickets.adapters.orm import comments, tickets
from services.tickets.domain.search.port import SearchDocument, TicketSearchIndex, document_for

# the columns a document needs, named: migration 0002 runs this on the tickets table as revision 0001 left it
_COLUMNS = [tickets.c[name] for name in (
    "id", "number", "title", "description", "status", "priority", "requester_id", "assignee_id", "department_id",
    "organization_id", "category", "source", "tags", "created_at", "updated_at", "version", "deleted_at",
)]


def sync_ticket(db: Any, ticket_id: str, *, index: TicketSearchIndex) -> None:
    """Copy one ticket's current state into ``index`` (a deleted ticket is deleted there)."""
    ticket = db.execute(select(*_COLUMNS).where(tickets.c.id == ticket_id)).first()
    if ticket is None:
        index.delete(ticket_id)
        return
    if ticket.deleted_at is not None:
        index.delete(ticket_id, version=ticket.version)
        return
    thread = db.execute(
        select(comments.c.body, comments.c.internal)
        .where(comments.c.ticket_id == ticket_id)
        .order_by(comments.c.created_at, comments.c.id)
    ).all()
    index.index(document_for(ticket, thread))


def documents(
    db: Any, *, batch_size: int = 500, changed_since: datetime | None = None, include_deleted: bool = False
) -> Iterator[tuple[SearchDocument, bool]]:
    """Yield ``(document, deleted)`` for every ticket (changed since a moment), in id order, a batch at a time."""
    after = ""
    while True:
        query = select(*_COLUMNS).where(tickets.c.id > after).order_by(tickets.c.id).limit(batch_size)
        if not include_deleted:
            query = query.where(tickets.c.deleted_at.is_(None))
        if changed_since is not None:
            query = query.where(tickets.c.updated_at >= changed_since)
        batch = db.execute(query).all()
        if not batch:
            return
        threads: dict[str, list[Any]] = {row.id: [] for row in batch}
        for comment in db.execute(
            select(comments.c.ticket_id, comments.c.body, comments.c.internal)
            .where(comments.c.ticket_id.in_(list(threads)))
            .order_by(comments.c.ticket_id, comments.c.created_at, comments.c.id)
        ):
            threads[comment.ticket_id].append(comment)
        for row in batch:
            yield document_for(row, threads[row.id]), row.deleted_at is not None
        after = batch[-1].id
