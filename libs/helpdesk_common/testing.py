"""Pytest fixtures for services: a real database per test (SQLite file, or a throwaway PostgreSQL
database when ``HELPDESK_TEST_POSTGRES_URL`` is set), real RabbitMQ, Nameko containers and an event
probe that waits for published events with a timeout.

Every service's tests get its database and container one way, by the service's name:
``service_database("<service>")`` (migrated, per test), ``session_database("<service>")`` (migrated, per
session), ``service_container("<service>")`` (the real service class on such a database). The settings a
service's tests start it with live with the service: ``TEST_CONFIG`` in ``services/<service>/testing.py``.

Enable with ``pytest_plugins = ["helpdesk_common.testing"]``.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from helpdesk_common.services import alembic_ini, service_module
from helpdesk_common.stack import REPO_ROOT  # noqa: F401  (re-exported for tests)

POSTGRES_ENV = "HELPDESK_TEST_POSTGRES_URL"


TEST_AMQP_ENV = "HELPDESK_TEST_AMQP_URI"
DEFAULT_TEST_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/helpdesk_test"


def amqp_uri_for_tests() -> str:
    """Return the broker the tests use: its own vhost, apart from a running ``make run``."""
    return os.environ.get(TEST_AMQP_ENV, DEFAULT_TEST_AMQP_URI)


def backend() -> str:
    """Return ``postgresql`` when the suite runs against PostgreSQL, else ``sqlite``."""
    return "postgresql" if os.environ.get(POSTGRES_ENV) else "sqlite"


class DatabaseFactory:
    """Create empty databases for a test and drop them afterwards."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.created: list[str] = []
        self.admin_url = os.environ.get(POSTGRES_ENV)

    def create(self, name: str = "db") -> str:
        if not self.admin_url:
            return f"sqlite:///{self.tmp_path / f'{name}-{uuid.uuid4().hex[:6]}.db'}"
        dbname = f"t_{name}_{uuid.uuid4().hex[:10]}"
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{dbname}"'))
        engine.dispose()
        self.created.append(dbname)
        return make_url(self.admin_url).set(database=dbname).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for dbname in self.created:
                _drop_database(conn, dbname)
        engine.dispose()


def _drop_database(conn, dbname: str, timeout: float = 30.0) -> None:
    """Drop a test database, waiting out an autovacuum worker in it (a superuser's process, which our role
    may not terminate, so ``WITH (FORCE)`` refuses while it runs; it ends on its own)."""
    from sqlalchemy.exc import DBAPIError

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            return
        except DBAPIError as exc:
            if "must be a member of the role" not in str(exc) or time.monotonic() > deadline:
                raise
        threading.Event().wait(0.2)


def migrate(alembic_ini: Path, url: str) -> None:
    """Run a service's Alembic migrations up to head on ``url``."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(alembic_ini))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "head")


def migrated_database(factory: DatabaseFactory, service: str, name: str | None = None) -> str:
    """Create an empty database with ``factory`` and run service ``service``'s migrations on it."""
    url = factory.create(name or service)
    migrate(alembic_ini(service), url)
    return url


def service_test_config(service: str) -> dict:
    """Return the settings service ``service``'s tests start it with (``TEST_CONFIG`` of its ``testing.py``)."""
    module = service_module(service, "testing")
    return dict(getattr(module, "TEST_CONFIG", {})) if module else {}


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Ask ``condition()`` until it answers something true, and return that; fail after ``timeout`` s saying
    ``what`` did not happen. For a state nothing announces (a read model caught up, a process answering);
    where an event says it, wait on the event (``event_probe``)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(interval)


def stack_test_env(services) -> dict[str, str]:
    """Return what end-to-end stacks set for each service (``STACK_TEST_ENV`` of its ``testing.py``): the
    whole stack runs, so a service's timers stay on, some faster than in production for tests to wait less."""
    env: dict[str, str] = {}
    for service in services:
        module = service_module(service, "testing")
        env.update({key: str(value) for key, value in getattr(module, "STACK_TEST_ENV", {}).items()} if module else {})
    return env


def service_class(service: str) -> type:
    """Return the Nameko class of service ``service`` (the class named ``service`` in its ``service.py``)."""
    module = service_module(service, "service")
    found = [value for value in vars(module).values() if isinstance(value, type)
             and getattr(value, "name", None) == service and value.__module__ == module.__name__] if module else []
    if len(found) != 1:
        raise LookupError(f"services/{service}/service.py defines {len(found)} classes named {service!r}")
    return found[0]


def _service_of(service_cls: type) -> str | None:
    """Return the name of the service ``service_cls`` belongs to (``services.<name>.…``), or None."""
    parts = service_cls.__module__.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "services" else None


def empty_tables(engine, *metadatas) -> None:
    """Delete every row of the given tables (children first) and restart their sequences: a fast reset."""
    from helpdesk_common.db import sequences_of

    tables = [t for metadata in metadatas for t in metadata.sorted_tables]
    with engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":
            for metadata in metadatas:
                for sequence in sequences_of(metadata):
                    conn.execute(text(f'ALTER SEQUENCE "{sequence.name}" RESTART'))


