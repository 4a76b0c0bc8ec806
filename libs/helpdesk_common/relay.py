"""Outbox relay: publish committed events to RabbitMQ with publisher confirms, then mark them sent.

Delivery is at least once. A row is marked published only after the broker confirmed it, so a relay
killed between the two publishes it again on restart (consumers dedupe by event id). Events nobody is
bound to are published ``mandatory``; the broker returns them and the row is marked ``unroutable``
(counted, logged at DEBUG, and said once per event type at INFO), never dropped without a trace.

Two ways in:
- **hand-off** (the hot path): a unit of work that committed hands its events to its own process's
  relay (``handoff``), which publishes them straight from memory and marks their rows a moment later,
  those of ``MARK_DELAY_SECONDS`` together in one statement: no read of the table, no row locks;
- **sweep**: every ``poll_interval`` the relay reads pending rows (``relay_batch``) and publishes them:
  rows written by a process that died before relaying them, events whose hand-off failed (broker
  down), rows written outside a unit of work. The loop's sweeps take only rows older than ``grace``, so
  they never race a live process's hand-off (its rows are marked within milliseconds); the first sweep
  after start takes everything. Several replicas share the table: on PostgreSQL each sweep claims rows
  with ``FOR UPDATE SKIP LOCKED``; on SQLite (one process in practice) concurrent relays may publish a
  row twice, which is harmless for the same reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import amqp
from kombu import Exchange
from kombu.entity import PERSISTENT_DELIVERY_MODE
from kombu.utils.json import dumps as json_dumps
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine

from helpdesk_common import metrics
from helpdesk_common.amqp import BrokerChannel
from helpdesk_common.clock import Clock, SystemClock
from helpdesk_common.context import NAMEKO_CONTEXT_KEY
from helpdesk_common.db import outbox_table
from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.events import event_type as lookup_event_type

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_SECONDS = 30.0  # a broker that neither confirms nor closes: give up, reconnect, publish again
SWEEP_GRACE_SECONDS = 10.0  # a row this old was not handed off (or its hand-off failed): the sweep takes it
MARK_DELAY_SECONDS = 0.05  # hand-offs published within this are marked together, in one statement
HANDOFF_LIMIT = 10_000  # handed-off events kept in memory while the broker is away; the rest wait for a sweep
UNROUTABLE_ERROR = "unroutable: no queue is bound for this event type"


def event_exchange(name: str) -> Exchange:
    """Return a durable topic exchange for events (``<producer>.events`` is the one nameko's event_handler binds)."""
    return Exchange(name, type="topic", durable=True, delivery_mode=2)


# marks published hand-offs (built once: building a statement costs more than running it)
_MARK = (
    update(outbox_table)
    .where(outbox_table.c.event_id.in_(bindparam("ids", expanding=True)), outbox_table.c.published_at.is_(None))
    .values(published_at=bindparam("at"), attempts=outbox_table.c.attempts + 1, unroutable=bindparam("flag"),
            last_error=bindparam("error"))
)


class ConfirmedChannel:
    """One broker connection and channel in confirm mode, owned by the relay (no pool, no per-publish set-up).

    A batch is published in one go and its confirms awaited together (the broker acknowledges a run of
    messages with one ``basic.ack``), so relaying k events costs one wait, not k. Messages are
    persistent and ``mandatory``: one no queue takes comes back as ``basic.return`` before its confirm,
    which is recorded rather than raised, so the channel stays usable. A ``basic.nack`` or any broker
    error closes the connection and raises: the batch stays unpublished in the outbox and is sent again.
    """

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self._broker = BrokerChannel(amqp_uri, confirms=True, connect_timeout=CONFIRM_TIMEOUT_SECONDS,
                                     on_open=self._on_open, name="relay's broker")
        self._declared: set[str] = set()
        self._returned: set[str] = set()
        self._published = 0  # delivery tags the broker has given to our messages so far
        self._confirmed = 0

    def _on_open(self, channel) -> None:
        channel.events["basic_return"].add(self._on_return)
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._declared.clear()
        self._published = self._confirmed = 0

    def _open(self):
        return self._broker.open()

    def _on_return(self, exc, exchange, routing_key, message) -> None:
        self._returned.add(message.properties.get("message_id"))

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._confirmed = max(self._confirmed, delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        raise ConnectionError(f"the broker refused message {delivery_tag} (basic.nack)")

    def publish_many(self, messages: list[dict]) -> set[str]:
        """Publish ``messages`` (``body``, ``exchange``, ``routing_key``, ``message_id``, ``type``, ``headers``)
        and wait until the broker confirmed them all; return the message ids it returned as unroutable."""
        try:
            channel = self._open()
            self._returned.clear()
            for message in messages:
                exchange = message["exchange"]
                if exchange.name not in self._declared:
                    exchange(channel).declare()
                    self._declared.add(exchange.name)
                # straight onto py-amqp's channel: kombu's Producer.publish cost more than the write itself
                channel.basic_publish(
                    amqp.Message(json_dumps(message["body"]), content_type="application/json",
                                 content_encoding="utf-8", delivery_mode=PERSISTENT_DELIVERY_MODE,
                                 message_id=message["message_id"], type=message.get("type"),
                                 application_headers=message.get("headers") or {}),
                    exchange=exchange.name, routing_key=message["routing_key"], mandatory=True,
                )
                self._published += 1
            deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
            while self._confirmed < self._published:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the broker confirmed {self._confirmed} of {self._published} messages")
                self._broker.connection.drain_events(timeout=remaining)
            return set(self._returned)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Drop the connection (quietly: it may be dead already)."""
        self._broker.close()


class OutboxRelay:
    """Moves committed outbox rows to the broker."""

    def __init__(self, engine: Engine, *, amqp_uri: str, clock: Clock | None = None, batch_size: int = 100,
                 grace: float = SWEEP_GRACE_SECONDS):
        self.engine = engine
        self.clock = clock or SystemClock()
        self.batch_size = batch_size
        self.grace = grace
        self._channel = ConfirmedChannel(amqp_uri)
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._running = False
        self._done = threading.Event()  # set when ``run`` returns
        self.last_sweep: float | None = None  # monotonic time the running loop last finished a sweep
        self._handed: deque[Envelope] = deque()
        self._published: list[tuple[str, str]] = []  # (event id, outcome) published from a hand-off, not yet marked
        self._mark_due = 0.0
        self._unroutable_types: set[str] = set()  # event types already reported as having no queue bound
        # marking needs no transaction around it: one statement, committed on its own
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    def handoff(self, envelopes: Iterable[Envelope]) -> None:
        """Take events whose rows were just committed, to publish them without reading them back.

        Only while ``run`` runs; otherwise this only wakes the relay, and a sweep publishes the rows.
        """
        if self._running:
            self._handed.extend(envelopes)
        self._wake.set()

    def relay_handed(self) -> int:
        """Publish up to ``batch_size`` handed-off events; return how many.

        Their rows are marked by ``mark_published``, soon after and several at a time. On a failure the
        batch goes back to the front of the queue and is tried again after the loop's pause. The queue
        holds at most ``HANDOFF_LIMIT`` events; beyond that the newest are left to the sweep (their rows
        are pending).
        """
        batch = []
        while self._handed and len(batch) < self.batch_size:
            batch.append(self._handed.popleft())
        if not batch:
            return 0
        try:
            returned = self._channel.publish_many([self._message(envelope.type, envelope.to_dict())
                                                   for envelope in batch])
        except BaseException:
            self._handed.extendleft(reversed(batch))
            while len(self._handed) > HANDOFF_LIMIT:
                self._handed.pop()  # the newest: the sweep takes them (oldest first) once past ``grace``
            raise
        now = self.clock.now()
        if not self._published:
            self._mark_due = time.monotonic() + MARK_DELAY_SECONDS
        for envelope in batch:
            outcome = "unroutable" if envelope.id in returned else "routed"
            self._published.append((envelope.id, outcome))
            self._count(envelope.type, outcome, now, datetime.fromisoformat(envelope.occurred_at), envelope.id)
        self._report_unroutable(envelope.type for envelope in batch if envelope.id in returned)
        return len(batch)

    def mark_published(self, *, force: bool = False) -> int:
        """Mark the rows of published hand-offs, once ``MARK_DELAY_SECONDS`` passed since the first of them
        (or ``batch_size`` wait, or ``force``); return how many were marked.

        One statement per outcome, committed on its own. If it fails the ids are kept and marked on a
        later call; if the process dies first, the rows are published again by a sweep (at least once).
        """
        if not self._published or not (force or len(self._published) >= self.batch_size
                                       or time.monotonic() >= self._mark_due):
            return 0
        now = self.clock.now()
        with self._autocommit.connect() as conn:
            for outcome, error in (("routed", None), ("unroutable", UNROUTABLE_ERROR)):
                ids = [event_id for event_id, result in self._published if result == outcome]
                if ids:
                    conn.execute(_MARK, {"ids": ids, "at": now, "flag": int(error is not None), "error": error})
        marked, self._published = len(self._published), []
        return marked

    def _count(self, event_type: str, outcome: str, now: datetime, created_at: datetime, event_id: str) -> None:
        if outcome == "unroutable":
            log.debug("event %s %s is unroutable: no queue is bound", event_type, event_id)
        metrics.OUTBOX_PUBLISHED.labels(event_type=event_type, outcome=outcome).inc()
        metrics.OUTBOX_RELAY_LATENCY.observe(max(0.0, (now - created_at).total_seconds()))

    def relay_batch(self, *, min_age: float | None = None) -> int:
        """Sweep: publish up to ``batch_size`` pending events in commit order; return how many were handled.

        With ``min_age`` (seconds), only rows at least that old: younger ones belong to a hand-off.
        """
        with self.engine.begin() as conn:
            query = (
                select(outbox_table.c.id, outbox_table.c.producer, outbox_table.c.event_type, outbox_table.c.envelope,
                       outbox_table.c.created_at)
                .where(outbox_table.c.published_at.is_(None))
                .order_by(outbox_table.c.id)
                .limit(self.batch_size)
            )
            if min_age is not None:
                query = query.where(outbox_table.c.created_at <= self.clock.now() - timedelta(seconds=min_age))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            messages = [self._message(row.event_type, row.envelope) for row in rows]
            returned = self._channel.publish_many(messages) if rows else set()
            routed = [row for row in rows if row.envelope["id"] not in returned]
            unroutable = [row for row in rows if row.envelope["id"] in returned]
            now = self.clock.now()
            for batch, error in ((routed, None), (unroutable, UNROUTABLE_ERROR)):
                if not batch:
                    continue
                conn.execute(
                    update(outbox_table)
                    .where(outbox_table.c.id.in_([row.id for row in batch]))
                    .values(published_at=now, attempts=outbox_table.c.attempts + 1, unroutable=int(error is not None),
                            last_error=error)
                )
                outcome = "routed" if error is None else "unroutable"
                for row in batch:
                    self._count(row.event_type, outcome, now, row.created_at, row.envelope["id"])
        self._report_unroutable(row.event_type for row in unroutable)
        return len(rows)

    def _report_unroutable(self, event_types: Iterable[str]) -> None:
        """Log one line for the event types found unroutable for the first time in this process.

        A fresh install has no consumer for most events (the demo seed alone makes a dozen): one line per
        type says so without a line per event, which stays at DEBUG (and in the outbox_published metric).
        """
        new = sorted(set(event_types) - self._unroutable_types)
        if new:
            self._unroutable_types.update(new)
            log.info("no queue is bound for %s yet: such events are marked unroutable in the outbox "
                     "(said once per type; each event at DEBUG)", ", ".join(new))

    @staticmethod
    def _message(event_type: str, envelope: dict) -> dict:
        headers = {}
        if envelope.get("correlation_id"):
            headers[f"nameko.{NAMEKO_CONTEXT_KEY}"] = envelope["correlation_id"]
        exchange = event_exchange(lookup_event_type(event_type, envelope.get("version", 1)).exchange)
        return {"body": envelope, "exchange": exchange, "routing_key": event_type, "headers": headers,
                "message_id": envelope["id"], "type": event_type}

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

    def wait_stopped(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the relay to be stopped; return whether it is."""
        return self._stopped.wait(timeout)

    def stop(self, *, timeout: float = 5.0) -> None:
        """Make ``run`` return (waiting up to ``timeout`` for it to mark what it published) and close the
        relay's broker connection."""
        self._stopped.set()
        self._wake.set()
        if self._running:
            self._done.wait(timeout)
        self._channel.close()

    def run(self, *, poll_interval: float = 1.0, max_backoff: float = 10.0) -> None:
        """Relay until stopped: hand-offs at once, a sweep every ``poll_interval`` seconds (the first one at
        start, of everything pending; later ones of rows older than ``grace``)."""
        backoff = 0.0
        min_age = None  # the first sweep takes everything: nothing of this process is in flight yet
        next_sweep = 0.0
        self._running = True
        self._done.clear()
        try:
            while not self._stopped.is_set():
                self._wake.clear()
                try:
                    self.relay_handed()
                    self.mark_published()
                    if time.monotonic() >= next_sweep:
                        swept = self.relay_batch(min_age=min_age)
                        self.last_sweep = time.monotonic()
                        if swept < self.batch_size:
                            next_sweep, min_age = time.monotonic() + poll_interval, self.grace
                    backoff = 0.0
                except Exception as exc:  # broker or database down: keep the rows, try again later
                    log.warning("outbox relay failed, will retry: %r", exc)
                    metrics.OUTBOX_RELAY_ERRORS.inc()
                    try:
                        self.record_failure(exc)
                    except Exception as db_exc:
                        log.warning("could not record the relay failure: %r", db_exc)
                    backoff = min(max_backoff, backoff * 2 or 0.2)
                    next_sweep = 0.0  # what failed is in the table: sweep again once the pause is over
                    self._stopped.wait(backoff)
                    continue
                if self._handed or time.monotonic() >= next_sweep:
                    continue
                wake_at = min(next_sweep, self._mark_due) if self._published else next_sweep
                self._wake.wait(max(0.0, wake_at - time.monotonic()))
        finally:
            self._running = False
            self._handed.clear()
            try:
                self.mark_published(force=True)
            except Exception as exc:  # their rows stay pending: a sweep publishes them again
                log.warning("could not mark the last published events: %r", exc)
            self._done.set()
