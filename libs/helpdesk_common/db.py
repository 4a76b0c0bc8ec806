"""Engines, portable column types and the infrastructure tables (outbox, inbox) every service owns."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
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


def make_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """Create an engine that behaves well under eventlet.

    PostgreSQL goes through psycopg 3 with a select()-based wait so that eventlet's patched select lets
    other green threads run while a query waits (psycopg's default C wait would block the hub).
    SQLite gets one connection per process: its lock waits would block the hub, so green threads take
    turns at the pool instead, and WAL lets other processes read meanwhile.
    """
    if url.startswith("postgresql"):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return create_engine(
            url,
            pool_size=pool_size or int(os.environ.get("DB_POOL_SIZE", "10")),
            max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "10")),
            pool_pre_ping=True,
            pool_timeout=30,
        )
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
