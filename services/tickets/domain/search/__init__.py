"""What ticket search is, apart from where it runs: the index port, its query syntax and its highlights.

Pure Python; the adapters (``services.tickets.adapters.search``: embedded SQL, Elasticsearch) implement it.
"""

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
    "parse",
]
