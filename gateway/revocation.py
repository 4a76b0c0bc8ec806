"""Refuse a user's older access tokens within a second or two of a revocation, on every worker.

The users service stores, per user, the moment before which access tokens are no longer honoured
(``tokens_valid_after``: set on deactivation, on a role, department, organization or password change)
and carries it in ``user.deactivated``, ``user.updated`` and ``user.password_changed``. Each gateway
worker process keeps those moments in a ``RevocationStore``, fed by a ``RevocationFeed``: a thread of its
own consuming the users service's events exchange (``users.events``, topic by event type) on a queue of
its own, exclusive and auto-deleted with the connection, so no worker misses what another consumed.
Each time the feed (re)connects, once its queue is bound, it catches up over RPC with
``users.list_revocations`` for the last ``ACCESS_TOKEN_TTL`` seconds (an older revocation can only refuse
tokens that have expired anyway); a worker that starts later therefore refuses an older token of a user
revoked before it started. While the broker is away the worker keeps what it knows and catches up when
it reconnects. Plain threads and kombu: the gateway runs no eventlet.

Moments are compared to the token's ``iat`` with sub-second precision, so a token issued right after a
change (the user signs in again) is honoured; this takes the users service's and the gateway's clocks to
agree (NTP) to well under a second.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Queue, binding

from helpdesk_common.relay import event_exchange

log = logging.getLogger(__name__)

USERS_EVENTS = "users.events"
EVENT_TYPES = ("user.deactivated", "user.updated", "user.password_changed")


class RevocationStore:
    """Per user, the moment (epoch seconds) before which their access tokens are refused; thread-safe."""

    def __init__(self, *, horizon: float, clock: Callable[[], float] = time.time):
        self.horizon = horizon  # seconds a token lives: an older moment can refuse nothing still valid
        self._clock = clock
        self._not_before: dict[str, float] = {}
        self._lock = threading.Lock()

    def revoke(self, user_id: str, not_before: float) -> None:
        """Refuse ``user_id``'s tokens issued before ``not_before`` (a later moment wins over an earlier one)."""
        with self._lock:
            if not_before > self._not_before.get(user_id, float("-inf")):
                self._not_before[user_id] = not_before
            oldest_useful = self._clock() - self.horizon
            for stale in [uid for uid, moment in self._not_before.items() if moment < oldest_useful]:
                del self._not_before[stale]

    def refuses(self, user_id: str, issued_at: float) -> bool:
        """Tell whether a token of ``user_id`` issued at ``issued_at`` (epoch seconds) is revoked."""
        not_before = self._not_before.get(user_id)
        return not_before is not None and issued_at < not_before

    def __len__(self) -> int:
        return len(self._not_before)


def epoch(moment: str) -> float:
    """Return an ISO 8601 timestamp as epoch seconds (naive means UTC)."""
    parsed = datetime.fromisoformat(moment)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def revocation_of(envelope: dict[str, Any]) -> tuple[str, float] | None:
    """Return ``(user id, not-before)`` that a users event announces, or None when it revokes nothing."""
    data = envelope.get("data") or {}
    if envelope.get("type") == "user.password_changed":
        user_id, moment = data.get("user_id"), data.get("tokens_valid_after")
    else:
        user = data.get("user") or {}
        user_id, moment = user.get("id"), user.get("tokens_valid_after")
    if not moment and envelope.get("type") in ("user.deactivated", "user.password_changed"):
        moment = envelope.get("occurred_at")  # from a producer that did not say: these always revoke
    if not isinstance(user_id, str) or not isinstance(moment, str):
        return None
    try:
        return user_id, epoch(moment)
    except ValueError:
        log.warning("ignoring a %s event with an unreadable moment %r", envelope.get("type"), moment)
        return None


class RevocationFeed:
    """Keep a ``RevocationStore`` current from the users service's events, catching up over RPC on (re)connect."""

    def __init__(
        self,
        *,
        amqp_uri: str,
        store: RevocationStore,
        catch_up: Callable[[str], list[dict[str, Any]]],
        retry_seconds: float = 1.0,
    ):
        self.amqp_uri = amqp_uri
        self.store = store
        self._catch_up = catch_up  # since (ISO 8601) -> [{user_id, tokens_valid_after}]
        self.retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._caught_up = threading.Event()
        self._thread: threading.Thread | None = None
        self.queue_name = f"gateway.revocations.{socket.gethostname()}.{uuid.uuid4().hex[:12]}"

    def start(self) -> RevocationFeed:
        """Start consuming in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="revocation-feed", daemon=True)
        self._thread.start()
        return self

    def wait_caught_up(self, timeout: float) -> bool:
        """Wait until the feed has consumed and caught up at least once; tell whether it has."""
        return self._caught_up.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop consuming and wait for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume()
            except Exception as exc:  # noqa: BLE001 - any broker trouble: keep what we know, reconnect
                log.warning("revocation feed disconnected (%s); keeping %d revocations, reconnecting", exc, len(self.store))
            self._stop.wait(self.retry_seconds)

    def _consume(self) -> None:
        exchange = event_exchange(USERS_EVENTS)
        queue = Queue(
            self.queue_name,
            bindings=[binding(exchange, routing_key=event_type) for event_type in EVENT_TYPES],
            exclusive=True,
            auto_delete=True,
            durable=False,
        )
        with Connection(self.amqp_uri, heartbeat=10, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
            with connection.Consumer(queue, callbacks=[self._on_message], accept=["json"], no_ack=True):
                caught_up = self._try_catch_up()  # after the bindings: nothing falls between the two
                last_try = time.monotonic()
                while not self._stop.is_set():
                    if not caught_up and time.monotonic() - last_try >= self.retry_seconds:
                        caught_up, last_try = self._try_catch_up(), time.monotonic()
                    try:
                        connection.drain_events(timeout=0.5)
                    except TimeoutError:
                        connection.heartbeat_check()

    def _try_catch_up(self) -> bool:
        since = datetime.fromtimestamp(time.time() - self.store.horizon, UTC).isoformat()
        try:
            revocations = self._catch_up(since)
        except Exception as exc:  # noqa: BLE001 - the users service may be away; events still arrive meanwhile
            log.warning("revocation catch-up failed (%s); retrying", exc)
            return False
        for item in revocations:
            self.store.revoke(item["user_id"], epoch(item["tokens_valid_after"]))
        self._caught_up.set()
        log.info("revocation feed caught up: %d recent revocations", len(revocations))
        return True

    def _on_message(self, body: Any, message: Any) -> None:
        revocation = revocation_of(body) if isinstance(body, dict) else None
        if revocation is not None:
            user_id, not_before = revocation
            self.store.revoke(user_id, not_before)
            log.info("access tokens of user %s issued before %s refused", user_id,
                     datetime.fromtimestamp(not_before, UTC).isoformat())
