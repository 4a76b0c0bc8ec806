"""Commands act once: an RPC that carries a command id records its answer in its own transaction, and
another delivery of that id is answered from the record instead of acting again.

The id comes from the caller, in nameko's context data (AMQP headers ``nameko.command_id`` and
``nameko.command_fingerprint``, next to the correlation id). The gateway gives one to every RPC it makes
while serving a write; a redelivered request (the service died before acking it) carries the same id, and
so does a client's retry with the same ``Idempotency-Key``. An RPC without an id pays nothing here.

What happens to an RPC with an id (``Database`` and ``HelpdeskRpc`` do it; handlers know nothing of it):

1. Before the handler runs, one lookup by primary key in ``commands``, when the id may have been seen:
   the broker marks the request redelivered, or it carries a fingerprint (a client's ``Idempotency-Key``:
   its retry is a new message). A row for the same method and fingerprint: its answer is the reply and
   the handler does not run. A row for another request: the caller reused the id, ``ValidationFailed``
   (422 at the gateway). A fresh id on a first delivery skips the lookup (nobody can have run it): that
   round trip was most of what recording costs a create, and the primary key still guards (below).
2. Otherwise the handler runs, and its ``uow.commit()`` is *held*: ORM changes are flushed (a constraint
   a handler turns into an error still fails at its ``commit()``) but the transaction stays open while the
   handler builds its answer. Once the entrypoint has the answer, the command row (id, service, method,
   fingerprint, answer as JSON, time) joins the transaction and it commits - on PostgreSQL in the one
   script that carries the handler's written-behind rows and the ``COMMIT`` - and only then is the reply
   sent and the request acked.

Why hold the transaction: handlers commit and then build their answer, so a row written at that commit
cannot hold the answer, and an answer written in a second transaction leaves a window (a crash between
the two) in which a redelivery finds the effect without its answer. Held open for the moment it takes to
build the answer, state and answer commit together or not at all: a crash before that commit leaves
nothing and the redelivered request runs afresh; a crash after it leaves the row, and the redelivered
request is answered from it.

- Errors are not recorded: the command did nothing and a retry may run it again. A handler that commits
  and then raises (a reused refresh token revokes its family, then refuses) keeps what it committed, as
  without an id, unless it wrote more after its commit (then all of it is rolled back).
- Two deliveries of one id at once: both miss the lookup and both run, but the primary key lets one
  commit; the other's whole transaction fails, rolls back, and it answers with the winner's row (so does
  any run that fails while a twin recorded its id: the twin's effect may be why it failed).
- Only the first unit of work of a command that commits is held (entrypoints open one); work that must
  follow the commit (deleting a file) goes in ``uow.after_commit``.
- Rows are kept ``COMMAND_RETENTION_HOURS`` (default 48, at least 24), then pruned by the service.
- Test-only fault: ``HELPDESK_FAULT_EXIT_AFTER_COMMIT=<service>.<method>`` (comma-separated) makes the process
  exit right after committing such a command, before replying. Off unless set.
"""

from __future__ import annotations

import logging
import os
import sys
import weakref
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kombu.utils.json import dumps as json_dumps
from kombu.utils.json import loads as json_loads
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from helpdesk_common import writebehind
from helpdesk_common.clock import Clock
from helpdesk_common.context import COMMAND_ID_KEY, FINGERPRINT_KEY, REPLAYED_KEY  # noqa: F401  (re-exported)
from helpdesk_common.db import commands_table
from helpdesk_contracts.errors import ValidationFailed

if TYPE_CHECKING:
    from helpdesk_common.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 64
DEFAULT_RETENTION_HOURS = 48
MIN_RETENTION_HOURS = 24
PRUNE_BATCH = 1000
FAULT_SETTING = "HELPDESK_FAULT_EXIT_AFTER_COMMIT"
FAULT_EXIT_CODE = 87
REUSED_MESSAGE = "This Idempotency-Key was used with a different request."
REDELIVERED_KEY = "command_redelivered"  # set by ``HelpdeskRpc`` on a request the broker redelivered

# built once (statement construction costs more than its execution); inline: written behind, no RETURNING
_INSERT = insert(commands_table).inline()
_LOOKUP = select(commands_table.c.method, commands_table.c.fingerprint, commands_table.c.result).where(
    commands_table.c.id == bindparam("id"))
_LOOKUP_SQL = "SELECT method, fingerprint, result FROM commands WHERE id = %s"


