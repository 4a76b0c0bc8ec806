"""In-memory fakes of the tickets unit of work and its repositories (``handlers.ports``), for handler tests
of domain rules with no database.

They keep what the handlers store and answer what the SQL repositories answer for the same calls; what only
SQL can answer well (full-text search, counts, row locks) is left to the database-backed tests. Events are
kept as ``uow.events`` once committed (``uow.pending`` before), so a test can tell a refused command
recorded nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from helpdesk_common.clock import FakeClock
from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.events import latest_version
from services.tickets.domain import rules
from services.tickets.domain.errors import NotFound, TicketNotFound, category_name_taken
from services.tickets.domain.model import Comment, Ticket
from services.tickets.domain.search import SearchResult
from tests.unit.tickets.factories import DEPT_A, DEPT_B


class FakeTicketRepository:
    def __init__(self, uow: FakeTicketsUnitOfWork):
        self._uow = uow
        self.rows: dict[str, Ticket] = {}
        self.lines: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self._last_number = 0

    def next_number(self) -> int:
        self._last_number += 1
        return self._last_number

    def insert_new(self, ticket: Ticket) -> None:
        self.rows[ticket.id] = ticket

    def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket:
        ticket = self.rows.get(str(ticket_id))
        if ticket is None or ticket.deleted_at is not None:
            raise TicketNotFound()
        return ticket

    def _visible(self, actor: rules.Actor) -> list[Ticket]:
        shared = self._uow.organizations.shares_tickets
        return [t for t in self.rows.values() if t.deleted_at is None and rules.can_view(
            actor, requester_id=t.requester_id, department_id=t.department_id, assignee_id=t.assignee_id,
            organization_id=t.organization_id,
            organization_shared=bool(t.organization_id) and shared(t.organization_id))]

    def _filtered(self, actor: rules.Actor, filters: dict[str, Any]) -> list[Ticket]:
        simple = {k: v for k, v in filters.items() if k in ("status", "priority", "assignee_id", "department_id",
                                                          "requester_id", "category")}
        return [t for t in self._visible(actor) if all(getattr(t, k) == v for k, v in simple.items())]

    def list(self, actor: rules.Actor, filters: dict[str, Any], *, page: int, limit: int, sort_by: str,
             sort_order: str) -> tuple[list[Ticket], int]:
        found = sorted(self._filtered(actor, filters), key=lambda t: (getattr(t, sort_by), t.id),
                       reverse=sort_order == "desc")
        return found[(page - 1) * limit: page * limit], len(found)

    def visible_by_ids(self, actor: rules.Actor, filters: dict[str, Any], ids: list[str]) -> list[Ticket]:
        return [t for t in self._filtered(actor, filters) if t.id in ids]

    def counts(self, actor: rules.Actor, filters: dict[str, Any], column: str, *,
               ids: list[str] | None = None) -> dict[Any, int]:
        counted: dict[Any, int] = {}
        for t in self._filtered(actor, filters):
            if ids is None or t.id in ids:
                counted[getattr(t, column)] = counted.get(getattr(t, column), 0) + 1
        return counted

    def unread_totals(self, actor: rules.Actor, filters: dict[str, Any], side: str, *,
                      ids: list[str] | None = None) -> tuple[int, int]:
        unread = [t.unread_for(side) for t in self._filtered(actor, filters) if ids is None or t.id in ids]
        return sum(unread), sum(1 for n in unread if n)

    def tag_counts(self, actor: rules.Actor) -> dict[str, int]:
        counted: dict[str, int] = {}
        for t in self._visible(actor):
            for tag in t.tags or ():
                counted[tag] = counted.get(tag, 0) + 1
        return counted

    def record_history(self, ticket_id: str, *, actor: rules.Actor, action: str,
                       changes: dict[str, dict[str, Any]] | None, now: datetime, public: bool = True) -> None:
        # as the SQL repository: one line per changed field; the ticket's metadata is staff-only
        self.calls.append((ticket_id, action))
        fields = [(f, c["before"], c["after"]) for f, c in (changes or {}).items()] or [(None, None, None)]
        for field, before, after in fields:
            self.lines.append({"id": len(self.lines) + 1, "ticket_id": ticket_id, "at": now, "actor_id": actor.id,
                               "actor_role": actor.role, "via": actor.via, "action": action, "field": field,
                               "before": copy.deepcopy(before), "after": copy.deepcopy(after),
                               "public": public and field != "metadata"})

    def history(self, ticket_id: str, *, public_only: bool) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["ticket_id"] == ticket_id and (line["public"] or not public_only)]

    def mark_read(self, ticket_id: str, side: str, *, now: datetime) -> bool:
        return self.get(ticket_id).mark_read(side, now=now)

    def actions(self, ticket_id: str) -> list[str]:
        """The history actions of a ticket, oldest first (a test helper)."""
        return [action for on, action in self.calls if on == ticket_id]


class FakeCommentRepository:
    def __init__(self):
        self.rows: list[Comment] = []

    def add(self, comment: Comment) -> None:
        self.rows.append(comment)

    def of(self, ticket_id: str, *, include_internal: bool) -> list[Comment]:
        return [c for c in self.rows if c.ticket_id == ticket_id and (include_internal or not c.internal)]

    def move(self, from_ticket_id: str, to_ticket_id: str) -> int:
        moved = [c for c in self.rows if c.ticket_id == from_ticket_id]
        for comment in moved:
            comment.ticket_id = to_ticket_id
        return len(moved)


class FakeCategoryRepository:
    def __init__(self):
        self.rows: dict[str, dict[str, Any]] = {}

    def add(self, row: dict[str, Any]) -> None:
        if self.find_by_name(row["name"]) is not None:
            raise category_name_taken(row["name"])
        self.rows[row["id"]] = dict(row)

    def get(self, category_id: str, *, for_update: bool = False) -> dict[str, Any]:
        if category_id not in self.rows:
            raise NotFound("Category not found.")
        return dict(self.rows[category_id])

    def find_by_name(self, name: str) -> dict[str, Any] | None:
        return next((dict(r) for r in self.rows.values() if r["name"].casefold() == name.casefold()), None)

    def find_by_names(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        found = {name: self.find_by_name(name) for name in names}
        return {name: row for name, row in found.items() if row is not None}

    def list(self) -> list[dict[str, Any]]:
        return sorted((dict(r) for r in self.rows.values()), key=lambda r: r["name"].casefold())

    def change(self, category_id: str, values: dict[str, Any]) -> None:
        self.rows[category_id].update(values)

    def remove(self, category_id: str) -> None:
        del self.rows[category_id]


class FakeLinkRepository:
    def __init__(self):
        self.rows: dict[str, dict[str, Any]] = {}

    def add(self, *, id: str, ticket_id: str, linked_id: str, kind: str, now: datetime,
            created_by: str | None) -> None:
        self.rows[id] = {"id": id, "ticket_id": ticket_id, "linked_id": linked_id, "kind": kind, "created_at": now,
                         "created_by": created_by}

    def find(self, ticket_id: str, linked_id: str) -> dict[str, Any] | None:
        return next((dict(r) for r in self.rows.values() if (r["ticket_id"], r["linked_id"]) == (ticket_id, linked_id)),
                    None)

    def remove(self, link_id: str) -> None:
        del self.rows[link_id]

    def of(self, ticket_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows.values() if ticket_id in (r["ticket_id"], r["linked_id"])]


class FakeAttachmentRepository:
    def __init__(self):
        self.rows: dict[str, dict[str, Any]] = {}

    def add(self, row: dict[str, Any]) -> None:
        self.rows[row["id"]] = dict(row)

    def find(self, attachment_id: str) -> dict[str, Any] | None:
        row = self.rows.get(attachment_id)
        return dict(row) if row else None

    def for_ticket(self, ticket_id: str, *, include_internal: bool) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows.values() if r["ticket_id"] == ticket_id and (include_internal or not r["internal"])]

    def remove(self, attachment_id: str) -> None:
        del self.rows[attachment_id]

    def move(self, from_ticket_id: str, to_ticket_id: str) -> list[dict[str, Any]]:
        moved = [r for r in self.rows.values() if r["ticket_id"] == from_ticket_id]
        for row in moved:
            row["ticket_id"] = to_ticket_id
        return [dict(r) for r in moved]


class FakeOrganizationRepository:
    def __init__(self):
        self.rows: dict[str, dict[str, Any]] = {}

    def find(self, organization_id: str) -> dict[str, Any] | None:
        row = self.rows.get(organization_id)
        return dict(row) if row else None

    def shares_tickets(self, organization_id: str) -> bool:
        return bool(self.rows.get(organization_id, {}).get("shared_tickets"))

    def with_sharing(self, actor: rules.Actor) -> rules.Actor:
        return actor

    def shared_older_than(self, moment: datetime) -> list[str]:
        return [k for k, r in self.rows.items() if r["shared_tickets"] and r["updated_at"] < moment]

    def apply(self, organization_id: str, *, shared_tickets: bool, as_of: datetime) -> bool:
        known = self.rows.get(organization_id)
        if known is not None and known["updated_at"] >= as_of:
            return False
        self.rows[organization_id] = {"id": organization_id, "shared_tickets": shared_tickets, "updated_at": as_of}
        return True


class FakeDepartmentRepository:
    """Departments DEPT_A and DEPT_B are known to exist."""

    def __init__(self, known: tuple[str, ...] = (DEPT_A, DEPT_B)):
        self.rows: dict[str, dict[str, Any]] = {
            d: {"id": d, "deleted": False, "updated_at": datetime.fromisoformat("2026-01-01T00:00:00+00:00")}
            for d in known}

    def find(self, department_id: str) -> dict[str, Any] | None:
        row = self.rows.get(department_id)
        return dict(row) if row else None

    def exists(self, department_id: str) -> bool | None:
        row = self.rows.get(department_id)
        return None if row is None else not row["deleted"]

    def alive_older_than(self, moment: datetime) -> list[str]:
        return [k for k, r in self.rows.items() if not r["deleted"] and r["updated_at"] < moment]

    def remember(self, department_id: str, *, as_of: datetime) -> None:
        self.rows.setdefault(department_id, {"id": department_id, "deleted": False, "updated_at": as_of})

    def apply(self, department_id: str, *, deleted: bool, as_of: datetime) -> bool:
        known = self.rows.get(department_id)
        if known is not None and (known["deleted"] or known["updated_at"] >= as_of):
            return False
        self.rows[department_id] = {"id": department_id, "deleted": deleted, "updated_at": as_of}
        return True


class FakeSearchIndex:
    """Keeps the documents it is given; searching is the database-backed tests' business (answers none)."""

    def __init__(self):
        self.docs: dict[str, Any] = {}

    def index(self, doc: Any) -> None:
        self.docs[doc.id] = doc

    def append_comment(self, ticket_id: str, body: str, *, internal: bool) -> bool:
        return False  # always rewrite the whole row: the fake keeps whole documents

    def delete(self, ticket_id: str, *, version: int | None = None) -> None:
        self.docs.pop(ticket_id, None)

    def search(self, query: Any, **_: Any) -> SearchResult:
        return SearchResult(ids=[], total=0)


