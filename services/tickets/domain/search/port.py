"""The ticket search index: what goes in (a document per ticket) and what comes out (ids, total, highlights).

Two adapters implement it: the embedded one (SQLite FTS5 or PostgreSQL ``tsvector``, written in the
ticket's own transaction) and Elasticsearch (fed from the service's ticket events). Both read the same
query syntax (``query.parse``) and answer the same way: visible tickets only, the list's filters applied,
most relevant first and, between equals, the most recently updated first.

Internal notes are indexed apart from public replies (``internal_notes``) and searched for staff only:
a customer's query never looks at them, and no customer's highlight is ever cut from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.tickets.domain.rules import Actor
from services.tickets.domain.search.highlight import clean
from services.tickets.domain.search.query import SearchQuery

MAX_THREAD_CHARS = 100_000
"""Replies (and notes) beyond this much text are not indexed: it bounds a busy ticket's index row."""

MAX_RESULT_WINDOW = 10_000
"""Results past this rank are not served (Elasticsearch's ``max_result_window``; deep pages mean narrow more)."""

INDEXED_FIELDS = frozenset({"title", "description", "tags"})
"""Ticket fields whose change must rewrite the embedded index row (the rest is read from the tickets table)."""


@dataclass(frozen=True)
class SearchDocument:
    """One ticket as the search indexes see it."""

    id: str
    number: str
    title: str
    description: str
    status: str
    priority: str
    requester_id: str
    created_at: datetime
    updated_at: datetime
    version: int
    comments: str = ""
    internal_notes: str = ""
    assignee_id: str | None = None
    department_id: str | None = None
    organization_id: str | None = None
    category: str | None = None
    source: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SearchResult:
    """A page of matches: ticket ids in order, how many match in all, and a snippet per id."""

    ids: list[str]
    total: int
    highlights: dict[str, str] = field(default_factory=dict)
    total_exact: bool = True  # False: at least ``total`` match (counting stopped at the deepest page)


class TicketSearchIndex(Protocol):
    """Full-text search over tickets."""

    def index(self, doc: SearchDocument) -> None:
        """Store ``doc``, replacing an older version of it (never a newer one)."""

    def delete(self, ticket_id: str, *, version: int | None = None) -> None:
        """Forget a ticket (``version``: the ticket's version when it was deleted)."""

    def search(
        self,
        query: str | SearchQuery,
        *,
        visibility: Actor,
        filters: Mapping[str, Any],
        page: int,
        limit: int,
        sort: tuple[str, str] | None = None,
        highlight: bool = True,
    ) -> SearchResult:
        """Return a page of the tickets ``visibility`` may see that match ``query`` and ``filters``.

        ``sort`` is None for relevance then recency, or ``(field, "asc" | "desc")`` with a field the
        ticket list sorts by.
        """


def join_thread(bodies: Iterable[str]) -> str:
    """Return comment bodies as one indexed text, cut at ``MAX_THREAD_CHARS``."""
    text = "\n".join(clean(body) for body in bodies if body)
    return text[:MAX_THREAD_CHARS]


def document_for(ticket: Any, comments: Iterable[Any] = ()) -> SearchDocument:
    """Build the search document of a ticket and its comments (replies and internal notes kept apart)."""
    comments = list(comments)
    return SearchDocument(
        id=ticket.id,
        number=ticket.number,
        title=clean(ticket.title),
        description=clean(ticket.description),
        comments=join_thread(c.body for c in comments if not c.internal),
        internal_notes=join_thread(c.body for c in comments if c.internal),
        status=ticket.status,
        priority=ticket.priority,
        requester_id=ticket.requester_id,
        assignee_id=ticket.assignee_id,
        department_id=ticket.department_id,
        organization_id=ticket.organization_id,
        category=ticket.category,
        source=ticket.source,
        tags=tuple(ticket.tags or ()),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
    )
