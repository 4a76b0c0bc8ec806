"""Prometheus metrics shared by every service process (one process serves one service)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

RPC_REQUESTS = Counter("helpdesk_rpc_requests_total", "RPC calls served", ["method", "outcome"])
RPC_LATENCY = Histogram("helpdesk_rpc_duration_seconds", "RPC handling time", ["method"], buckets=_LATENCY_BUCKETS)
EVENTS_HANDLED = Counter(
    "helpdesk_events_handled_total", "Events consumed, by outcome (ok, duplicate, retried, dead_lettered)",
    ["event_type", "handler", "outcome"],
)
EVENT_LATENCY = Histogram(
    "helpdesk_event_handling_duration_seconds", "Event handling time", ["event_type", "handler"], buckets=_LATENCY_BUCKETS
)
OUTBOX_PUBLISHED = Counter("helpdesk_outbox_published_total", "Events relayed from the outbox", ["event_type", "outcome"])
OUTBOX_RELAY_LATENCY = Histogram(
    "helpdesk_outbox_relay_latency_seconds", "From commit to broker confirm", buckets=_LATENCY_BUCKETS
)
OUTBOX_RELAY_ERRORS = Counter("helpdesk_outbox_relay_errors_total", "Relay rounds that failed (broker or database down)")
OUTBOX_BACKLOG = Gauge("helpdesk_outbox_backlog", "Events committed but not yet published")
OUTBOX_OLDEST_AGE = Gauge("helpdesk_outbox_oldest_age_seconds", "Age of the oldest unpublished event")
DLQ_DEPTH = Gauge("helpdesk_dead_letter_queue_depth", "Messages waiting in a dead-letter queue", ["queue"])
