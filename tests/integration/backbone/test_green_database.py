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
