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

A deferred statement must not need its result: no ``RETURNING`` (an insert into a table with a
generated key is built with ``.inline()``, or SQLAlchemy fetches the new key at once), and no
constraint it could break in normal operation, because its error surfaces at the flush rather than at
the call.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from helpdesk_common import db  # noqa: F401  (sets PSYCOPG_WAIT_FUNC before psycopg is first imported)

_QUEUE = "helpdesk.deferred"
_RECORDING = "helpdesk.deferred.recording"


def defer(session: Session | Connection, statement: Any, params: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Queue ``statement`` with ``params`` to be executed by the next ``flush``/``commit`` of ``session``.

    Given a plain ``Connection`` (migrations, offline rebuilds) the statement simply runs now.
    """
    if not isinstance(session, Session):
        session.execute(statement, params)
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # ORM changes made before this statement go first, as written
    elif session.get_transaction() is None:
        session.begin()  # the queue belongs to a transaction: its rollback drops the queue
    session.info.setdefault(_QUEUE, []).append((statement, params))


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
    connection = session.connection()
    if connection.dialect.driver != "psycopg":
        for statement, params in queue:
            connection.execute(statement, params)
        return
    # SQLAlchemy renders each statement (types, defaults, casts) but does not send it: the do_execute
    # hooks below collect the SQL and parameters, and psycopg's client-side binding turns them into one
    # script, COMMIT included, sent as a single simple query: one write, one wait, whatever its length.
    _hook(connection.engine)
    recorded: list[tuple[str, Any]] = []
    connection.info[_RECORDING] = recorded
    try:
        for statement, params in queue:
            connection.execute(statement, params)
    finally:
        del connection.info[_RECORDING]
    import psycopg  # here, not at the top: see the db import

    driver = connection.connection.driver_connection
    with psycopg.ClientCursor(driver) as cursor:
        script = [cursor.mogrify(sql, params) for sql, params in recorded]
        if not commit:
            cursor.execute(";\n".join(script))
        elif not idle(driver):
            cursor.execute(";\n".join([*script, "COMMIT"]))
        else:
            # nothing of this transaction has reached the server yet: its BEGIN travels in the script too
            # (psycopg would send it on its own, one more round trip); see ``outside_transaction``
            with outside_transaction(driver):
                cursor.execute(";\n".join(["BEGIN", *script, "COMMIT"]))


def idle(driver: Any) -> bool:
    """Tell whether nothing of a transaction has reached the server on this psycopg connection yet."""
    from psycopg.pq import TransactionStatus

    return driver.info.transaction_status == TransactionStatus.IDLE


@contextmanager
def outside_transaction(driver: Any):
    """Let statements run on ``driver`` without psycopg opening a transaction first.

    For work that needs none (``nextval``: sequences are not transactional) or that brings its own
    ``BEGIN``/``COMMIT``. Only when no transaction is open; whatever happens, the connection is left
    idle and back in psycopg's transactional mode for the session that owns it.
    """
    driver.autocommit = True
    try:
        yield driver
    finally:
        if not idle(driver):
            driver.execute("ROLLBACK")  # a script that failed between its BEGIN and COMMIT
        driver.autocommit = False


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
