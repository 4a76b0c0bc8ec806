"""Unit of work: one database transaction, the events it records, and the inbox claim of the event
that caused it (made for a reliable event handler by the first unit of work its worker opens). Handlers receive one and call ``commit()`` once their change is complete.

Inside an RPC command (a request with a command id, see ``commands``) ``commit()`` is held: the
transaction commits once the entrypoint has the handler's answer, together with the command's record.
Work that must follow the commit goes in ``after_commit``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from helpdesk_common import writebehind
from helpdesk_common.clock import Clock
from helpdesk_common.inbox import claim_event
from helpdesk_common.outbox import default_version, record_event
from helpdesk_contracts.envelope import Envelope

if TYPE_CHECKING:
    from helpdesk_common.commands import CommandRun

log = logging.getLogger(__name__)


class UnitOfWork:
    """A transaction that records state and the events describing it together."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        producer: str,
        clock: Clock,
        correlation_id: str | None = None,
        on_commit: Callable[[list[Envelope]], None] | None = None,
        command: CommandRun | None = None,
        session: Session | None = None,
    ):
        self._session_factory = session_factory
        self.producer = producer
        self.clock = clock
        self.correlation_id = correlation_id
        self._on_commit = on_commit
        self.command = command
        self._session: Session | None = session
        self.emitted: list[Envelope] = []
        self._after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def repository(self, name: str, build: Callable[[Session], Any]) -> Any:
        """Return the repository ``name`` of this transaction, built by ``build(session)`` on first use.

        A service's unit of work exposes its repositories as properties calling this. They are kept per
        session: after ``close()`` the next use opens a new session, and new repositories with it.
        """
        cache = self.__dict__.setdefault("_repositories", {})
        session = self.session
        held = cache.get(name)
        if held is None or held[0] is not session:
            held = cache[name] = (session, build(session))
        return held[1]

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def emit(self, type: str, data: dict[str, Any], *, version: int | None = None) -> Envelope:
        """Record an event to be published once this transaction commits."""
        envelope = Envelope.new(
            type,
            data,
            producer=self.producer,
            occurred_at=self.clock.now(),
            version=version or default_version(type),
            correlation_id=self.correlation_id,
        )
        record_event(self.session, envelope)
        self.emitted.append(envelope)
        return envelope

    def claim(self, envelope: Envelope, *, consumer: str) -> bool:
        """Mark an incoming event as handled by ``consumer``; False means it was handled before.

        Reliable event handlers need not call it: their first unit of work is claimed for them (see
        ``nameko_ext``); it is for code that consumes events some other way."""
        return claim_event(
            self.session, event_id=envelope.id, event_type=envelope.type, consumer=consumer, now=self.clock.now()
        )

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        """Commit state and recorded events (with the statements deferred until now), then hand the events
        to the relay (``on_commit``), which publishes them without reading them back.

        Inside a command the commit is held until the entrypoint has the answer (see ``commands``).
        """
        if self.command is not None and self.command.hold(self):
            return
        self.commit_now()

    def commit_now(self) -> None:
        """Commit at once, even inside a command (its entrypoint does, once the answer is recorded)."""
        writebehind.commit(self.session)
        if self.emitted and self._on_commit is not None:
            self._on_commit(self.emitted)
        self.emitted = []
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # committed already: the caller must hear of the success, the log of this
                log.exception("an after-commit step failed")

    def rollback(self) -> None:
        """Drop everything since the last commit, events included."""
        if self._session is not None:
            self._session.rollback()  # drops the deferred statements too
        if self.command is not None:
            self.command.release(self)
        self.emitted = []
        self._after_commit = []

    def close(self) -> None:
        """Roll back anything uncommitted and give the connection back (a held command commit stays open
        for its entrypoint)."""
        if self.command is not None and self.command.holds(self):
            return
        self._after_commit = []
        if self._session is not None:
            self._session.close()
            self._session = None
        self.emitted = []