class CommandRun:
    """One command in one worker: its id, what the lookup found, and the unit of work it is recorded in."""

    __slots__ = ("log", "id", "fingerprint", "method", "stored", "uow", "held", "_session", "_marks")

    def __init__(self, log: CommandLog, *, command_id: str, fingerprint: str, method: str, session: Session):
        self.log = log
        self.id = command_id
        self.fingerprint = fingerprint
        self.method = method
        self.stored: tuple[str, str, str] | None = None  # (method, fingerprint, answer JSON) of a recorded run
        self.uow: UnitOfWork | None = None
        self.held = False
        self._session: Session | None = session
        self._marks: tuple[int, int] = (0, 0)

    def take_session(self) -> Session | None:
        """Hand the lookup's session to the first unit of work (one pool checkout per command)."""
        session, self._session = self._session, None
        return session

    def hold(self, uow: UnitOfWork) -> bool:
        """Flush ``uow`` and keep its transaction open for the answer; False if ``uow`` is not this command's."""
        if self.uow is None:
            self.uow = uow
        if uow is not self.uow:
            return False
        uow.session.flush()  # constraint errors surface at the handler's commit(), where it expects them
        self.held = True
        self._marks = (writebehind.pending(uow.session), len(uow.emitted))
        return True

    def holds(self, uow: UnitOfWork) -> bool:
        """Tell whether ``uow``'s commit is held for this command (its closing is left to the entrypoint)."""
        return self.held and uow is self.uow

    def release(self, uow: UnitOfWork) -> None:
        """Forget a held commit that ``uow`` rolled back."""
        if uow is self.uow:
            self.held = False

    def wrote_since_hold(self) -> bool:
        """Tell whether the handler changed anything after its held commit."""
        session = self.uow.session
        return bool(session.new or session.dirty or session.deleted) or self._marks != (
            writebehind.pending(session), len(self.uow.emitted))

    def close(self) -> None:
        """Give the command's session back (rolling back whatever was not committed)."""
        self.held = False
        try:
            if self.uow is not None:
                self.uow.close()
            session = self.take_session()
            if session is not None:
                session.close()
        except Exception as exc:  # a connection that died: the pool replaces it, the reply must still go
            log.warning("closing the session of command %s: %r", self.id, exc)


class CommandLog:
    """The ``commands`` table of one service: look commands up, record their answers, prune old ones."""

    def __init__(self, session_factory: sessionmaker[Session], *, service: str, clock: Clock,
                 retention_hours: float = DEFAULT_RETENTION_HOURS, exit_after_commit: frozenset[str] = frozenset()):
        self.session_factory = session_factory
        self.service = service
        self.clock = clock
        self.retention = timedelta(hours=max(float(retention_hours), MIN_RETENTION_HOURS))
        self.exit_after_commit = exit_after_commit

    def begin(self, command_id: str, fingerprint: str, method: str, *, look_up: bool = True) -> CommandRun:
        """Start a command; with ``look_up``, ``run.stored`` is the record of an earlier run, if any."""
        session = self.session_factory()
        run = CommandRun(self, command_id=command_id, fingerprint=fingerprint, method=method, session=session)
        if look_up:
            run.stored = self._lookup(session, command_id)
        return run

    def answer(self, run: CommandRun) -> Any:
        """Return the recorded answer of ``run``'s id; raise if the id was used for another request."""
        method, fingerprint, result = run.stored
        if method != run.method or fingerprint != run.fingerprint:
            raise ValidationFailed(REUSED_MESSAGE, {"Idempotency-Key": ["Used before with a different request."]})
        return json_loads(result)

    def finish(self, run: CommandRun, result: Any, exc_info: Any) -> tuple[Any, Any, bool]:
        """Commit ``run`` with its answer (or keep what a failed handler committed); return the reply's
        ``(result, exc_info, replayed)``."""
        if run.stored is not None:  # answered from the record: the handler did not run
            run.close()
            return result, exc_info, exc_info is None
        try:
            outcome = self._finish(run, result, exc_info)
        except Exception:
            outcome = (None, sys.exc_info(), False)
        finally:
            run.close()
        if outcome[1] is not None:
            # a twin delivery may have recorded this id meanwhile, and its effect be why this run failed
            # (the primary key at our commit, or a unique name the twin took first): answer as it did
            outcome = self._answer_if_recorded(run, outcome)
        return outcome

    def _finish(self, run: CommandRun, result: Any, exc_info: Any) -> tuple[Any, Any, bool]:
        if run.uow is None or not run.held:  # a query, or a handler that failed before committing
            return result, exc_info, False
        if exc_info is not None:
            self._keep_committed(run)
            return result, exc_info, False
        writebehind.defer(run.uow.session, _INSERT, {
            "id": run.id, "service": self.service, "method": run.method, "fingerprint": run.fingerprint,
            "result": json_dumps(result), "created_at": self.clock.now(),
        })
        run.uow.commit_now()
        if f"{self.service}.{run.method}" in self.exit_after_commit:
            log.warning("%s: exiting after the commit of %s (test fault)", FAULT_SETTING, run.method)
            os._exit(FAULT_EXIT_CODE)
        return result, None, False

    def _answer_if_recorded(self, run: CommandRun, outcome: tuple[Any, Any, bool]) -> tuple[Any, Any, bool]:
        try:
            with self.session_factory() as session:
                run.stored = self._lookup(session, run.id)
        except Exception as exc:  # the database is away: the run's own error stands
            log.warning("could not look command %s up again after its failure: %r", run.id, exc)
            return outcome
        if run.stored is None:
            return outcome
        log.info("command %s (%s) was run concurrently; answering with the first run's result", run.id, run.method)
        try:
            return self.answer(run), None, True
        except ValidationFailed:
            return None, sys.exc_info(), False

    def _keep_committed(self, run: CommandRun) -> None:
        if run.wrote_since_hold():
            log.warning("%s raised after writing past its commit: rolling back all of it", run.method)
            run.uow.rollback()
        else:
            run.uow.commit_now()

    @staticmethod
    def _lookup(session: Session, command_id: str) -> tuple[str, str, str] | None:
        # outside the transaction when it can be (see ``writebehind.read_before_begin``): no BEGIN round trip
        rows = writebehind.read_before_begin(session, _LOOKUP_SQL, (command_id,))
        if rows is not None:
            return rows[0] if rows else None
        connection = session.connection()
        row = connection.execute(_LOOKUP, {"id": command_id}).first()
        return (row.method, row.fingerprint, row.result) if row is not None else None

    def prune(self) -> int:
        """Delete the records older than the retention, a batch at a time; return how many went."""
        cutoff = self.clock.now() - self.retention
        oldest = select(commands_table.c.id).where(commands_table.c.created_at < cutoff).limit(PRUNE_BATCH)
        statement = delete(commands_table).where(commands_table.c.id.in_(oldest.scalar_subquery()))
        total = 0
        with self.session_factory() as session:
            while True:
                deleted = session.execute(statement).rowcount
                session.commit()
                total += deleted
                if deleted < PRUNE_BATCH:
                    return total


