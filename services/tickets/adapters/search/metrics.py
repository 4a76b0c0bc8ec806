"""How far the Elasticsearch index trails the tickets database."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge

INDEX_LAG = Gauge(
    "helpdesk_search_index_lag_seconds",
    "Age of the last ticket event when its ticket reached the search index",
)
LAST_INDEXED_EVENT = Gauge(
    "helpdesk_search_last_indexed_event_timestamp_seconds",
    "When the newest ticket event already in the search index happened (unix time); "
    "time() minus this is the age of the newest indexed event",
)

_newest = 0.0


def observe_indexed(occurred_at: str, *, now: datetime) -> float:
    """Record that the ticket of an event that happened at ``occurred_at`` is indexed; return the lag."""
    happened = datetime.fromisoformat(occurred_at)
    lag = max((now - happened).total_seconds(), 0.0)
    INDEX_LAG.set(lag)
    global _newest
    if happened.timestamp() > _newest:  # events arrive out of order: keep the newest
        _newest = happened.timestamp()
        LAST_INDEXED_EVENT.set(_newest)
    return lag
