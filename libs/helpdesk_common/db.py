"""Engines, portable column types and the infrastructure tables (outbox, inbox, commands) every service owns."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import QueuePool

# psycopg 3 picks its wait function once, when first imported: its default C wait blocks eventlet's
# hub, wait_select cooperates with eventlet's patched select. Set it before anything imports psycopg.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


BigId = BigInteger().with_variant(Integer(), "sqlite")
"""An auto-incrementing 64-bit key (SQLite only auto-increments INTEGER PRIMARY KEY)."""

infrastructure = MetaData()

outbox_table = Table(
    "outbox",
    infrastructure,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("producer", String(50), nullable=False),
    Column("envelope", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("unroutable", Integer, nullable=False, default=0),
    Index("ix_outbox_pending", "published_at", "id"),
)

inbox_table = Table(
    "inbox",
    infrastructure,
    Column("event_id", String(36), primary_key=True),
    Column("consumer", String(200), primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("processed_at", UtcDateTime, nullable=False),
)

commands_table = Table(
    "commands",  # the RPC commands a service acted on, with their answers (see ``helpdesk_common.commands``)
    infrastructure,
    Column("id", String(64), primary_key=True),
    Column("service", String(50), nullable=False),
    Column("method", String(100), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("result", Text, nullable=False),  # the answer as JSON text, replayed as is
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_commands_created_at", "created_at"),
)


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}  # the two back ends we run on


def insert_if_absent(session, table: Table, values: dict, *, key: tuple[str, ...] = ("id",)) -> bool:
    """Insert a row unless one with the same ``key`` is there (or being inserted); tell whether it was inserted.

    One statement (``INSERT ... ON CONFLICT DO NOTHING``): two transactions adding the same new row at once
    both succeed, the second one's insert doing nothing (on PostgreSQL it waits for the first to end). A
    read-modify-write of a row that may not exist yet selects it ``FOR UPDATE`` (which locks nothing when
    it is absent), inserts with this, and when that answers False selects it again: it is there now.
    """
    statement = _INSERTS[session.get_bind().dialect.name](table).values(**values)
    statement = statement.on_conflict_do_nothing(index_elements=list(key)).returning(table.c[key[0]])
    return session.execute(statement).first() is not None  # the row count of a skipped insert may say 1


def sequences_of(metadata: MetaData) -> list[Sequence]:
    """Return the sequences declared in ``metadata`` (SQLAlchemy keeps them in a private registry)."""
    return list(metadata._sequences.values())


def _ping_when_idle(engine: Engine, after_seconds: float) -> None:
    """Check a pooled connection before use only if it sat idle for ``after_seconds`` or more.

    A dead one (server restarted, idle connection cut by a proxy) is then replaced before the caller sees
    it, as ``pool_pre_ping`` does, but a busy service no longer pays a round trip on every checkout: a
    connection used moments ago is alive (and if it died meanwhile, the error invalidates the pool).
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, proxy):
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < after_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc
        if not alive:
            raise DisconnectionError("stale pooled connection")


def _green_wait(gen, fileno: int, interval: float | None = 0.0, timeout: float | None = None):
    """psycopg's wait function under eventlet: park the green thread on one hub listener per wait.

    ``wait_select`` does the same through eventlet's green ``select()``, which builds a listener per
    list and a timer (psycopg's wake-up ``interval``) on every call: a tenth of a service's time on
    the database path went there. ``timeout`` is psycopg's deadline for the whole wait.
    """
    import psycopg.errors
    from eventlet.green import select
    from eventlet.hubs import trampoline
    from psycopg.waiting import READY_R, READY_W, WAIT_R, WAIT_W

    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        state = next(gen)
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if state == WAIT_R:
                trampoline(fileno, read=True, timeout=remaining, timeout_exc=psycopg.errors._WaitTimeout)
                ready = READY_R
            elif state == WAIT_W:
                trampoline(fileno, write=True, timeout=remaining, timeout_exc=psycopg.errors._WaitTimeout)
                ready = READY_W
            else:  # both (a send the socket could not take at once, while a result may arrive)
                readable, writable, _ = select.select([fileno], [fileno], [], remaining)
                if not (readable or writable):
                    raise psycopg.errors._WaitTimeout("wait timeout expired")
                ready = (READY_R if readable else 0) | (READY_W if writable else 0)
            state = gen.send(ready)
    except StopIteration as done:
        return done.value


def _use_green_wait() -> None:
    """Have psycopg wait through eventlet's hub directly when eventlet has patched this process."""
    import psycopg.waiting
    from eventlet import patcher

    if patcher.is_monkey_patched("select") and psycopg.waiting.wait is not _green_wait:
        psycopg.waiting.wait = _green_wait


def make_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """Create an engine that behaves well under eventlet.

    PostgreSQL goes through psycopg 3 with a wait that lets other green threads run while a query waits
    (psycopg's default C wait would block eventlet's hub): ``_green_wait`` once eventlet has patched the
    process, else ``wait_select``, which cooperates with a patched select.
    SQLite gets one connection per process: its lock waits would block the hub, so green threads take
    turns at the pool instead, and WAL lets other processes read meanwhile.
    """
    if url.startswith("postgresql"):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        engine = create_engine(
            url,
            pool_size=pool_size or int(os.environ.get("DB_POOL_SIZE", "10")),
            max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "10")),
            pool_timeout=30,
        )
        _ping_when_idle(engine, float(os.environ.get("DB_PING_AFTER_IDLE_SECONDS", "5")))
        _use_green_wait()
        return engine
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)