# Nameko glue: ``Database`` starts a run per RPC worker, ``HelpdeskRpc`` finishes it before replying ------

_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # worker context -> CommandRun


def begin_worker(commands: CommandLog, worker_ctx: Any) -> CommandRun | None:
    """Start the command of an RPC worker, if its request carries an id.

    The id leaves the worker's context data (it must not travel on to the calls the handler makes). A
    recorded answer replaces the handler for this worker: the entrypoint's method answers it instead.
    """
    command_id = worker_ctx.data.pop(COMMAND_ID_KEY, None)
    fingerprint = worker_ctx.data.pop(FINGERPRINT_KEY, None) or ""
    redelivered = bool(worker_ctx.data.pop(REDELIVERED_KEY, False))
    if not command_id or not getattr(worker_ctx.entrypoint, "records_commands", False):
        return None
    if not isinstance(command_id, str) or len(command_id) > MAX_ID_LENGTH or not isinstance(fingerprint, str) \
            or len(fingerprint) > MAX_ID_LENGTH:
        log.warning("ignoring a malformed command id on %s", worker_ctx.entrypoint.method_name)
        return None
    method = worker_ctx.entrypoint.method_name
    run = commands.begin(command_id, fingerprint, method, look_up=redelivered or bool(fingerprint))
    _RUNS[worker_ctx] = run
    if run.stored is not None:
        def replay(*args: Any, **kwargs: Any) -> Any:
            return commands.answer(run)

        setattr(worker_ctx.service, method, replay)  # the instance is this worker's alone
    return run


def run_of(worker_ctx: Any) -> CommandRun | None:
    """Return the command a worker is running, if any."""
    return _RUNS.get(worker_ctx)


def finish_worker(worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any, bool]:
    """Record a worker's command with its answer before the reply; return ``(result, exc_info, replayed)``."""
    run = _RUNS.pop(worker_ctx, None)
    if run is None:
        return result, exc_info, False
    return run.log.finish(run, result, exc_info)


def discard_worker(worker_ctx: Any) -> None:
    """Drop a worker's command that was never finished (its transaction rolls back)."""
    run = _RUNS.pop(worker_ctx, None)
    if run is not None:
        run.close()
