"""Ticket numbers under concurrent creates must be distinct and consecutive on SQLite (a counter row taken
in each create's transaction) and PostgreSQL (a sequence) alike."""

import uuid

import eventlet
import pytest
from eventlet import patcher
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import SystemClock
from helpdesk_common.db import make_engine, outbox_table
from helpdesk_common.testing import backend
from services.tickets import handlers
from services.tickets.adapters.orm import counters, start_mappers, tickets
from services.tickets.adapters.uow import TicketsUnitOfWork
from services.tickets.domain import rules

pytestmark = pytest.mark.integration

CREATES, WORKERS = 40, 8
REQUESTER = {"id": str(uuid.uuid4()), "role": "customer", "department_id": None, "organization_id": None}
EXPECTED = [rules.format_number(n) for n in range(1, CREATES + 1)]
real_threading = patcher.original("threading")  # the suite runs monkey-patched: these are OS threads


class Gauge:
    """Count the creates in flight and remember the most at once."""

    def __init__(self):
        self.now = self.most = 0
        self._lock = real_threading.Lock()

    def __enter__(self):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with self._lock:
            self.now -= 1


class Creator:
    """Open tickets through the handler, one unit of work each, like one RPC each."""

    def __init__(self, engine, gauge: Gauge):
        self.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
        self.clock = SystemClock()
        self.gauge = gauge

    def create(self, i: int) -> str:
        with self.gauge, TicketsUnitOfWork(self.session_factory, producer="tickets", clock=self.clock) as uow:
            data = {"title": f"Ticket {i}", "description": "Concurrent create"}
            return handlers.open_ticket(data, REQUESTER, uow=uow)["number"]


@pytest.fixture
def engine(tickets_db_url):
    start_mappers()
    engine = make_engine(tickets_db_url)
    yield engine
    engine.dispose()


def stored(engine):
    with engine.connect() as conn:
        numbers = sorted(conn.scalars(select(tickets.c.number)))
        if conn.dialect.name == "postgresql":
            counter = conn.scalar(text("SELECT last_value FROM ticket_number_seq"))
        else:
            counter = conn.scalar(select(counters.c.value).where(counters.c.name == "ticket"))
        events = conn.scalar(
            select(func.count()).select_from(outbox_table).where(outbox_table.c.event_type == "ticket.created")
        )
    return numbers, counter, events


def test_concurrent_creates_from_green_threads_take_consecutive_numbers(engine):
    gauge = Gauge()
    creator = Creator(engine, gauge)
    pool = eventlet.GreenPool(WORKERS)
    numbers = list(pool.imap(creator.create, range(CREATES)))
    assert sorted(numbers) == EXPECTED
    assert stored(engine) == (EXPECTED, CREATES, CREATES)
    if backend() == "postgresql":
        # psycopg waits cooperatively: creates must overlap, or the service would serve one call at a time
        assert gauge.most > 1


def test_concurrent_creates_from_os_threads_with_own_engines_take_consecutive_numbers(engine, tickets_db_url):
    engines = [make_engine(tickets_db_url, pool_size=1) for _ in range(WORKERS)]
    gauge = Gauge()
    creators = [Creator(e, gauge) for e in engines]
    start = real_threading.Barrier(WORKERS)
    results: list[str] = []
    errors: list[BaseException] = []
    lock = real_threading.Lock()

    def work(creator: Creator, share: range) -> None:
        start.wait(timeout=30)
        for i in share:
            try:
                number = creator.create(i)
            except BaseException as exc:  # collected and re-raised below, in the test's thread
                with lock:
                    errors.append(exc)
                return
            with lock:
                results.append(number)

    threads = [
        real_threading.Thread(target=work, args=(creators[w], range(w, CREATES, WORKERS))) for w in range(WORKERS)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    finally:
        for e in engines:
            e.dispose()
    assert errors == []
    assert sorted(results) == EXPECTED
    assert stored(engine) == (EXPECTED, CREATES, CREATES)
    assert gauge.most > 1  # the threads really raced for the counter
