"""Eventlet's hub must not be blocked by the database driver: slow queries overlap, not queue."""

import os
import time

import eventlet
import pytest
from sqlalchemy import text

from helpdesk_common.db import make_engine
from helpdesk_common.testing import POSTGRES_ENV

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="needs PostgreSQL (set HELPDESK_TEST_POSTGRES_URL)"),
]


def test_concurrent_slow_queries_overlap_under_eventlet():
    engine = make_engine(os.environ[POSTGRES_ENV])

    def slow_query():
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(0.5)"))

    with engine.connect():  # warm the pool's first connection outside the measurement
        pass
    started = time.perf_counter()
    pool = eventlet.GreenPool()
    for _ in range(4):
        pool.spawn(slow_query)
    pool.waitall()
    elapsed = time.perf_counter() - started
    engine.dispose()

    # four 0.5 s queries: about 0.5 s when they overlap, 2 s if psycopg blocks the hub
    assert elapsed < 1.5, f"4 concurrent 0.5 s queries took {elapsed:.2f} s: the hub is blocked"


def test_psycopg_waits_on_the_hub_directly_once_eventlet_patched_the_process():
    import psycopg.waiting

    from helpdesk_common.db import _green_wait

    engine = make_engine(os.environ[POSTGRES_ENV])
    engine.dispose()

    assert psycopg.waiting.wait is _green_wait


def test_a_query_whose_backend_is_killed_while_it_waits_fails_at_once():
    engine = make_engine(os.environ[POSTGRES_ENV])
    with engine.connect() as victim, engine.connect() as killer:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar()
        sleeper = eventlet.spawn(lambda: victim.execute(text("SELECT pg_sleep(30)")))
        eventlet.sleep(0.2)  # the sleeper is parked on the hub, waiting for its result
        started = time.perf_counter()
        killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(Exception) as raised:
            sleeper.wait()
        assert time.perf_counter() - started < 5
        assert "terminat" in str(raised.value).lower() or "closed" in str(raised.value).lower()
    engine.dispose()


def test_the_green_wait_gives_up_at_psycopg_s_deadline():
    import socket

    import psycopg.errors
    from psycopg.waiting import WAIT_R

    from helpdesk_common.db import _green_wait

    left, right = socket.socketpair()  # nothing is ever written: never readable

    def waiting():
        yield WAIT_R
        raise AssertionError("woken although nothing arrived")

    started = time.perf_counter()
    with pytest.raises(psycopg.errors._WaitTimeout):
        _green_wait(waiting(), left.fileno(), timeout=0.2)
    assert time.perf_counter() - started < 2
    left.close()
    right.close()
