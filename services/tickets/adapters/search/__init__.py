"""Full-text search over tickets: the ``TicketSearchIndex`` port, its query syntax and its adapters.

``embedded`` (SQLite FTS5 / PostgreSQL tsvector, the default, written in the ticket's transaction) and
``elastic`` (Elasticsearch when ``ELASTICSEARCH_URL`` is set, fed from ticket events; imported lazily so
the embedded default needs no Elasticsearch client).
"""

from services.tickets.adapters.search.embedded import embedded_index
from services.tickets.adapters.search.feed import documents, sync_ticket
from services.tickets.domain import search as _domain
from services.tickets.domain.search import *  # noqa: F403  (the port and query syntax, under their old address)

__all__ = [*_domain.__all__, "documents", "embedded_index", "sync_ticket"]