class HandlerRunner:
    """Open units of work on ``engine`` as a service's Database provider does, one per handler call.

    ``runner(handler, *args)`` calls a handler with a fresh unit of work, passing each collaborator the
    handler's signature asks for (e.g. ``passwords``, ``directory``); ``runner.new_uow()`` gives a bare one.
    ``uow_class`` is the service's own unit of work (the one holding its repositories), as its provider's.
    """

    def __init__(self, engine, *, producer: str, clock, collaborators: dict | None = None, uow_class=None):
        from sqlalchemy.orm import sessionmaker

        from helpdesk_common.uow import UnitOfWork

        self._session_factory = sessionmaker(bind=engine, expire_on_commit=False)
        self.producer = producer
        self.clock = clock
        self.collaborators = collaborators or {}
        self.uow_class = uow_class or UnitOfWork
        self._opened: list = []

    def new_uow(self):
        uow = self.uow_class(self._session_factory, producer=self.producer, clock=self.clock)
        self._opened.append(uow)
        return uow

    def __call__(self, handler, *args, **kwargs):
        import inspect

        parameters = inspect.signature(handler).parameters
        for name, value in self.collaborators.items():
            if name in parameters:
                kwargs.setdefault(name, value)
        with self.new_uow() as uow:
            return handler(*args, uow=uow, **kwargs)

    def close(self) -> None:
        for uow in self._opened:
            uow.close()


@contextlib.contextmanager
def separate_runners(database_url: str, *, producer: str, count: int = 2, **options) -> Iterator[list[HandlerRunner]]:
    """Give ``count`` handler runners with an engine each (a connection each, as separate processes have)."""
    from helpdesk_common.db import make_engine

    engines = [make_engine(database_url) for _ in range(count)]
    runners = [HandlerRunner(engine, producer=producer, **options) for engine in engines]
    try:
        yield runners
    finally:
        for runner in runners:
            runner.close()
        for engine in engines:
            engine.dispose()


def run_together(calls: list[Callable[[], object]], *, meet_after: tuple[type, str], monkeypatch,
                 timeout: float = 10.0) -> list[object]:
    """Run ``calls`` at once, each held after ``meet_after`` (a class and its method) until all got there.

    For races: e.g. two creates that both pass a uniqueness check before either writes. Answers each
    call's outcome in order: its value, or the exception it raised. Give each call its own engine (one
    connection each), or SQLite's single pooled connection makes the second wait for the first.
    """
    cls, name = meet_after
    original = getattr(cls, name)
    barrier = threading.Barrier(len(calls), timeout=timeout)

    def held(*args, **kwargs):
        answer = original(*args, **kwargs)
        barrier.wait()
        return answer

    monkeypatch.setattr(cls, name, held)
    outcomes: list[object] = [None] * len(calls)

    def contender(i: int) -> None:
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:  # the outcome under test: handed back to the caller, never swallowed
            outcomes[i] = exc

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"the racing calls did not finish within {timeout}s")
    monkeypatch.setattr(cls, name, original)
    return outcomes


def read_outbox(engine, event_type: str | None = None) -> list[dict]:
    """Return the committed outbox's envelopes in order (only ``event_type`` when given)."""
    from helpdesk_common.db import outbox_table

    query = select(outbox_table.c.event_type, outbox_table.c.envelope).order_by(outbox_table.c.id)
    if event_type:
        query = query.where(outbox_table.c.event_type == event_type)
    with engine.connect() as conn:
        return [row.envelope for row in conn.execute(query)]


@pytest.fixture
def database_factory(tmp_path) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path)
    yield factory
    factory.drop_all()


def _rabbitmqctl(*args: str) -> bool:
    ctl = shutil.which("rabbitmqctl") or ("/usr/sbin/rabbitmqctl" if os.path.exists("/usr/sbin/rabbitmqctl") else None)
    if ctl is None:
        return False
    done = subprocess.run([ctl, "-q", *args], capture_output=True, text=True, timeout=60)
    return done.returncode == 0


@contextlib.contextmanager
def private_vhost(uri: str) -> Iterator[str]:
    """Yield ``uri`` moved to a virtual host of its own, deleted afterwards.

    Works with a local broker we may administer (``rabbitmqctl``); otherwise yields ``uri`` unchanged.
    Services of two test runs (or of a running ``make run``) on one broker then never answer each
    other's RPCs or steal each other's events.
    """
    parsed = urlparse(uri)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"RabbitMQ is not reachable at {uri} ({exc}); run scripts/ensure_rabbitmq.sh --vhost helpdesk_test")
    vhost = f"helpdesk_test_{uuid.uuid4().hex[:8]}"
    local = parsed.hostname in ("127.0.0.1", "localhost")
    if local and _rabbitmqctl("add_vhost", vhost) and _rabbitmqctl(
        "set_permissions", "-p", vhost, parsed.username or "guest", ".*", ".*", ".*"
    ):
        try:
            yield parsed._replace(path=f"/{vhost}").geturl()
        finally:
            _rabbitmqctl("delete_vhost", vhost)
        return
    yield uri


