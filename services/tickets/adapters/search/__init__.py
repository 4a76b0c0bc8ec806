"""Full-text search over tickets: the ``TicketSearchIndex`` port, its query syntax and its adapters.

``embedded`` (SQLite FTS5 / PostgreSQL tsvector, the default, written in the ticket's transaction) and
``elastic`` (Elasticsearch when ``ELASTICSEARCH_URL`` is set, fed from ticket events; imported lazily so
the embedded default needs no Elasticsearch client).
"""

from services.tickets.adapters.search.embedded import embedded_index
from services.tickets.adapters.search.feed import documents, sync_ticket
from services.tickets.domain.search.port import (
    INDEXED_FIELDS,
    MAX_RESULT_WINDOW,
    SearchDocument,
    SearchResult,
    TicketSearchIndex,
    document_for,
)
from services.tickets.domain.search.query import MAX_QUERY_CHARS, SearchQuery, parse

__all__ = [
    "INDEXED_FIELDS",
    "MAX_QUERY_CHARS",
    "MAX_RESULT_WINDOW",
    "SearchDocument",
    "SearchQuery",
    "SearchResult",
    "TicketSearchIndex",
    "document_for",
    "documents",
    "embedded_index",
    "parse",
    "sync_ticket",
]
