"""The attachments table (metadata only: the bytes are in ``storage``) and how its rows are read and written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, String, Table, delete, insert, select, update
from sqlalchemy.orm import Session

from helpdesk_common.db import UtcDateTime
from services.tickets.adapters.orm import metadata

attachments = Table(
    "ticket_attachments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("ticket_id", String(36), ForeignKey("tickets.id"), nullable=False),
    Column("comment_id", String(36), ForeignKey("ticket_comments.id")),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(64), nullable=False, unique=True),
    Column("uploaded_by", String(36), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("internal", Boolean, nullable=False),
    Index("ix_ticket_attachments_ticket", "ticket_id", "created_at"),
)


class SqlAlchemyAttachmentRepository:
    """Attachment rows in the tickets database."""

    def __init__(self, session: Session):
        self.session = session

    def add(self, row: dict[str, Any]) -> None:
        self.session.execute(insert(attachments).values(**row))

    def find(self, attachment_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(attachments).where(attachments.c.id == attachment_id)).first()
        return dict(row._mapping) if row is not None else None

    def for_ticket(self, ticket_id: str, *, include_internal: bool) -> list[dict[str, Any]]:
        query = select(attachments).where(attachments.c.ticket_id == ticket_id)
        if not include_internal:
            query = query.where(attachments.c.internal.is_(False))
        rows = self.session.execute(query.order_by(attachments.c.created_at, attachments.c.id))
        return [dict(row._mapping) for row in rows]

    def remove(self, attachment_id: str) -> None:
        self.session.execute(delete(attachments).where(attachments.c.id == attachment_id))

    def move(self, from_ticket_id: str, to_ticket_id: str) -> list[dict[str, Any]]:
        """Move every attachment of one ticket (its own and its comments') to another; return them, oldest first.

        Comment attachments keep their ``comment_id``: the comments move with them.
        """
        moved = self.for_ticket(from_ticket_id, include_internal=True)
        if moved:
            self.session.execute(
                update(attachments).where(attachments.c.ticket_id == from_ticket_id).values(ticket_id=to_ticket_id)
            )
        return [{**row, "ticket_id": to_ticket_id} for row in moved]
