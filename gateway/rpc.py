"""A pool of nameko standalone RPC proxies shared by the gateway's request threads.

Concurrency: gunicorn's gthread workers serve requests on several threads, and a
``ClusterRpcProxy`` is single-threaded (its caller polls the reply queue itself), so every call
borrows one proxy for its duration and gives it back. At most ``size`` proxies exist per process;
they are started on first need, and a caller waits for a free one within its own timeout.

Failures: a call that times out answers ``ServiceTimeout`` (504) and a broker that cannot be reached
answers ``ServiceUnavailable`` (503); in both cases the proxy is stopped and dropped, so a late reply
can never be read as the answer to a later call. A call that timed out may still run in the service:
RPCs are not idempotent by default. Errors a service raises on purpose come back as the typed
``helpdesk_contracts.errors`` classes; any other remote error is logged and answered as a 500.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, Protocol

import amqp.exceptions
import kombu.exceptions
from flask import current_app
from nameko.constants import NON_PERSISTENT as TRANSIENT
from nameko.exceptions import BadRequest, RemoteError, RpcTimeout, UnknownService, deserialize_to_instance
from nameko.messaging import HeaderEncoder
from nameko.rpc import ServiceProxy
from nameko.standalone.rpc import ClusterRpcProxy

from gateway.errors import ServiceTimeout, ServiceUnavailable, UnexpectedServiceError
from helpdesk_common.amqp import skip_librabbitmq_probe
from helpdesk_common.context import NAMEKO_CONTEXT_KEY, get_correlation_id, set_correlation_id
from helpdesk_contracts.errors import ServiceError, all_error_types

skip_librabbitmq_probe()
log = logging.getLogger(__name__)

# What a lost or refused broker connection surfaces as, from kombu, py-amqp, the socket layer, or
# nameko's polling consumer ("This consumer has been disconnected" is a RuntimeError).
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    kombu.exceptions.OperationalError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.ChannelError,
    RuntimeError,
)


class PooledProxy(Protocol):
    """What the pool needs from one proxy (``NamekoProxy``, or a fake in tests)."""

    def start(self) -> None: ...

    def is_healthy(self) -> bool: ...

    def call(
        self, service: str, method: str, args: tuple, kwargs: dict, *, timeout: float, correlation_id: str | None
    ) -> Any: ...

    def stop(self) -> None: ...


class NamekoProxy:
    """One ``ClusterRpcProxy``, with every reach into nameko 2.14's internals kept here."""

    def __init__(self, config: dict[str, Any]):
        self._standalone = ClusterRpcProxy(config)
        # Requests are transient: one that a broker restart loses ends as the caller's timeout anyway, and
        # the broker confirms a transient message without writing it to disk. They stay confirmed and
        # mandatory, so a call to a service with no consumer fails at once (UnknownService → 503).
        self._services: dict[str, ServiceProxy] = {}

    def start(self) -> None:
        """Connect and declare the reply queue."""
        self._standalone.start()

    def is_healthy(self) -> bool:
        """Return whether the reply consumer's connection is still open (without blocking)."""
        consumer = self._standalone._reply_listener.queue_consumer
        if consumer.stopped or not consumer.connection.connected:
            return False
        try:
            # Nothing is pending on an idle proxy: this only finds a connection the broker closed.
            consumer.connection.drain_events(timeout=0)
        except TimeoutError:  # socket.timeout: no data, the connection is alive
            return True
        except BROKER_ERRORS as exc:
            log.info("dropping an RPC proxy whose connection died: %r", exc)
            return False
        return True

    def call(
        self, service: str, method: str, args: tuple, kwargs: dict, *, timeout: float, correlation_id: str | None
    ) -> Any:
        """Call ``service.method`` and wait at most ``timeout`` seconds for the reply."""
        # The polling consumer reads its timeout at every wait, so setting it per call is safe.
        self._standalone._reply_listener.queue_consumer.timeout = timeout
        self.bind_context(correlation_id)
        proxies = self._services
        if service not in proxies:
            proxies[service] = ServiceProxy(
                self._standalone._worker_ctx, service, self._standalone._reply_listener, delivery_mode=TRANSIENT
            )
        return getattr(proxies[service], method)(*args, **kwargs)

    def bind_context(self, correlation_id: str | None) -> None:
        """Set the correlation id the next calls carry in their headers (services bind it to the worker)."""
        data = self._standalone._worker_ctx.data
        if correlation_id:
            data[NAMEKO_CONTEXT_KEY] = correlation_id
        else:
            data.pop(NAMEKO_CONTEXT_KEY, None)

    def context_headers(self) -> dict[str, Any]:
        """Return the AMQP headers the next call will carry."""
        return HeaderEncoder().get_message_headers(self._standalone._worker_ctx)

    def stop(self) -> None:
        """Close the connection."""
        self._standalone.stop()


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
        self._proxy_factory = proxy_factory or (lambda: NamekoProxy({"AMQP_URI": amqp_uri}))
        self._idle: list[PooledProxy] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False
        register_remote_errors()

    def call(self, service: str, method: str, *args: Any, rpc_timeout: float | None = None, **kwargs: Any) -> Any:
        """Call ``service.method(*args, **kwargs)`` over RPC and return its result.

        Waits at most ``rpc_timeout`` seconds (default: the pool's timeout) for a free proxy and the
        reply together. The current correlation id travels with the call.
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
            try:
                result = proxy.call(
                    service, method, args, kwargs, timeout=remaining, correlation_id=get_correlation_id()
                )
            except ServiceError:
                keep = True
                raise
            except RpcTimeout:
                log.warning("%s.%s did not answer within %.1fs", service, method, remaining)
                raise ServiceTimeout.for_service(service) from None
            except UnknownService:
                # Not reused: nameko leaves this call's reply event registered in the proxy for good.
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
