"""Nameko building blocks every service uses: the database (unit of work + outbox relay), reliable
event handlers (inbox-friendly, retried with backoff, then dead-lettered) and observability.

Delivery semantics, in one place:
- an event is recorded in the outbox in the transaction of its state and relayed after commit with
  publisher confirms, so it is published at least once, never for a rolled-back change;
- a handler runs at least once per event, and acts once: the first unit of work a reliable handler's
  worker opens claims the event id in the service's inbox, in that transaction, under the consumer
  name ``<service>.<method>``. A delivery of an event that consumer handled before (a redelivery, or a
  twin on another replica that committed first: it waits on the inbox's primary key) is skipped there
  (``inbox.EventAlreadyHandled`` out of ``db()``) and acked as done, neither retried nor dead-lettered.
  Handlers never claim by hand; a handler that opens no unit of work (or never commits one) records
  nothing, so it must be harmless to repeat;
- an RPC command (a request with a command id) acts once: its answer is recorded in its own transaction
  and a redelivery, or a client's retry, is answered from the record (``commands``);
- a handler that raises is not acked-and-dropped (nameko's default): the message is republished to a
  delay queue (per-attempt TTL, dead-lettered back to the handler's queue) and, after the last attempt,
  to ``<queue>.dlq``, where ``python -m helpdesk_common.dlq`` lists and replays it. The original is
  acked only after the copy is confirmed by the broker.
"""

from __future__ import annotations

import errno
import inspect
import logging
import os
import sys
import threading
import time
import traceback
import weakref
from functools import partial

import amqp
import eventlet
import kombu.serialization
from kombu import Connection, Exchange, Queue
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)
from nameko.events import EventHandler
from nameko.exceptions import IncorrectSignature, UnserializableValueError, serialize
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange
from nameko.timer import Timer
from prometheus_client import start_http_server
from sqlalchemy.orm import sessionmaker

from helpdesk_common import commands, metrics
from helpdesk_common import config as cfg
from helpdesk_common.amqp import BrokerChannel, skip_librabbitmq_probe
from helpdesk_common.clock import SystemClock
from helpdesk_common.context import NAMEKO_CONTEXT_KEY, new_correlation_id, set_correlation_id
from helpdesk_common.db import make_engine
from helpdesk_common.inbox import EventAlreadyHandled, consumer_name, quiet_duplicates
from helpdesk_common.logging import init_sentry
from helpdesk_common.relay import OutboxRelay
from helpdesk_common.uow import UnitOfWork
from helpdesk_contracts import limits
from helpdesk_contracts.envelope import Envelope

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-helpdesk-attempt"
ERROR_HEADER = "x-helpdesk-error"
ORIGIN_HEADER = "x-helpdesk-original-queue"
FAILED_AT_HEADER = "x-helpdesk-failed-at"

_DEAD_LETTER_QUEUES: set[str] = set()

skip_librabbitmq_probe()