@pytest.fixture(scope="session")
def amqp_uri() -> Iterator[str]:
    """The broker for this test session, in a virtual host of its own (see ``private_vhost``)."""
    with private_vhost(amqp_uri_for_tests()) as uri:
        yield uri


@pytest.fixture
def container_factory(amqp_uri) -> Iterator[Callable]:
    """Start Nameko service containers on the real broker; stop them after the test."""
    from nameko.containers import ServiceContainer

    started = []

    def make(service_cls, config: dict | None = None):
        full = {"AMQP_URI": amqp_uri, "METRICS_PORT": 0, "EVENT_RETRY_DELAYS_MS": "100,200"}
        # a service's own test settings (e.g. timers that call other services off: most tests start one alone)
        service = _service_of(service_cls)
        full.update(service_test_config(service) if service else {})
        full.update(config or {})
        container = ServiceContainer(service_cls, full)
        container.start()
        started.append(container)
        return container

    yield make
    for container in reversed(started):
        container.stop()


@pytest.fixture
def service_database(database_factory) -> Callable[[str], str]:
    """``service_database("<service>")``: that service's migrated database for this test (one per name)."""
    urls: dict[str, str] = {}

    def get(service: str) -> str:
        if service not in urls:
            urls[service] = migrated_database(database_factory, service)
        return urls[service]

    return get


@pytest.fixture(scope="session")
def session_database(tmp_path_factory) -> Iterator[Callable[[str], str]]:
    """``session_database("<service>")``: one migrated database of that service for the whole session.

    For handler tests that empty the tables between tests (creating a database costs 0.4 s on PostgreSQL).
    """
    factory = DatabaseFactory(tmp_path_factory.mktemp("session-databases"))
    urls: dict[str, str] = {}

    def get(service: str) -> str:
        if service not in urls:
            urls[service] = migrated_database(factory, service, f"{service}_session")
        return urls[service]

    yield get
    factory.drop_all()


@pytest.fixture
def service_container(container_factory, service_database) -> Callable:
    """``service_container("<service>", **config)``: the real service on its test database (or ``DATABASE_URL``)."""

    def start(service: str, **config):
        config.setdefault("DATABASE_URL", service_database(service))
        return container_factory(service_class(service), config)

    return start


class EventProbe:
    """A temporary queue bound to event exchanges; ``wait`` returns the next matching event."""

    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri)
        self.queue_name = f"test-probe-{uuid.uuid4().hex[:8]}"
        self.received: queue.Queue = queue.Queue()
        self._bindings: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def bind(self, producer: str, routing_key: str = "#") -> EventProbe:
        self._bindings.append((producer, routing_key))
        return self

    def start(self) -> EventProbe:
        channel = self.conn.channel()
        q = Queue(self.queue_name, exclusive=True, auto_delete=True, channel=channel)
        q.declare()
        for producer, key in self._bindings:
            exchange = Exchange(f"{producer}.events", type="topic", durable=True, channel=channel)
            exchange.declare()
            q.bind_to(exchange, routing_key=key)
        self._consumer = self.conn.Consumer(q, callbacks=[self._on_message], accept=["json"])
        self._consumer.consume()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()
        return self

    def _on_message(self, body, message):
        self.received.put((body, dict(message.headers or {})))
        message.ack()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                self.conn.drain_events(timeout=0.2)
            except TimeoutError:
                continue
            except OSError:
                break

    def wait(self, event_type: str | None = None, *, timeout: float = 10.0, where: Callable | None = None):
        """Return the next event of ``event_type`` (matching ``where``), or fail after ``timeout`` s."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event_type or 'event'} within {timeout} s")
            try:
                body, headers = self.received.get(timeout=remaining)
            except queue.Empty:
                continue
            if event_type and body.get("type") != event_type:
                continue
            if where and not where(body):
                continue
            body["_headers"] = headers
            return body

    def drain_now(self) -> list[dict]:
        """Return whatever arrived so far."""
        items = []
        while True:
            try:
                items.append(self.received.get_nowait()[0])
            except queue.Empty:
                return items

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        with contextlib.suppress(Exception):  # the connection may be gone; the queue is auto-delete anyway
            self._consumer.cancel()
        self.conn.release()


@pytest.fixture
def event_probe(amqp_uri) -> Iterator[Callable[..., EventProbe]]:
    probes: list[EventProbe] = []

    def make(producer: str, routing_key: str = "#") -> EventProbe:
        probe = EventProbe(amqp_uri).bind(producer, routing_key).start()
        probes.append(probe)
        return probe

    yield make
    for probe in probes:
        probe.close()


def to_json(value) -> str:
    return json.dumps(value, default=str)
