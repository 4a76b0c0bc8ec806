"""Pooled PostgreSQL connections: one that died while idle is replaced before use; a busy pool pays no ping."""

import os
import time

import pytest
from sqlalchemy import event, text

from helpdesk_common.db import make_engine
from helpdesk_common.testing import POSTGRES_ENV

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="needs PostgreSQL (set HELPDESK_TEST_POSTGRES_URL)"),
]


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def terminate(pid: int) -> None:
    """Kill a server backend and wait until the server has let it go."""
    admin = make_engine(os.environ[POSTGRES_ENV], pool_size=1)
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 10
        while conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
            assert time.monotonic() < deadline, "the backend did not go away"
            conn.rollback()  # a fresh snapshot of pg_stat_activity
    admin.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_use(monkeypatch):
    monkeypatch.setenv("DB_PING_AFTER_IDLE_SECONDS", "0")
    engine = make_engine(os.environ[POSTGRES_ENV], pool_size=1)
    first = backend_pid(engine)
    terminate(first)

    second = backend_pid(engine)  # no error reaches the caller: the ping found the dead one

    assert second != first
    engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(monkeypatch):
    monkeypatch.setenv("DB_PING_AFTER_IDLE_SECONDS", "60")
    engine = make_engine(os.environ[POSTGRES_ENV], pool_size=1)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    pings: list[bool] = []
    original = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(True) or original(conn))

    for _ in range(5):
        backend_pid(engine)

    assert pings == []
    assert statements == ["SELECT pg_backend_pid()"] * 5
    engine.dispose()