class Database(DependencyProvider):
    """Give each worker ``unit_of_work()`` on this service's database and run its outbox relay.

    The database is ``<SERVICE>_DATABASE_URL`` (SQLite under ``var/`` by default). The relay runs in a
    managed green thread unless ``OUTBOX_RELAY`` is ``off`` in the service config; commits hand it their
    events (see ``relay``). An RPC carrying a command id is looked up and recorded in ``commands``
    (see ``commands``); records older than ``COMMAND_RETENTION_HOURS`` (default 48, at least 24) are
    deleted every ``COMMAND_PRUNE_SECONDS`` (default 3600, 0 = never) by every replica alike (a delete
    by age is the same whoever runs it). ``uow_class`` is the service's own ``UnitOfWork`` subclass, the
    one that holds its repositories.
    """

    def __init__(self, service_name: str | None = None, *, uow_class: type[UnitOfWork] = UnitOfWork):
        self.service_name = service_name
        self.uow_class = uow_class  # the service's own unit of work, holding its repositories
        self.engine = None
        self.relay = None
        self.clock = SystemClock()
        self._open: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def setup(self) -> None:
        name = self.service_name or self.container.service_name
        url = self.container.config.get("DATABASE_URL") or cfg.database_url(name)
        self.engine = make_engine(url)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.relay = OutboxRelay(
            self.engine,
            amqp_uri=self.container.config["AMQP_URI"],
            clock=self.clock,
            batch_size=int(self.container.config.get("OUTBOX_BATCH_SIZE", 100)),
        )
        faults = frozenset(m.strip() for m in str(self._setting(commands.FAULT_SETTING, "")).split(",") if m.strip())
        if faults:
            log.warning("%s is set: this process exits right after committing %s", commands.FAULT_SETTING,
                        ", ".join(sorted(faults)))
        self.commands = commands.CommandLog(
            self.session_factory, service=self.container.service_name, clock=self.clock,
            retention_hours=float(self._setting("COMMAND_RETENTION_HOURS", commands.DEFAULT_RETENTION_HOURS)),
            exit_after_commit=faults,
        )

    def _setting(self, name: str, default):
        value = self.container.config.get(name)
        if value in (None, ""):
            value = os.environ.get(name)
        return default if value in (None, "") else value

    def start(self) -> None:
        if str(self.container.config.get("OUTBOX_RELAY", "on")).lower() not in ("off", "false", "0"):
            poll = float(self.container.config.get("OUTBOX_POLL_SECONDS", 1.0))
            self.container.spawn_managed_thread(lambda: self.relay.run(poll_interval=poll), identifier="outbox-relay")
            self.container.spawn_managed_thread(self._watch_backlog, identifier="outbox-backlog")
        self._pruning = threading.Event()
        interval = float(self._setting("COMMAND_PRUNE_SECONDS", 3600))
        if interval > 0:
            self.container.spawn_managed_thread(lambda: self._prune_commands(interval), identifier="command-prune")

    def _prune_commands(self, interval: float) -> None:
        while not self._pruning.wait(interval):
            try:
                pruned = self.commands.prune()
            except Exception as exc:  # the database may be briefly away: the next round deletes them
                log.warning("could not prune the command records: %r", exc)
                continue
            if pruned:
                log.info("pruned %s command records older than the retention", pruned)

    def stop(self) -> None:
        if getattr(self, "_pruning", None) is not None:
            self._pruning.set()
        if self.relay is not None:
            self.relay.stop()
        if self.engine is not None:
            self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def _watch_backlog(self) -> None:
        while not self.relay.wait_stopped(0):
            try:
                count, age = self.relay.backlog()
                metrics.OUTBOX_BACKLOG.set(count)
                metrics.OUTBOX_OLDEST_AGE.set(age)
            except Exception as exc:  # the database may be briefly away; the gauge just goes stale
                log.debug("could not read the outbox backlog: %r", exc)
            self.relay.wait_stopped(5.0)

    def get_dependency(self, worker_ctx):
        opened: list[UnitOfWork] = []
        self._open[worker_ctx] = opened
        entrypoint = worker_ctx.entrypoint
        # a reliable handler's first unit of work claims its event (see the module docstring)
        claim = [entrypoint.consumer_name] if isinstance(entrypoint, ReliableEventHandler) else []

        def unit_of_work() -> UnitOfWork:
            # read at call time: dependencies are injected before worker_setup mints a missing id
            command = commands.run_of(worker_ctx)
            if command is not None and command.held:
                # its commit waits for the entrypoint's answer, holding its connection: a second unit of
                # work would commit on its own (not once with the answer), and waits forever on SQLite's one
                raise RuntimeError(f"{worker_ctx.entrypoint.method_name} opened a second unit of work while its "
                                   "command's commit is held: an RPC command opens one (work after it goes in "
                                   "uow.after_commit, or in an event handler)")
            uow = self.uow_class(
                self.session_factory,
                producer=self.container.service_name,
                clock=self.clock,
                correlation_id=worker_ctx.data.get(NAMEKO_CONTEXT_KEY),
                on_commit=self.relay.handoff,
                command=command,
                session=command.take_session() if command is not None else None,
            )
            opened.append(uow)
            if claim:
                consumer = claim.pop()
                envelope = worker_ctx.args[0]
                if not uow.claim(envelope, consumer=consumer):
                    uow.close()
                    raise EventAlreadyHandled(f"{consumer} handled event {envelope.id} before")
            return uow

        return unit_of_work

    def worker_setup(self, worker_ctx) -> None:
        if commands.COMMAND_ID_KEY in worker_ctx.data:  # no id, no lookup: queries pay nothing
            commands.begin_worker(self.commands, worker_ctx)

    def worker_teardown(self, worker_ctx) -> None:
        commands.discard_worker(worker_ctx)
        for uow in self._open.pop(worker_ctx, []):
            uow.close()


