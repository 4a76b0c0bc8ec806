"""Outbox relay: publish committed events to RabbitMQ with publisher confirms, then mark them sent.

Delivery is at least once. A row is marked published only after the broker confirmed it, so a relay
killed between the two publishes it again on restart (consumers dedupe by event id). Several replicas
share the table: on PostgreSQL each claims rows with ``FOR UPDATE SKIP LOCKED``; on SQLite (one
process in practice) concurrent relays may publish a row twice, which is harmless for the same reason.
Events nobody is bound to are published ``mandatory``; the broker returns them and the row is marked
``unroutable`` (counted and logged), never dropped without a trace.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from kombu import Exchange
from nameko.amqp.publish import Publisher, UndeliverableMessage
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from helpdesk_common import metrics
from helpdesk_common.clock import Clock, SystemClock
from helpdesk_common.context import NAMEKO_CONTEXT_KEY
from helpdesk_common.db import outbox_table
from helpdesk_contracts.events import event_type as lookup_event_type

log = logging.getLogger(__name__)


def event_exchange(name: str) -> Exchange:
    """Return a durable topic exchange for events (``<producer>.events`` is the one nameko's event_handler binds)."""
    return Exchange(name, type="topic", durable=True, delivery_mode=2)


class OutboxRelay:
    """Moves committed outbox rows to the broker."""

    def __init__(self, engine: Engine, *, amqp_uri: str, clock: Clock | None = None, batch_size: int = 100):
        self.engine = engine
        self.clock = clock or SystemClock()
        self.batch_size = batch_size
        self._publisher = Publisher(amqp_uri, use_confirms=True, mandatory=True, retry=False)
        self._declared: set[str] = set()
        self._wake = threading.Event()
        self._stopped = threading.Event()

    def relay_batch(self) -> int:
        """Publish up to ``batch_size`` pending events in commit order; return how many were handled."""
        with self.engine.begin() as conn:
            query = (
                select(outbox_table.c.id, outbox_table.c.producer, outbox_table.c.event_type, outbox_table.c.envelope,
                       outbox_table.c.created_at)
                .where(outbox_table.c.published_at.is_(None))
                .order_by(outbox_table.c.id)
                .limit(self.batch_size)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            for row in rows:
                unroutable = self._publish(row.producer, row.event_type, row.envelope)
                now = self.clock.now()
                conn.execute(
                    update(outbox_table)
                    .where(outbox_table.c.id == row.id)
                    .values(published_at=now, attempts=outbox_table.c.attempts + 1, unroutable=int(unroutable),
                            last_error="unroutable: no queue is bound for this event type" if unroutable else None)
                )
                metrics.OUTBOX_PUBLISHED.labels(event_type=row.event_type, outcome="unroutable" if unroutable else "routed").inc()
                metrics.OUTBOX_RELAY_LATENCY.observe(max(0.0, (now - row.created_at).total_seconds()))
        return len(rows)

    def _publish(self, producer: str, event_type: str, envelope: dict) -> bool:
        exchange = event_exchange(lookup_event_type(event_type, envelope.get("version", 1)).exchange)
        declare = [] if exchange.name in self._declared else [exchange]
        headers = {}
        if envelope.get("correlation_id"):
            headers[f"nameko.{NAMEKO_CONTEXT_KEY}"] = envelope["correlation_id"]
        try:
            self._publisher.publish(
                envelope,
                exchange=exchange,
                routing_key=event_type,
                declare=declare,
                headers=headers,
                message_id=envelope["id"],
                type=event_type,
            )
        except UndeliverableMessage:
            log.warning("event %s %s is unroutable: no queue is bound", event_type, envelope["id"])
            return True
        finally:
            self._declared.add(exchange.name)
        return False

    def record_failure(self, error: BaseException) -> None:
        """Note a failed attempt on the oldest pending row, for operators."""
        with self.engine.begin() as conn:
            oldest = conn.execute(
                select(func.min(outbox_table.c.id)).where(outbox_table.c.published_at.is_(None))
            ).scalar()
            if oldest is not None:
                conn.execute(
                    update(outbox_table)
                    .where(outbox_table.c.id == oldest)
                    .values(attempts=outbox_table.c.attempts + 1, last_error=repr(error)[:2000])
                )

    def backlog(self) -> tuple[int, float]:
        """Return how many events wait and the age in seconds of the oldest."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(outbox_table.c.created_at)).where(outbox_table.c.published_at.is_(None))
            ).one()
        if not count or oldest is None:
            return 0, 0.0
        if isinstance(oldest, str):  # aggregate results skip the column type on SQLite
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), max(0.0, (self.clock.now() - oldest).total_seconds())

    def wake(self) -> None:
        """Ask the relay loop to look at the outbox now rather than at its next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Make ``run`` return."""
        self._stopped.set()
        self._wake.set()

    def run(self, *, poll_interval: float = 1.0, max_backoff: float = 10.0) -> None:
        """Relay until stopped: at once when woken, otherwise every ``poll_interval`` seconds."""
        backoff = 0.0
        while not self._stopped.is_set():
            self._wake.clear()
            try:
                handled = self.relay_batch()
                backoff = 0.0
            except Exception as exc:  # broker or database down: keep the rows, try again later
                log.warning("outbox relay failed, will retry: %r", exc)
                metrics.OUTBOX_RELAY_ERRORS.inc()
                try:
                    self.record_failure(exc)
                except Exception as db_exc:
                    log.warning("could not record the relay failure: %r", db_exc)
                backoff = min(max_backoff, backoff * 2 or 0.2)
                self._stopped.wait(backoff)
                continue
            if handled >= self.batch_size:
                continue
            self._wake.wait(poll_interval)
