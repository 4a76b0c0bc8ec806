"""Write-behind: statements nobody reads a result of are sent together, not one round trip each.

A command writes its state and then several rows that only ever get read later: the history line, the
outbox event, the search row. Sent one by one each costs a network round trip to the database (and a
hub switch under eventlet) for no answer anyone looks at. ``defer`` queues such a statement on the
session instead; the queue goes out

- at commit: on PostgreSQL as one script together with the ``COMMIT`` (one round trip for the lot;
  an error stops the script before the COMMIT and is raised before the caller hears of success);
- before anything else reaches the database through the session (a query, an ORM flush, a plain
  ``session.commit()``), so a command always reads what it wrote, rows land in the order they were
  written, and nothing queued is lost. A rollback drops the queue with the transaction.

On SQLite (and any other driver) the queue is executed statement by statement at the same moments.

On PostgreSQL a statement is rendered from a plan compiled once per statement and set of parameter
names (``_compiled``): SQLAlchemy's per-call execution machinery is skipped, and with it its cursor
events (``before_cursor_execute`` does not see deferred statements there: a psycopg ``ClientCursor``
binds their parameters and ``run_script`` sends the script). A statement a plan cannot hold still goes
through ``Connection.execute``.

``HELPDESK_WRITE_BEHIND=off`` (read at each call) sends every statement at once instead, through the
session: the same results, one round trip each, for telling a write-behind fault from any other.

A new entity whose INSERT is deferred (``defer_new``) is rendered from the entity when the queue is
sent, and joins the session then, so a change made to it after it was added, in the same transaction,
is stored either way (in the INSERT, or by the ORM's UPDATE).

A deferred statement must not need its result: no ``RETURNING`` (an insert into a table with a
generated key is built with ``.inline()``, or SQLAlchemy fetches the new key at once), and no
constraint it could break in normal operation, because its error surfaces at the flush rather than at
the call.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, make_transient_to_detached

from helpdesk_common import db  # noqa: F401  (sets PSYCOPG_WAIT_FUNC before psycopg is first imported)

_QUEUE = "helpdesk.deferred"
_RECORDING = "helpdesk.deferred.recording"
_NEW = "helpdesk.deferred.new"

Params = dict[str, Any] | list[dict[str, Any]]


def enabled() -> bool:
    """Tell whether statements are deferred (``HELPDESK_WRITE_BEHIND`` is not ``off``)."""
    return os.environ.get("HELPDESK_WRITE_BEHIND", "on").strip().lower() not in ("off", "false", "0", "no")


def defer(session: Session | Connection, statement: Any, params: Params | Callable[[], Params]) -> None:
    """Queue ``statement`` with ``params`` to be executed by the next ``flush``/``commit`` of ``session``.

    ``params`` may be a function, called when the queue is sent. Given a plain ``Connection``
    (migrations, offline rebuilds), or with write-behind off, the statement simply runs now.
    """
    if not isinstance(session, Session) or not enabled():
        session.execute(statement, params() if callable(params) else params)
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # ORM changes made before this statement go first, as written
    elif session.get_transaction() is None:
        session.begin()  # the queue belongs to a transaction: its rollback drops the queue
    session.info.setdefault(_QUEUE, []).append((statement, params))


def defer_new(session: Session, statement: Any, entity: Any, row: Callable[[], dict[str, Any]]) -> None:
    """Queue the INSERT of the new mapped ``entity``, its values taken (``row()``) when the queue is sent;
    from then on ``session`` tracks the entity, so later changes to it are stored as updates."""
    defer(session, statement, row)
    if enabled():
        session.info.setdefault(_NEW, []).append(entity)
    else:
        _attach(session, [entity])


def _attach(session: Session, entities: list[Any]) -> None:
    for entity in entities:  # as if just loaded: the ORM sees what changes from here on
        make_transient_to_detached(entity)
        session.add(entity)


def read_before_begin(session: Session, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[str | None, ...]] | None:
    """Run the read ``sql`` (``%s`` placeholders) before ``session``'s transaction reaches the server, as one
    simple query, and return its rows as text; None when that cannot be done (not psycopg, or the
    transaction is under way): the caller runs it through the session instead.

    No ``BEGIN`` round trip precedes it and the transaction still opens inside its first script. Only
    for reads a transaction would not change (a committed record by its key, a sequence's ``nextval``).
    """
    flush(session)  # queued writes go first, and then the transaction is under way
    connection = session.connection()
    if connection.dialect.driver != "psycopg":
        return None
    driver = connection.connection.driver_connection
    if not idle(driver) or driver.autocommit:
        return None
    if params:
        import psycopg  # here, not at the top: see the db import

        with psycopg.ClientCursor(driver) as cursor:
            sql = cursor.mogrify(sql, params)
    result = run_script(driver, sql)[0]
    encoding = driver.info.encoding
    return [tuple(None if (value := result.get_value(r, c)) is None else value.decode(encoding)
                  for c in range(result.nfields)) for r in range(result.ntuples)]


def pending(session: Session) -> int:
    """Return how many statements wait in ``session``'s queue."""
    return len(session.info.get(_QUEUE) or ())


def flush(session: Session) -> None:
    """Send the queued statements now, inside the session's transaction."""
    _send(session, commit=False)


def commit(session: Session) -> None:
    """Flush ORM changes and the queue, and commit, in as few round trips as the driver allows."""
    session.flush()  # ORM changes (the before_flush hook sends statements queued before them first)
    _send(session, commit=True)
    session.commit()  # bookkeeping; on PostgreSQL the COMMIT already went out in the script


def _send(session: Session, *, commit: bool) -> None:
    queue = session.info.pop(_QUEUE, None)
    if not queue:
        return
    queue = [(statement, params() if callable(params) else params) for statement, params in queue]
    new = session.info.pop(_NEW, None)
    _send_queue(session, queue, commit=commit)
    if new:
        _attach(session, new)


def _send_queue(session: Session, queue: list[tuple[Any, Params]], *, commit: bool) -> None:
    connection = session.connection()
    if connection.dialect.driver != "psycopg":
        for statement, params in queue:
            connection.execute(statement, params)
        return
    # SQLAlchemy renders each statement (types, defaults, casts) but does not send it, and psycopg's
    # client-side binding turns them into one script, COMMIT included, sent as a single simple query: one
    # write, one wait, whatever its length. A statement ``_compiled`` knows is rendered straight from its
    # compiled form; any other goes through ``Connection.execute``, whose do_execute hooks (below) collect
    # the SQL and parameters instead of sending them.
    recorded: list[tuple[str, Any]] = []
    dialect = connection.dialect
    for statement, params in queue:
        rows = params if isinstance(params, list) else [params]
        keys = tuple(sorted(rows[0])) if rows else None
        plan = _compiled(statement, dialect, keys) if keys is not None else None
        if plan is not None and all(tuple(sorted(row)) == keys for row in rows[1:]):
            recorded.extend((plan.sql, plan.parameters(row)) for row in rows)
            continue
        _hook(connection.engine)
        connection.info[_RECORDING] = recorded
        try:
            connection.execute(statement, params)
        finally:
            del connection.info[_RECORDING]
    import psycopg  # here, not at the top: see the db import

    driver = connection.connection.driver_connection
    with psycopg.ClientCursor(driver) as cursor:
        script = [cursor.mogrify(sql, params) for sql, params in recorded]
    # when nothing of this transaction has reached the server yet, its BEGIN travels in the script too
    # (psycopg would send it on its own, one more round trip)
    begin = [begin_command(driver)] if idle(driver) and not driver.autocommit else []
    run_script(driver, ";\n".join([*begin, *script, *(["COMMIT"] if commit else [])]))


class _Plan:
    """A statement compiled once for one set of parameter names, and how a row of values becomes the
    driver's parameters: what ``Connection.execute`` does per call (``DefaultExecutionContext._init_compiled``:
    bound values and literals, scalar Python-side defaults, type processors, escaped names), without an
    execution context and a cursor for each statement."""

    __slots__ = ("sql", "_compiled", "_defaults", "_processors", "_escaped")

    def __init__(self, compiled: Any, defaults: dict[str, Any]):
        self.sql = compiled.string
        self._compiled = compiled
        self._defaults = defaults
        self._processors = compiled._bind_processors
        self._escaped = compiled.escaped_bind_names or {}

    def parameters(self, row: dict[str, Any]) -> dict[str, Any]:
        values = self._compiled.construct_params(row, escape_names=False)
        values.update(self._defaults)
        processors, escaped = self._processors, self._escaped
        return {escaped.get(key, key): processors[key](value) if key in processors else value
                for key, value in values.items()}


@lru_cache(maxsize=256)
def _compiled(statement: Any, dialect: Any, keys: tuple[str, ...]) -> _Plan | None:
    """Return the plan of ``statement`` with parameters ``keys``, or None when it needs more than a plan
    holds (expanding or literal-execute parameters, RETURNING, positional style, schema translation, a
    default computed per row): those go through ``Connection.execute``."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if (compiled.literal_execute_params or compiled.post_compile_params or compiled.positional
            or compiled.schema_translate_map or compiled.implicit_returning or compiled.returning):
        return None
    defaults = {}
    key_of = compiled._within_exec_param_key_getter
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        value, is_scalar, _is_callable, _is_sentinel = (
            column._default_description_tuple if compiled.isinsert else column._onupdate_description_tuple)
        if not is_scalar:
            return None
        defaults[key_of(column)] = value
    return _Plan(compiled, defaults)


def idle(driver: Any) -> bool:
    """Tell whether nothing of a transaction has reached the server on this psycopg connection yet."""
    from psycopg.pq import TransactionStatus

    return driver.info.transaction_status == TransactionStatus.IDLE


def begin_command(driver: Any) -> str:
    """Return the ``BEGIN`` psycopg would send to open a transaction on ``driver`` (its isolation level,
    read-only and deferrable settings included)."""
    parts = ["BEGIN"]
    if driver.isolation_level is not None:
        parts.append("ISOLATION LEVEL " + driver.isolation_level.name.replace("_", " "))
    if driver.read_only is not None:
        parts.append("READ ONLY" if driver.read_only else "READ WRITE")
    if driver.deferrable is not None:
        parts.append("DEFERRABLE" if driver.deferrable else "NOT DEFERRABLE")
    return " ".join(parts)


def run_script(driver: Any, sql: str) -> list[Any]:
    """Send ``sql`` (one statement or several, parameters already bound) on the psycopg connection
    ``driver`` as one simple query, and return its results (libpq's, one per statement).

    psycopg's own transaction handling is bypassed: on an idle connection nothing is sent before it
    (no ``BEGIN`` of psycopg's), so the script runs in autocommit unless it brings its own ``BEGIN``;
    inside an open transaction it runs in that transaction. Neither the query nor the connection's mode
    is parsed or switched, which a cursor would do. An error is raised as psycopg raises it, after a
    script that opened its own transaction is rolled back.
    """
    import psycopg.errors
    from psycopg import generators, pq

    was_idle = idle(driver)
    with driver.lock:
        driver.pgconn.send_query(sql.encode(driver.info.encoding))
        results = driver.wait(generators.execute(driver.pgconn))
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            if was_idle and not idle(driver):  # a script that failed between its BEGIN and COMMIT
                run_script(driver, "ROLLBACK")
            raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
    return results


_HOOKED: weakref.WeakSet[Engine] = weakref.WeakSet()


def _hook(engine: Engine) -> None:
    if engine not in _HOOKED:
        event.listen(engine, "do_execute", _record_execute)
        event.listen(engine, "do_executemany", _record_executemany)
        _HOOKED.add(engine)


def _record_execute(cursor, statement, parameters, context) -> bool | None:
    recorded = context.root_connection.info.get(_RECORDING)
    if recorded is None:
        return None
    recorded.append((statement, parameters))
    return True


def _record_executemany(cursor, statement, parameters, context) -> bool | None:
    recorded = context.root_connection.info.get(_RECORDING)
    if recorded is None:
        return None
    recorded.extend((statement, one) for one in parameters)
    return True


@event.listens_for(Session, "do_orm_execute")
def _before_query(state) -> None:
    if state.session.info.get(_QUEUE):
        flush(state.session)


@event.listens_for(Session, "before_flush")
def _before_orm_flush(session, flush_context, instances) -> None:
    if session.info.get(_QUEUE):
        flush(session)


@event.listens_for(Session, "before_commit")
def _before_plain_commit(session) -> None:
    if session.info.get(_QUEUE):  # a caller committed with session.commit(): still nothing is lost
        flush(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session, transaction) -> None:
    if transaction.parent is None:  # the transaction is over (committed queues are empty): drop leftovers
        session.info.pop(_QUEUE, None)
        session.info.pop(_NEW, None)
