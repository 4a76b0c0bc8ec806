"""The tickets service's unit of work: one transaction and the repositories that work in it.

Handlers take every repository from here (``uow.tickets``, ``uow.categories``, ...), never build one,
so their domain rules can be tested on the in-memory fakes of ``tests/unit/tickets/fakes.py``.
"""

from __future__ import annotations

from typing import Any

from helpdesk_common.uow import UnitOfWork
from services.tickets.adapters import search
from services.tickets.adapters.attachments import SqlAlchemyAttachmentRepository
from services.tickets.adapters.categories import SqlAlchemyCategoryRepository
from services.tickets.adapters.departments import SqlAlchemyDepartmentRepository
from services.tickets.adapters.links import SqlAlchemyLinkRepository
from services.tickets.adapters.organizations import SqlAlchemyOrganizationRepository
from services.tickets.adapters.repository import SqlAlchemyTicketRepository
from services.tickets.adapters.search.metrics import observe_indexed
from services.tickets.domain.model import Comment


class SearchFeed:
    """Copy tickets, as they are now, into an external search index (the Elasticsearch feed)."""

    def __init__(self, session: Any, index: search.TicketSearchIndex):
        self._session = session
        self._index = index

    def copy(self, ticket_id: str) -> None:
        """Copy one ticket (or its deletion) into the index."""
        search.sync_ticket(self._session, ticket_id, index=self._index)

    def observed(self, occurred_at: str, *, now: Any) -> None:
        """Record how far behind its event the index now is (a metric)."""
        observe_indexed(occurred_at, now=now)


class CommentRepository:
    """A ticket's thread (comments belong to the ticket's aggregate: stored by the same tables' repository)."""

    def __init__(self, tickets: SqlAlchemyTicketRepository):
        self._tickets = tickets

    def add(self, comment: Comment) -> None:
        """Store a new comment."""
        self._tickets.add(comment)

    def of(self, ticket_id: str, *, include_internal: bool) -> list[Comment]:
        """Return a ticket's comments, oldest first (internal notes only with ``include_internal``)."""
        return self._tickets.comments(ticket_id, include_internal=include_internal)

    def move(self, from_ticket_id: str, to_ticket_id: str) -> int:
        """Move every comment of one ticket to another; answer how many moved."""
        return self._tickets.move_comments(from_ticket_id, to_ticket_id)


class TicketsUnitOfWork(UnitOfWork):
    """A tickets transaction with its repositories, each built on first use from the session."""

    @property
    def tickets(self) -> SqlAlchemyTicketRepository:
        return self.repository("tickets", SqlAlchemyTicketRepository)

    @property
    def comments(self) -> CommentRepository:
        return self.repository("comments", lambda _: CommentRepository(self.tickets))

    @property
    def categories(self) -> SqlAlchemyCategoryRepository:
        return self.repository("categories", SqlAlchemyCategoryRepository)

    @property
    def links(self) -> SqlAlchemyLinkRepository:
        return self.repository("links", SqlAlchemyLinkRepository)

    @property
    def attachments(self) -> SqlAlchemyAttachmentRepository:
        return self.repository("attachments", SqlAlchemyAttachmentRepository)

    @property
    def organizations(self) -> SqlAlchemyOrganizationRepository:
        return self.repository("organizations", SqlAlchemyOrganizationRepository)

    @property
    def departments(self) -> SqlAlchemyDepartmentRepository:
        return self.repository("departments", SqlAlchemyDepartmentRepository)

    @property
    def search(self) -> search.embedded.EmbeddedTicketSearchIndex:
        """The embedded search index, written in this transaction."""
        return self.repository("search", search.embedded_index)

    def search_feed(self, index: search.TicketSearchIndex) -> SearchFeed:
        """Give the feed that copies tickets from this transaction's reads into ``index``."""
        return SearchFeed(self.session, index)

    def flush(self) -> None:
        """Send the pending ORM changes now (later statements of this transaction read them)."""
        self.session.flush()