METRICS_PORT_ATTEMPTS = 16


class Observability(DependencyProvider):
    """Bind the correlation id to each worker, count and time RPCs and events, serve /metrics.

    /metrics is served on ``METRICS_PORT``; when several processes of a service share a host (``honcho
    start -c <service>=2``), each next one takes the next free port after it (logged at start).
    """

    _metrics_port_started: int | None = None

    def setup(self) -> None:
        init_sentry(self.container.service_name)
        port = int(self.container.config.get("METRICS_PORT") or 0)
        if port and Observability._metrics_port_started is None:
            Observability._metrics_port_started = _serve_metrics(port, self.container.config.get("METRICS_ADDR", "0.0.0.0"))
        self._started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def start(self) -> None:
        self._stopped = threading.Event()
        self.container.spawn_managed_thread(self._watch_dead_letters, identifier="dlq-depth")

    def stop(self) -> None:
        self._stopped.set()

    def _watch_dead_letters(self) -> None:
        uri = self.container.config["AMQP_URI"]
        while not self._stopped.is_set():
            for name in sorted(_DEAD_LETTER_QUEUES):
                try:
                    with Connection(uri, connect_timeout=2) as conn:
                        _, depth, _ = Queue(name, durable=True).bind(conn.default_channel).queue_declare(passive=True)
                    metrics.DLQ_DEPTH.labels(queue=name).set(depth)
                except Exception as exc:  # queue not declared yet, or broker away: try next round
                    log.debug("could not read the depth of %s: %r", name, exc)
            self._stopped.wait(15)

    def worker_setup(self, worker_ctx) -> None:
        correlation_id = worker_ctx.data.get(NAMEKO_CONTEXT_KEY)
        if not correlation_id:
            correlation_id = new_correlation_id()
            worker_ctx.data[NAMEKO_CONTEXT_KEY] = correlation_id
        set_correlation_id(correlation_id)
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        elapsed = time.perf_counter() - self._started.pop(worker_ctx, time.perf_counter())
        entrypoint = worker_ctx.entrypoint
        method = entrypoint.method_name
        if isinstance(entrypoint, Rpc):
            if exc_info is None:
                outcome = "ok"
            elif isinstance(exc_info[1], entrypoint.expected_exceptions):
                outcome = "rejected"
            else:
                outcome = "error"
            metrics.RPC_REQUESTS.labels(method=method, outcome=outcome).inc()
            metrics.RPC_LATENCY.labels(method=method).observe(elapsed)
        elif isinstance(entrypoint, EventHandler):
            metrics.EVENT_LATENCY.labels(event_type=entrypoint.event_type, handler=method).observe(elapsed)

    def worker_teardown(self, worker_ctx) -> None:
        set_correlation_id(None)


def _serve_metrics(port: int, addr: str) -> int:
    """Serve /metrics on ``port`` or, if another process holds it, on the next free one; return the port."""
    for candidate in range(port, port + METRICS_PORT_ATTEMPTS):
        try:
            start_http_server(candidate, addr=addr)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            continue
        if candidate != port:
            log.warning("metrics port %s is taken (another process of this service?): serving /metrics on %s",
                        port, candidate)
        return candidate
    raise OSError(errno.EADDRINUSE, f"no free metrics port in {port}..{port + METRICS_PORT_ATTEMPTS - 1}")


