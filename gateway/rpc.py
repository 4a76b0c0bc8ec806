"""A pool of RPC proxies (nameko's wire protocol) shared by the gateway's request threads.

Concurrency: each server worker calls the app on several threads (``GATEWAY_THREADS``), and a proxy is
single-threaded (its caller reads its reply queue itself), so every call borrows one proxy for its
duration and gives it back. At most ``size`` proxies exist per process;
they are started on first need, and a caller waits for a free one within its own timeout.

Failures: a call that times out answers ``ServiceTimeout`` (504) and a broker that cannot be reached
answers ``ServiceUnavailable`` (503); in both cases the proxy is stopped and dropped, so a late reply
can never be read as the answer to a later call. A call that timed out may still run in the service;
a call made while serving a write carries a command id (``gateway.idempotency``), so a redelivery of it
acts once, and a client's retry too when it sends an ``Idempotency-Key``. Errors a service raises on purpose come back as the typed
``helpdesk_contracts.errors`` classes; any other remote error is logged and answered as a 500.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, Protocol

import amqp
from flask import current_app
from kombu.utils.json import dumps as json_dumps
from kombu.utils.json import loads as json_loads
from nameko.constants import NON_PERSISTENT as TRANSIENT
from nameko.exceptions import (
    BadRequest,
    RemoteError,
    RpcTimeout,
    UnknownService,
    deserialize,
    deserialize_to_instance,
)

from gateway import idempotency
from gateway.errors import ServiceTimeout, ServiceUnavailable, UnexpectedServiceError
from gateway.idempotency import Command
from helpdesk_common.amqp import BROKER_ERRORS as AMQP_BROKER_ERRORS
from helpdesk_common.amqp import BrokerChannel, skip_librabbitmq_probe
from helpdesk_common.context import (
    COMMAND_ID_KEY,
    FINGERPRINT_KEY,
    NAMEKO_CONTEXT_KEY,
    REPLAYED_KEY,
    get_correlation_id,
    set_correlation_id,
)
from helpdesk_contracts.errors import ServiceError, all_error_types

skip_librabbitmq_probe()
log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"  # nameko's default RPC exchange (durable topic), which the services bind to

# A broker that cannot be reached, or a proxy found unusable (a RuntimeError: e.g. not started).
BROKER_ERRORS: tuple[type[BaseException], ...] = (*AMQP_BROKER_ERRORS, RuntimeError)


class PooledProxy(Protocol):
    """What the pool needs from one proxy (``AmqpProxy``, or a fake in tests)."""

    def start(self) -> None: ...

    def is_healthy(self) -> bool: ...

    def call(
        self, service: str, method: str, args: tuple, kwargs: dict, *, timeout: float, correlation_id: str | None,
        command: Command | None = None,
    ) -> Any: ...

    def stop(self) -> None: ...


class AmqpProxy:
    """One broker connection speaking nameko's RPC protocol, with no per-call set-up.

    Nameko's standalone proxy builds a publisher, takes a kombu connection from a pool and waits for a
    publisher confirm on every call (the confirm is how it learns that no service is bound). Here one
    py-amqp connection and channel live as long as the proxy: a request is published ``mandatory`` and
    transient, and the proxy then reads its channel until either the reply or the broker's
    ``basic.return`` for that request arrives, so a call to a service nobody serves still fails at
    once (``UnknownService``) without a confirm round trip. Replies come into an exclusive queue the
    broker deletes with the connection, consumed without acks. ``replayed`` tells whether the last
    reply was a command's recorded answer.
    """

    HEALTH_CHECK_AFTER_IDLE_SECONDS = 1.0

    def __init__(self, amqp_uri: str, *, exchange: str = RPC_EXCHANGE, connect_timeout: float = 5.0):
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.connect_timeout = connect_timeout
        self._broker = BrokerChannel(amqp_uri, heartbeat=0, connect_timeout=connect_timeout, on_open=self._declare,
                                     name="gateway RPC")
        self._reply_to = str(uuid.uuid4())
        self._waiting_for: str | None = None
        self._reply: dict[str, Any] | None = None
        self._returned = False
        self._correlation_id: str | None = None
        self._command: Command | None = None
        self.replayed = False
        self._last_used = time.monotonic()

    def start(self) -> None:
        """Connect and declare the reply queue."""
        self._broker.open()
        self._last_used = time.monotonic()

    def _declare(self, channel) -> None:
        channel.exchange_declare(self.exchange, "topic", durable=True, auto_delete=False)
        queue = f"rpc.reply-gateway-{self._reply_to}"
        channel.queue_declare(queue, exclusive=True, auto_delete=True)
        channel.queue_bind(queue, self.exchange, routing_key=self._reply_to)
        channel.basic_consume(queue, no_ack=True, callback=self._on_reply)
        channel.events["basic_return"].add(self._on_return)

    def is_healthy(self) -> bool:
        """Return whether the connection is still open (without blocking).

        A proxy used within the last second is taken as alive; an older one reads its socket once, which
        finds a connection the broker closed meanwhile (e.g. across a broker restart).
        """
        if not self._broker.connected:
            return False
        if time.monotonic() - self._last_used < self.HEALTH_CHECK_AFTER_IDLE_SECONDS:
            return True
        try:
            self._broker.connection.connection.drain_events(timeout=0)
        except TimeoutError:  # socket.timeout: no data, the connection is alive
            return True
        except BROKER_ERRORS as exc:
            log.info("dropping an RPC proxy whose connection died: %r", exc)
            return False
        return True

    def call(
        self, service: str, method: str, args: tuple, kwargs: dict, *, timeout: float, correlation_id: str | None,
        command: Command | None = None,
    ) -> Any:
        """Call ``service.method`` and wait at most ``timeout`` seconds for the reply."""
        channel = self._broker.channel  # py-amqp's own: no kombu layer per call
        if channel is None:
            raise RuntimeError("the RPC proxy is not started")
        self.bind_context(correlation_id, command)
        self.replayed = False
        request_id = str(uuid.uuid4())
        message = amqp.Message(
            json_dumps({"args": args, "kwargs": kwargs}),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=TRANSIENT,
            reply_to=self._reply_to,
            correlation_id=request_id,
            application_headers=self.context_headers(),
        )
        self._waiting_for, self._reply, self._returned = request_id, None, False
        channel.basic_publish(message, exchange=self.exchange, routing_key=f"{service}.{method}", mandatory=True)
        deadline = time.monotonic() + timeout
        connection = self._broker.connection.connection
        try:
            while self._reply is None and not self._returned:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RpcTimeout(timeout)
                try:
                    connection.drain_events(timeout=remaining)
                except TimeoutError:
                    raise RpcTimeout(timeout) from None
        finally:
            self._waiting_for = None
            self._last_used = time.monotonic()
        if self._returned:
            raise UnknownService(service)
        error = self._reply.get("error")
        if error:
            raise deserialize(error)
        self.replayed = bool(self._reply.get(REPLAYED_KEY))
        return self._reply.get("result")

    def _on_reply(self, message: amqp.Message) -> None:
        if message.properties.get("correlation_id") != self._waiting_for:
            log.debug("dropping a reply to an earlier call")
            return
        self._reply = json_loads(message.body)

    def _on_return(self, exc, exchange, routing_key, message) -> None:
        if message.properties.get("correlation_id") == self._waiting_for:
            self._returned = True

    def bind_context(self, correlation_id: str | None, command: Command | None = None) -> None:
        """Set the correlation id (services bind it to the worker) and command id the next call carries."""
        self._correlation_id = correlation_id
        self._command = command

    def context_headers(self) -> dict[str, Any]:
        """Return the AMQP headers the next call will carry (nameko's context headers)."""
        headers = {f"nameko.{NAMEKO_CONTEXT_KEY}": self._correlation_id} if self._correlation_id else {}
        if self._command is not None:
            headers[f"nameko.{COMMAND_ID_KEY}"] = self._command.id
            headers[f"nameko.{FINGERPRINT_KEY}"] = self._command.fingerprint
        return headers

    def stop(self) -> None:
        """Close the connection (the broker drops the reply queue with it)."""
        self._broker.close()


def register_remote_errors() -> None:
    """Let nameko rebuild every ``helpdesk_contracts`` error as its own class instead of ``RemoteError``."""
    for cls in all_error_types():
        deserialize_to_instance(cls)


def _typed_remote_error(exc: RemoteError) -> ServiceError | None:
    """Rebuild a contract error that arrived under another module path (message only)."""
    cls = {cls.__name__: cls for cls in all_error_types()}.get(str(exc.exc_type))
    return cls(str(exc.value or "")) if cls is not None else None


class RpcPool:
    """A thread-safe pool of at most ``size`` started RPC proxies to the cluster at ``amqp_uri``."""

    def __init__(
        self,
        amqp_uri: str,
        size: int = 8,
        timeout: float = 10.0,
        *,
        proxy_factory: Callable[[], PooledProxy] | None = None,
    ):
        if size < 1:
            raise ValueError("size must be at least 1")
        self.amqp_uri = amqp_uri
        self.size = size
        self.timeout = timeout
        self._proxy_factory = proxy_factory or (lambda: AmqpProxy(amqp_uri))
        self._idle: list[PooledProxy] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False
        register_remote_errors()

    def call(self, service: str, method: str, *args: Any, rpc_timeout: float | None = None, **kwargs: Any) -> Any:
        """Call ``service.method(*args, **kwargs)`` over RPC and return its result.

        Waits at most ``rpc_timeout`` seconds (default: the pool's timeout) for a free proxy and the
        reply together. The current correlation id travels with the call, and a command id when the
        call serves a write (``gateway.idempotency``).
        """
        timeout = self.timeout if rpc_timeout is None else rpc_timeout
        deadline = time.monotonic() + timeout
        if not self._slots.acquire(timeout=timeout):
            log.warning("no free RPC proxy within %.1fs for %s.%s", timeout, service, method)
            raise ServiceTimeout.for_service(service)
        proxy: PooledProxy | None = None
        keep = False
        try:
            proxy = self._checkout(service)
            remaining = max(deadline - time.monotonic(), 0.001)
            command = idempotency.next_command(service, method)
            try:
                result = proxy.call(
                    service, method, args, kwargs, timeout=remaining, correlation_id=get_correlation_id(),
                    command=command,
                )
            except ServiceError:
                keep = True
                raise
            except RpcTimeout:
                log.warning("%s.%s did not answer within %.1fs", service, method, remaining)
                raise ServiceTimeout.for_service(service) from None
            except UnknownService:
                keep = True  # the broker returned the request: no reply can come late
                log.warning("no %s service is listening (calling %s)", service, method)
                raise ServiceUnavailable.for_service(service) from None
            except RemoteError as exc:
                keep = True
                typed = _typed_remote_error(exc)
                if typed is not None:
                    raise typed from None
                log.error("%s.%s failed remotely: %s %s", service, method, exc.exc_type, exc.value)
                raise UnexpectedServiceError() from None
            except BadRequest as exc:  # MethodNotFound, IncorrectSignature, MalformedRequest: a gateway bug
                keep = True
                log.error("%s.%s rejected the call: %r", service, method, exc)
                raise UnexpectedServiceError() from None
            except BROKER_ERRORS as exc:
                log.warning("broker error calling %s.%s: %r", service, method, exc)
                raise ServiceUnavailable.for_service(service) from None
            keep = True
            if command is not None and getattr(proxy, "replayed", False):
                idempotency.mark_replayed()
            return result
        finally:
            if proxy is not None:
                self._checkin(proxy, keep=keep)
            self._slots.release()

    def ping_all(self, services: Iterable[str], timeout: float = 1.5) -> dict[str, str]:
        """Ping every service concurrently; return ``{service: "ok" | "timeout" | "unavailable" | "error"}``.

        Returns within about ``timeout`` seconds whatever the broker does.
        """
        names = list(dict.fromkeys(services))
        if not names:
            return {}
        correlation_id = get_correlation_id()

        def ping(service: str) -> str:
            set_correlation_id(correlation_id)
            try:
                answer = self.call(service, "ping", rpc_timeout=timeout)
            except ServiceTimeout:
                return "timeout"
            except ServiceUnavailable:
                return "unavailable"
            except Exception as exc:  # any other failure: not ready, and worth a log line
                log.warning("ping of %s failed: %r", service, exc, exc_info=True)
                return "error"
            finally:
                set_correlation_id(None)
            return "ok" if answer == "pong" else "error"

        executor = ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="gateway-ping")
        try:
            futures = {name: executor.submit(ping, name) for name in names}
            done, _ = wait(futures.values(), timeout=timeout + 0.5)
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
        return {name: future.result() if future in done else "timeout" for name, future in futures.items()}

    def close(self) -> None:
        """Stop the idle proxies; proxies in use are stopped when given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for proxy in idle:
            self._discard(proxy)

    def _checkout(self, service: str) -> PooledProxy:
        while True:
            with self._lock:
                proxy = self._idle.pop() if self._idle else None
            if proxy is None:
                break
            if proxy.is_healthy():
                return proxy
            self._discard(proxy)
        proxy = self._proxy_factory()
        try:
            proxy.start()
        except BROKER_ERRORS as exc:
            log.warning("cannot reach the broker at %s: %r", _redact(self.amqp_uri), exc)
            self._discard(proxy)
            raise ServiceUnavailable.for_service(service) from None
        return proxy

    def _checkin(self, proxy: PooledProxy, *, keep: bool) -> None:
        if keep:
            with self._lock:
                if not self._closed:
                    self._idle.append(proxy)
                    return
        self._discard(proxy)

    @staticmethod
    def _discard(proxy: PooledProxy) -> None:
        try:
            proxy.stop()
        except (*BROKER_ERRORS, AttributeError) as exc:  # already dead, or never connected: nothing to close
            log.debug("error stopping a dropped RPC proxy: %r", exc)


def _redact(uri: str) -> str:
    """Hide the password of an AMQP URI for logs."""
    scheme, sep, rest = uri.partition("://")
    if "@" not in rest:
        return uri
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def rpc() -> RpcPool:
    """Return the RPC pool (or the fake a test injected) of the current app."""
    return current_app.extensions["gateway.rpc"]
