"""Tables of the tickets database and their mapping onto the domain classes."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import registry

from helpdesk_common.db import BigId, UtcDateTime
from helpdesk_contracts.names import NAME_KEY_MAX_CHARS
from services.tickets.domain.model import Comment, Ticket

metadata = MetaData()
_LIVE = text("deleted_at IS NULL")
mapper_registry = registry(metadata=metadata)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("urgency", String(10)),
    Column("impact", String(10)),
    Column("category", String(100)),
    Column("tags", JSON, nullable=False),
    Column("requester_id", String(36), nullable=False),
    Column("assignee_id", String(36)),
    Column("department_id", String(36)),
    Column("organization_id", String(36)),
    Column("source", String(10), nullable=False),
    Column("metadata", JSON, nullable=False, key="metadata_"),
    Column("created_by", String(36)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("first_response_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("resolution", Text),
    Column("reopen_count", Integer, nullable=False),
    Column("deleted_at", UtcDateTime),
    Column("version", Integer, nullable=False),
    # read positions of the public thread per side: counters kept in the comment's transaction, so a page of
    # tickets shows its unread counts without another query
    Column("requester_unread", Integer, nullable=False, server_default="0"),
    Column("agents_unread", Integer, nullable=False, server_default="0"),
    Column("requester_read_at", UtcDateTime),
    Column("agents_read_at", UtcDateTime),
    # the list's indexes hold live tickets only (every list, count, stats and export query asks for
    # ``deleted_at IS NULL``), so a list's total is an index-only scan of a narrow index (migration 0010)
    *(Index(name, *columns, postgresql_where=_LIVE, sqlite_where=_LIVE) for name, columns in (
        ("ix_tickets_status_created", ("status", "created_at")),
        ("ix_tickets_requester", ("requester_id", "created_at")),
        ("ix_tickets_assignee", ("assignee_id", "status")),
        ("ix_tickets_department", ("department_id", "status")),
        ("ix_tickets_created", ("created_at",)),
        ("ix_tickets_updated", ("updated_at",)),
        ("ix_tickets_organization", ("organization_id", "created_at")),
    )),
)

comments = Table(
    "ticket_comments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("ticket_id", String(36), ForeignKey("tickets.id"), nullable=False),
    Column("author_id", String(36), nullable=False),
    Column("author_role", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("internal", Boolean, nullable=False),
    Column("mentions", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_ticket_comments_ticket", "ticket_id", "created_at"),
)

history = Table(
    "ticket_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", String(36), ForeignKey("tickets.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", String(36)),
    Column("actor_role", String(20), nullable=False),
    Column("via", String(100), nullable=False),
    Column("action", String(30), nullable=False),
    Column("field", String(50)),
    Column("before", JSON),
    Column("after", JSON),
    Column("public", Boolean, nullable=False),
    Index("ix_ticket_history_ticket", "ticket_id", "id"),
)

# Ticket numbers: a sequence on PostgreSQL (no lock held across the create's transaction, so concurrent
# creates never wait on each other; a create that fails after taking a number leaves a gap), a counter
# row on SQLite (one writer at a time anyway).
ticket_number_seq = Sequence("ticket_number_seq", metadata=metadata)

counters = Table(
    "ticket_counters",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", BigId, nullable=False),
)

# categories and links are read and written as rows (Core), not mapped onto domain classes
categories = Table(
    "ticket_categories",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("name_key", String(NAME_KEY_MAX_CHARS), nullable=False),  # helpdesk_contracts.names.name_key(name)
    Column("description", Text),
    Column("default_department_id", String(36)),
    # the skills an agent must hold to be routed the category's tickets (rows before migration 0014: none)
    Column("required_skills", JSON, nullable=False, server_default=text("'[]'")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("name", name="uq_ticket_categories_name"),
    Index("uq_ticket_categories_name_key", "name_key", unique=True),  # unique ignoring case, in the database
)

links = Table(
    "ticket_links",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("ticket_id", String(36), ForeignKey("tickets.id"), nullable=False),
    Column("linked_id", String(36), ForeignKey("tickets.id"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(36)),
    CheckConstraint("kind IN ('related', 'parent', 'child')", name="ck_ticket_links_kind"),
    CheckConstraint("ticket_id <> linked_id", name="ck_ticket_links_not_self"),
    UniqueConstraint("ticket_id", "linked_id", name="uq_ticket_links_pair"),
    Index("ix_ticket_links_linked", "linked_id"),
)

_mapped = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (once per process)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Ticket, tickets, properties={"metadata": tickets.c.metadata_})
    mapper_registry.map_imperatively(Comment, comments)
    _mapped = True