class ReliableEventHandler(EventHandler):
    """An event handler that retries with backoff and dead-letters instead of dropping.

    The decorated method receives an ``Envelope``; the first ``db()`` it opens claims the event in the
    inbox as ``<service>.<method>`` (a duplicate is skipped there and acked). Config: ``EVENT_RETRY_DELAYS_MS`` (comma-separated,
    one delay per retry; default ``500,2000,10000,30000``).

    ``enabled_by="SETTING"`` makes the handler exist only when that setting (service config, else the
    environment) is non-empty: without it no queue is declared and no consumer runs, so events of a
    feature that is switched off cost nothing. (Switching the feature off later leaves its queue on the
    broker, filling up: delete it.)
    """

    def __init__(self, *args, enabled_by: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.enabled_by = enabled_by
        self.enabled = True
        expected = self.expected_exceptions
        self.expected_exceptions = (*(expected if isinstance(expected, tuple) else (expected,)), EventAlreadyHandled)

    @property
    def consumer_name(self) -> str:
        """The name this handler's events are claimed under in the service's inbox."""
        return consumer_name(self.container.service_name, self.method_name)

    def setup(self) -> None:
        if self.enabled_by is not None:
            value = self.container.config.get(self.enabled_by) or os.environ.get(self.enabled_by)
            self.enabled = bool(str(value or "").strip())
        if not self.enabled:
            return
        super().setup()
        quiet_duplicates()
        raw = str(self.container.config.get("EVENT_RETRY_DELAYS_MS", "500,2000,10000,30000"))
        self.retry_delays = [int(x) for x in raw.split(",") if x.strip()]
        self.dead_letter_queue = Queue(f"{self.queue.name}.dlq", durable=True)
        _DEAD_LETTER_QUEUES.add(self.dead_letter_queue.name)
        self._publisher = Publisher(self.container.config["AMQP_URI"], use_confirms=True, mandatory=True)

    def start(self) -> None:
        if self.enabled:
            super().start()

    def stop(self) -> None:
        if self.enabled:
            super().stop()

    def _retry_queue(self, delay_ms: int) -> Queue:
        return Queue(
            f"{self.queue.name}.retry.{delay_ms}ms",
            durable=True,
            queue_arguments={
                "x-message-ttl": delay_ms,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue.name,
            },
        )

    def handle_message(self, body, message):
        try:
            envelope = Envelope.from_dict(body)
        except (KeyError, TypeError) as exc:
            log.error("malformed event on %s: %r", self.queue.name, exc)
            try:
                self._dead_letter(body, message, f"malformed envelope: {exc!r}")
            except Exception as publish_exc:  # keep it in the queue rather than lose it
                log.error("could not dead-letter a malformed event, requeueing it: %r", publish_exc)
                self.queue_consumer.requeue_message(message)
                return
            metrics.EVENTS_HANDLED.labels(event_type=self.event_type, handler=self.method_name, outcome="dead_lettered").inc()
            self.queue_consumer.ack_message(message)
            return
        context_data = self.unpack_message_headers(message)
        try:
            self.container.spawn_worker(
                self, (envelope,), {}, context_data=context_data, handle_result=partial(self.handle_result, message)
            )
        except Exception:  # container shutting down: leave the message to another consumer
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        handler = self.method_name
        if exc_info is None:
            metrics.EVENTS_HANDLED.labels(event_type=self.event_type, handler=handler, outcome="ok").inc()
            self.queue_consumer.ack_message(message)
            return result, exc_info
        if isinstance(exc_info[1], EventAlreadyHandled):  # done before: ack it, as a success would be
            metrics.EVENTS_HANDLED.labels(event_type=self.event_type, handler=handler, outcome="duplicate").inc()
            self.queue_consumer.ack_message(message)
            return None, None
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()[:2000]
        try:
            if attempt <= len(self.retry_delays):
                delay = self.retry_delays[attempt - 1]
                self._republish(message, self._retry_queue(delay), attempt + 1, error)
                outcome = "retried"
            else:
                self._dead_letter(message.payload, message, error, attempt=attempt)
                outcome = "dead_lettered"
        except Exception as exc:  # could not park the copy: requeue the original so nothing is lost
            log.error("could not retry or dead-letter a failed event, requeueing it: %r", exc)
            self.queue_consumer.requeue_message(message)
            return result, exc_info
        metrics.EVENTS_HANDLED.labels(event_type=self.event_type, handler=handler, outcome=outcome).inc()
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _republish(self, message, queue: Queue, attempt: int, error: str, extra: dict | None = None) -> None:
        headers = dict(message.headers or {})
        headers.update({ATTEMPT_HEADER: attempt, ERROR_HEADER: error, ORIGIN_HEADER: self.queue.name})
        headers.update(extra or {})
        self._publisher.publish(
            message.payload,
            exchange=Exchange(""),
            routing_key=queue.name,
            declare=[queue],
            headers=headers,
            message_id=message.properties.get("message_id"),
        )

    def _dead_letter(self, payload, message, error: str, attempt: int = 1) -> None:
        log.error("dead-lettering an event from %s after %s attempt(s): %s", self.queue.name, attempt, error)
        headers = dict(message.headers or {})
        headers.update(
            {
                ATTEMPT_HEADER: attempt,
                ERROR_HEADER: error,
                ORIGIN_HEADER: self.queue.name,
                FAILED_AT_HEADER: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        self._publisher.publish(
            payload,
            exchange=Exchange(""),
            routing_key=self.dead_letter_queue.name,
            declare=[self.dead_letter_queue],
            headers=headers,
            message_id=message.properties.get("message_id"),
        )


reliable_event_handler = ReliableEventHandler.decorator


# RPC entrypoints -------------------------------------------------------------------------------------


class _ReplyChannel:
    """One broker connection, kept open, for the RPC replies of a container.

    Nameko's ``Responder`` builds a publisher for every reply: a new kombu ``Connection`` object, a
    checkout from kombu's producer pool, and, by default, a wait for the broker's confirm. Replies go
    to the caller's own non-durable reply queue: nothing to persist, nothing a confirm would save (a
    reply the broker loses ends as the caller's timeout either way). So they are sent transient,
    unconfirmed, on one ``BrokerChannel`` that workers take turns on (it reopens a broken connection
    once per reply before giving up).
    """

    def __init__(self, amqp_uri: str, *, ssl=None, login_method=None):
        self._lock = threading.Lock()
        self._broker = BrokerChannel(amqp_uri, ssl=ssl, login_method=login_method, name="RPC reply")

    def publish(self, body: bytes | str, *, content_type: str, content_encoding: str, exchange: Exchange,
                routing_key: str, correlation_id: str | None) -> None:
        message = amqp.Message(body, content_type=content_type, content_encoding=content_encoding,
                               correlation_id=correlation_id, delivery_mode=NON_PERSISTENT)
        with self._lock:
            self._broker.publish(message, exchange=exchange.name, routing_key=routing_key)

    def close(self) -> None:
        self._broker.close()


class _RpcConsumer(RpcConsumer):
    """Nameko's shared RPC consumer, replying through one ``_ReplyChannel`` per container."""

    def setup(self):
        super().setup()
        config = self.container.config
        self._exchange = get_rpc_exchange(config)
        self._serializer = config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER)
        self._replies = _ReplyChannel(
            config[AMQP_URI_CONFIG_KEY], ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )

    def stop(self):
        super().stop()
        self._replies.close()

    def handle_result(self, message, result, exc_info, replayed=False):
        # nameko 2.14's Responder.send_response, serializing once (it serializes twice) on a kept channel
        error = serialize(exc_info[1]) if exc_info is not None else None
        serializer = kombu.serialization.registry.type_to_name[message.properties["content_type"]]
        reply = {"result": result, "error": error}
        if replayed:  # callers that know it (the gateway) tell their client; nameko's proxies ignore it
            reply[commands.REPLAYED_KEY] = True
        try:
            content_type, encoding, body = kombu.serialization.dumps(reply, serializer)
        except Exception:
            exc_info = sys.exc_info()
            error = serialize(UnserializableValueError(result))  # guaranteed to serialize
            result = None
            content_type, encoding, body = kombu.serialization.dumps({"result": None, "error": error}, serializer)
        self._replies.publish(body, content_type=content_type, content_encoding=encoding, exchange=self._exchange,
                              routing_key=message.properties["reply_to"],
                              correlation_id=message.properties.get("correlation_id"))
        self.queue_consumer.ack_message(message)
        return result, exc_info


class HelpdeskRpc(Rpc):
    """Nameko's ``@rpc`` with unconfirmed, transient replies on a kept connection (see ``_ReplyChannel``),
    whose arguments are held to ``helpdesk_contracts.limits`` before any worker runs.

    Every RPC entrypoint of a service must use it (they share one consumer of the service's queue). A
    request carrying a command id is answered once its command is recorded (see ``commands``).
    """

    rpc_consumer = _RpcConsumer()
    records_commands = True

    def unpack_message_headers(self, message):
        data = super().unpack_message_headers(message)
        if commands.COMMAND_ID_KEY in data and message.delivery_info.get("redelivered"):
            data[commands.REDELIVERED_KEY] = True  # it may have run before: look its id up first
        return data

    def handle_result(self, message, worker_ctx, result, exc_info):
        result, exc_info, replayed = commands.finish_worker(worker_ctx, result, exc_info)
        return self.rpc_consumer.handle_result(message, result, exc_info, replayed=replayed)

    def check_signature(self, args, kwargs):
        # nameko's runs inspect.getcallargs, which rebuilds the method's signature on every call
        signature = getattr(self, "_signature", None)
        if signature is None:
            signature = self._signature = inspect.signature(getattr(self.container.service_cls, self.method_name))
        try:
            bound = signature.bind(None, *args, **kwargs)  # None stands for the service instance (``self``)
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None
        limits.check_arguments(bound.arguments)  # RPC callers are clients too: ValidationFailed naming the field


rpc = HelpdeskRpc.decorator


# Timers -------------------------------------------------------------------------------------------------

RETRY_SOON = "retry soon"
"""What a timer method returns when its round could not be done (a service it asks is away): the next round
comes after ``retry_seconds`` (doubling up to the interval) instead of a whole interval."""


class ConfiguredTimer(Timer):
    """Nameko's ``@timer`` with its interval read at start from the service config (else the environment),
    so deployments and tests set it; 0 (or less) turns the timer off.

    ``@configured_timer("ORGANIZATION_SYNC_SECONDS", default=600, eager=True)``.

    A round that raises or returns ``RETRY_SOON`` is tried again after ``retry_seconds`` (5 by default,
    doubling each time it fails again, never beyond the interval): a reconciliation at start that found
    the service it asks not up yet is done seconds later, not a whole interval later. The next round is
    counted from when the previous one started (one that took longer than the interval is followed at once).
    """

    def __init__(self, setting: str, default: float, *, retry_seconds: float = 5.0, **kwargs):
        super().__init__(interval=default, **kwargs)
        self.setting = setting
        self.retry_seconds = retry_seconds
        self._failed = False

    def setup(self) -> None:
        value = self.container.config.get(self.setting)
        if value is None:
            value = os.environ.get(self.setting)
        if value not in (None, ""):
            self.interval = float(value)

    def start(self) -> None:
        if self.interval > 0:
            super().start()

    def stop(self) -> None:
        if self.gt is not None:
            super().stop()

    def kill(self) -> None:
        if self.gt is not None:
            super().kill()

    def _run(self) -> None:
        sleep_time = 0.0 if self.eager else self.interval
        retry = min(self.retry_seconds, self.interval)
        while True:
            with eventlet.Timeout(sleep_time, False):
                self.should_stop.wait()
                break
            started = time.monotonic()
            self.handle_timer_tick()
            self.worker_complete.wait()
            self.worker_complete.reset()
            if self._failed:
                sleep_time, retry = retry, min(retry * 2, self.interval)
            else:
                sleep_time = max(self.interval - (time.monotonic() - started), 0.0)
                retry = min(self.retry_seconds, self.interval)

    def handle_result(self, worker_ctx, result, exc_info):
        self._failed = exc_info is not None or result == RETRY_SOON
        return super().handle_result(worker_ctx, result, exc_info)


configured_timer = ConfiguredTimer.decorator