class FakeSearchFeed:
    def __init__(self, uow: FakeTicketsUnitOfWork, index: Any):
        self._uow, self._index = uow, index
        self.lags: list[str] = []

    def copy(self, ticket_id: str) -> None:
        ticket = self._uow.tickets.rows.get(ticket_id)
        if ticket is None or ticket.deleted_at is not None:
            self._index.delete(ticket_id)
        else:
            from services.tickets.domain.search import document_for

            self._index.index(document_for(ticket, self._uow.comments.of(ticket_id, include_internal=True)))

    def observed(self, occurred_at: str, *, now: datetime) -> None:
        self.lags.append(occurred_at)


class FakeTicketsUnitOfWork:
    """The tickets unit of work on in-memory repositories (``handlers.ports.TicketsUnitOfWork``).

    One instance is the whole "database" of a test: pass it to every handler call.
    """

    def __init__(self, clock: FakeClock | None = None):
        self.clock = clock or FakeClock()
        self.tickets = FakeTicketRepository(self)
        self.comments = FakeCommentRepository()
        self.categories = FakeCategoryRepository()
        self.links = FakeLinkRepository()
        self.attachments = FakeAttachmentRepository()
        self.organizations = FakeOrganizationRepository()
        self.departments = FakeDepartmentRepository()
        self.search = FakeSearchIndex()
        self.pending: list[Envelope] = []
        self.events: list[Envelope] = []
        self.claimed: set[tuple[str, str]] = set()
        self.commits = 0
        self._after_commit: list = []

    def __enter__(self) -> FakeTicketsUnitOfWork:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.pending, self._after_commit = [], []

    def search_feed(self, index: Any) -> FakeSearchFeed:
        return FakeSearchFeed(self, index)

    def emit(self, type: str, data: dict[str, Any], *, version: int | None = None) -> Envelope:
        envelope = Envelope.new(type, copy.deepcopy(data), producer="tickets", occurred_at=self.clock.now(),
                                version=version or latest_version(type))
        self.pending.append(envelope)
        return envelope

    def claim(self, envelope: Envelope, *, consumer: str) -> bool:
        if (consumer, envelope.id) in self.claimed:
            return False
        self.claimed.add((consumer, envelope.id))
        return True

    def after_commit(self, callback: Any) -> None:
        self._after_commit.append(callback)

    def flush(self) -> None:
        pass

    def commit(self) -> None:
        self.commits += 1
        self.events.extend(self.pending)
        self.pending = []
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self.pending, self._after_commit = [], []

    def types(self) -> list[str]:
        """The committed events' types, in order (a test helper)."""
        return [e.type for e in self.events]
