"""How tickets, comments and history are loaded and stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, asc, case, cast, desc, exists, false, func, insert, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from helpdesk_common import writebehind
from helpdesk_common.writebehind import defer
from services.tickets.adapters.organizations import SqlAlchemyOrganizationRepository
from services.tickets.adapters.orm import comments, counters, history, ticket_number_seq, tickets
from services.tickets.domain.errors import TicketNotFound
from services.tickets.domain.model import Comment, Ticket
from services.tickets.domain.rules import PRIORITIES, Actor

SORTABLE = {
    "created_at": tickets.c.created_at,
    "updated_at": tickets.c.updated_at,
    "priority": case({p: i for i, p in enumerate(PRIORITIES)}, value=tickets.c.priority),
    "status": tickets.c.status,
    "number": tickets.c.number,
    "title": tickets.c.title,
}


def visibility_clause(actor: Actor):
    """The SQL twin of ``rules.can_view``: what ``actor`` may see of the tickets table.

    A customer's organization counts only when ``actor.organization_shared`` says it shares tickets: the
    repository sets it from the ``ticket_organizations`` projection first (``conditions``), so a customer
    of an organization that does not share gets a plain ``requester_id`` condition, which the requester
    index serves in order (an OR with the organization makes the planner walk every ticket by date).
    """
    if actor.role == "system" or actor.is_manager:
        return None
    if actor.is_staff:
        mine = [tickets.c.department_id.is_(None)]
        if actor.department_id:
            mine.append(tickets.c.department_id == actor.department_id)
        if actor.id:
            mine.append(tickets.c.assignee_id == actor.id)
        return or_(*mine)
    if actor.id is None:
        return false()
    mine = tickets.c.requester_id == actor.id
    if actor.role != "customer" or not actor.organization_id or not actor.organization_shared:
        return mine
    return or_(mine, tickets.c.organization_id == actor.organization_id)


# statements of the hot paths, built once
_NEXT_NUMBER = select(ticket_number_seq.next_value())
_NEXT_NUMBER_SQL = f"SELECT nextval('{ticket_number_seq.name}')"
_INSERT_TICKET = insert(tickets)
_INSERT_HISTORY = insert(history).inline()  # deferred: no RETURNING of the new id
# (column key, Ticket attribute): the mapping renames only ``metadata`` (a reserved name on mapped classes' tables)
_TICKET_COLUMNS = [(column.key, "metadata" if column.key == "metadata_" else column.key) for column in tickets.c]


class SqlAlchemyTicketRepository:
    """Tickets and their threads in one SQL database."""

    def __init__(self, session: Session):
        self.session = session

    def next_number(self) -> int:
        """Take the next ticket sequence number; concurrent creates never share one.

        PostgreSQL: ``nextval`` of a sequence, so nothing is locked until the create commits. SQLite: the
        counter row (writers take turns there anyway).
        """
        if self.session.get_bind().dialect.name == "postgresql":
            # the transaction's first statement: take the number before it starts (a sequence is not
            # transactional), so no BEGIN round trip precedes it; the writes bring their own BEGIN
            rows = writebehind.read_before_begin(self.session, _NEXT_NUMBER_SQL)
            if rows is not None:
                return int(rows[0][0])
            return int(self.session.scalar(_NEXT_NUMBER))
        value = self.session.execute(
            update(counters).where(counters.c.name == "ticket").values(value=counters.c.value + 1)
            .returning(counters.c.value)
        ).scalar()
        if value is None:
            raise RuntimeError("ticket counter row missing: run the migrations")
        return int(value)

    def reserve_numbers(self, count: int) -> int:
        """Take ``count`` consecutive numbers at once for an offline bulk load; return the first."""
        if self.session.get_bind().dialect.name == "postgresql":
            last = self.session.scalar(
                text("SELECT setval('ticket_number_seq', nextval('ticket_number_seq') + :n - 1)"), {"n": count}
            )
        else:
            last = self.session.execute(
                update(counters).where(counters.c.name == "ticket").values(value=counters.c.value + count)
                .returning(counters.c.value)
            ).scalar()
        return int(last) - count + 1

    def add(self, entity: Any) -> None:
        self.session.add(entity)

    def insert_new(self, ticket: Ticket) -> None:
        """Write a ticket that does not exist yet with one plain INSERT (the create path skips the ORM flush).

        Deferred (``writebehind``): it goes out with the history, search row and event of the create, and
        before any later query of this transaction, with the ticket as it is then (a change made after
        this call is stored too).
        """
        writebehind.defer_new(self.session, _INSERT_TICKET, ticket,
                              lambda: {key: getattr(ticket, attribute) for key, attribute in _TICKET_COLUMNS})

    def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket:
        query = select(Ticket).where(tickets.c.id == ticket_id, tickets.c.deleted_at.is_(None))
        if for_update:
            query = query.with_for_update()
        ticket = self.session.scalars(query).first()
        if ticket is None:
            raise TicketNotFound()
        return ticket

    def find_by_number(self, number: str) -> Ticket | None:
        return self.session.scalars(
            select(Ticket).where(tickets.c.number == number, tickets.c.deleted_at.is_(None))
        ).first()

    def list(self, actor: Actor, filters: dict[str, Any], *, page: int, limit: int, sort_by: str,
             sort_order: str) -> tuple[list[Ticket], int]:
        conditions = self.conditions(actor, filters)
        total = self.session.scalar(select(func.count()).select_from(tickets).where(and_(*conditions)))
        direction = desc if sort_order == "desc" else asc
        query = (
            select(Ticket)
            .where(and_(*conditions))
            .order_by(direction(SORTABLE[sort_by]), direction(tickets.c.id))
            .offset((page - 1) * limit)
            .limit(limit)
        )
        return list(self.session.scalars(query)), int(total or 0)

    def visible_by_ids(self, actor: Actor, filters: dict[str, Any], ids: list[str]) -> list[Ticket]:
        """Return those of ``ids`` that ``actor`` may see and that pass ``filters`` (any order, no count)."""
        return list(self.session.scalars(select(Ticket).where(*self.conditions(actor, filters), tickets.c.id.in_(ids))))

    def counts(self, actor: Actor, filters: dict[str, Any], column: str, *,
               ids: list[str] | None = None) -> dict[str | None, int]:
        """Count the tickets of the list by ``column`` (``ids``: only among those, e.g. a search's matches)."""
        col = getattr(tickets.c, column)
        rows = self.session.execute(
            select(col, func.count()).where(and_(*self.conditions(actor, filters, ids=ids))).group_by(col)
        )
        return {key: int(count) for key, count in rows}

    def conditions(self, actor: Actor, filters: dict[str, Any], *, ids: list[str] | None = None) -> list:
        """Return the WHERE clauses of the ticket list: not deleted, visible to ``actor``, ``filters`` applied
        (and, given ``ids``, one of them)."""
        conditions = [tickets.c.deleted_at.is_(None)]
        if ids is not None:
            conditions.append(tickets.c.id.in_(ids))
        visible = visibility_clause(SqlAlchemyOrganizationRepository(self.session).with_sharing(actor))
        if visible is not None:
            conditions.append(visible)
        for field in ("status", "priority", "department_id", "requester_id", "category", "source"):
            value = filters.get(field)
            if value:
                column = getattr(tickets.c, field)
                conditions.append(column.in_(value) if isinstance(value, list) else column == value)
        assignee = filters.get("assignee_id")
        if assignee == "none":
            conditions.append(tickets.c.assignee_id.is_(None))
        elif assignee:
            conditions.append(tickets.c.assignee_id == assignee)
        if filters.get("tag"):
            conditions.append(self._has_tag(filters["tag"].strip().lower()))
        if filters.get("created_from"):
            conditions.append(tickets.c.created_at >= filters["created_from"])
        if filters.get("created_to"):
            conditions.append(tickets.c.created_at <= filters["created_to"])
        return conditions

    def _has_tag(self, tag: str):
        """Match one element of the JSON tags array, natively on each backend."""
        if self.session.get_bind().dialect.name == "postgresql":
            return cast(tickets.c.tags, JSONB).contains([tag])
        element = func.json_each(tickets.c.tags).table_valued("value").alias("tag")
        return exists(select(literal(1)).select_from(element).where(element.c.value == tag))

    # comments and history
    def comments(self, ticket_id: str, *, include_internal: bool) -> list[Comment]:
        query = select(Comment).where(comments.c.ticket_id == ticket_id)
        if not include_internal:
            query = query.where(comments.c.internal.is_(False))
        return list(self.session.scalars(query.order_by(comments.c.created_at, comments.c.id)))

    def record_history(self, ticket_id: str, *, actor: Actor, action: str, changes: dict[str, dict[str, Any]] | None,
                       now: datetime, public: bool = True) -> None:
        rows = [
            {"field": field, "before": change["before"], "after": change["after"]}
            for field, change in (changes or {}).items()
        ] or [{"field": None, "before": None, "after": None}]
        defer(  # history is read in other transactions only: sent with the next flush or the commit
            self.session,
            _INSERT_HISTORY,
            [
                {"ticket_id": ticket_id, "at": now, "actor_id": actor.id, "actor_role": actor.role, "via": actor.via,
                 "action": action, "public": public and field_is_public(row["field"]), **row}
                for row in rows
            ],
        )

    def history(self, ticket_id: str, *, public_only: bool) -> list[dict[str, Any]]:
        query = select(history).where(history.c.ticket_id == ticket_id)
        if public_only:
            query = query.where(history.c.public.is_(True))
        return [dict(row._mapping) for row in self.session.execute(query.order_by(history.c.id))]

    def mark_read(self, ticket_id: str, side: str, *, now: datetime) -> bool:
        """Zero ``side``'s unread count of a ticket in one statement; tell whether it had anything unread.

        One conditional UPDATE: it waits for a comment being written, and a comment written after it
        counts from zero, so a reader that reads the thread after this call never loses a message.
        """
        unread, read_at = getattr(tickets.c, f"{side}_unread"), f"{side}_read_at"
        result = self.session.execute(
            update(tickets).where(tickets.c.id == ticket_id, unread > 0).values({unread.key: 0, read_at: now})
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    def unread_totals(self, actor: Actor, filters: dict[str, Any], side: str, *,
                      ids: list[str] | None = None) -> tuple[int, int]:
        """Return ``(unread messages, tickets with some)`` for ``side`` over what ``actor`` sees with ``filters``.

        The requester's side counts only the tickets ``actor`` requested (a colleague's shared ticket is
        not their conversation).
        """
        unread = getattr(tickets.c, f"{side}_unread")
        conditions = self.conditions(actor, filters, ids=ids)
        if side == "requester":
            conditions.append(tickets.c.requester_id == actor.id)
        messages, with_unread = self.session.execute(
            select(func.coalesce(func.sum(unread), 0), func.coalesce(func.sum(case((unread > 0, 1), else_=0)), 0))
            .where(and_(*conditions))
        ).one()
        return int(messages), int(with_unread)

    def tag_counts(self, actor: Actor) -> dict[str, int]:
        counts: dict[str, int] = {}
        for (tags,) in self.session.execute(select(tickets.c.tags).where(and_(*self.conditions(actor, {})))):
            for tag in tags or []:
                counts[tag] = counts.get(tag, 0) + 1
        return counts

    def move_comments(self, from_ticket_id: str, to_ticket_id: str) -> int:
        """Move every comment of one ticket to another, authors and times unchanged; return how many moved."""
        result = self.session.execute(
            update(comments).where(comments.c.ticket_id == from_ticket_id).values(ticket_id=to_ticket_id)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)


_INTERNAL_FIELDS = {"metadata"}


def field_is_public(field: str | None) -> bool:
    """Tell whether a history line may be shown to the requester."""
    return field not in _INTERNAL_FIELDS




