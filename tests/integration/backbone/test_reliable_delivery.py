"""Nothing lost, nothing twice: outbox after a crash, inbox against redelivery, dead letters for poison."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select

from helpdesk_common import dlq
from helpdesk_common.db import infrastructure, outbox_table
from helpdesk_common.nameko_ext import Database, ReliableEventHandler, reliable_event_handler
from helpdesk_common.testing import REPO_ROOT, migrate
from services.users.service import UsersService

pytestmark = pytest.mark.integration

effects_metadata = MetaData()
effects = Table(
    "effects", effects_metadata, Column("id", Integer, primary_key=True), Column("event_id", String(36)),
    Column("note", String(100)),
)


def _publish(amqp_uri, source, event_type, envelope):
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        exchange = Exchange(f"{source}.events", type="topic", durable=True)
        conn.Producer().publish(envelope, exchange=exchange, routing_key=event_type, declare=[exchange],
                                serializer="json", delivery_mode=2, message_id=envelope["id"])


def _envelope(event_type, data, event_id=None):
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "version": 1,
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "producer": "testsrc",
        "correlation_id": "corr-1",
        "data": data,
    }


def _consumer_service(source, event_type):
    """Build a throwaway service class whose handler records an effect, claiming nothing by hand."""
    name = f"probe_{uuid.uuid4().hex[:8]}"
    state = {"fail": True}

    class Consumer:
        db = Database()

        @reliable_event_handler(source, event_type)
        def on_event(self, event):
            if event.data.get("poison") and state["fail"]:
                raise ValueError("poison event")
            with self.db() as uow:  # its first unit of work claims the event (a duplicate stops here)
                uow.session.execute(insert(effects).values(event_id=event.id, note=event.data.get("note")))
                uow.commit()
                return "applied"

    Consumer.name = name
    Consumer.__name__ = name
    return Consumer, state


@pytest.fixture
def consumer_db(database_factory):
    url = database_factory.create("consumer")
    engine = create_engine(url)
    infrastructure.create_all(engine)
    effects_metadata.create_all(engine)
    engine.dispose()
    return url


def _count_effects(url, event_id=None):
    engine = create_engine(url)
    with engine.connect() as conn:
        query = select(func.count()).select_from(effects)
        if event_id:
            query = query.where(effects.c.event_id == event_id)
        count = conn.scalar(query)
    engine.dispose()
    return count


def test_duplicate_delivery_to_a_handler_without_a_claim_has_one_effect(container_factory, consumer_db, amqp_uri):
    event_type = f"thing.dup_{uuid.uuid4().hex[:6]}"
    service, _ = _consumer_service("testsrc", event_type)
    container = container_factory(service, {"DATABASE_URL": consumer_db, "OUTBOX_RELAY": "off"})
    envelope = _envelope(event_type, {"note": "once"})

    with entrypoint_waiter(container, "on_event", timeout=10) as first:
        _publish(amqp_uri, "testsrc", event_type, envelope)
    with entrypoint_waiter(container, "on_event", timeout=10) as second:
        _publish(amqp_uri, "testsrc", event_type, envelope)

    assert first.get() == "applied"
    assert second.get() is None  # skipped before the handler's first statement, and acked as done
    assert _count_effects(consumer_db, envelope["id"]) == 1


def _wait_for_message(amqp_uri, queue_name, timeout=15.0):
    """Block until a message sits in ``queue_name``; return its headers and body and leave it there."""
    with Connection(amqp_uri) as conn:
        simple = conn.SimpleQueue(Queue(queue_name, durable=True))
        try:
            message = simple.get(block=True, timeout=timeout)
        except simple.Empty:
            raise AssertionError(f"nothing arrived in {queue_name} within {timeout} s") from None
        headers, body = dict(message.headers), message.payload
        message.requeue()
        simple.close()
    return headers, body


def test_poison_event_is_dead_lettered_while_others_flow(container_factory, consumer_db, amqp_uri):
    event_type = f"thing.poison_{uuid.uuid4().hex[:6]}"
    service, state = _consumer_service("testsrc", event_type)
    container = container_factory(service, {"DATABASE_URL": consumer_db, "OUTBOX_RELAY": "off",
                                            "EVENT_RETRY_DELAYS_MS": "50,100"})
    handler = next(ext for ext in container.entrypoints if isinstance(ext, ReliableEventHandler))
    poison = _envelope(event_type, {"poison": True, "note": "bad"})
    good = _envelope(event_type, {"note": "good"})

    _publish(amqp_uri, "testsrc", event_type, poison)
    with entrypoint_waiter(container, "on_event", timeout=10, callback=lambda wr, res, exc: res == "applied"):
        _publish(amqp_uri, "testsrc", event_type, good)
    headers, body = _wait_for_message(amqp_uri, handler.dead_letter_queue.name)

    assert _count_effects(consumer_db, good["id"]) == 1
    assert body["id"] == poison["id"]
    assert headers["x-helpdesk-attempt"] == 3
    assert "poison event" in headers["x-helpdesk-error"]

    # an operator fixes the cause and replays: the event is applied once
    state["fail"] = False
    with entrypoint_waiter(container, "on_event", timeout=10, callback=lambda wr, res, exc: res == "applied"):
        assert dlq.replay(handler.dead_letter_queue.name, uri=amqp_uri, limit=10) == 1
    assert _count_effects(consumer_db, poison["id"]) == 1


KILLED_PUBLISHER = r"""
import os, signal, sys
from sqlalchemy.orm import sessionmaker
from helpdesk_common.clock import SystemClock
from helpdesk_common.db import make_engine
from helpdesk_common.uow import UnitOfWork
uow = UnitOfWork(sessionmaker(bind=make_engine(sys.argv[1])), producer="users", clock=SystemClock())
event = uow.emit("department.created", {"department": {"id": sys.argv[2], "name": "Crash", "description": None,
                 "default_sla_hours": None, "notification_email": None}})
uow.commit()
print(event.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # dies after commit, before any relay could publish
"""


def test_event_committed_before_a_crash_is_published_after_restart(container_factory, database_factory, amqp_uri,
                                                                   event_probe):
    url = database_factory.create("users")
    migrate(REPO_ROOT / "services/users/alembic.ini", url)
    department_id = str(uuid.uuid4())
    proc = subprocess.run([sys.executable, "-c", KILLED_PUBLISHER, url, department_id], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": f"{REPO_ROOT}/libs:{REPO_ROOT}"})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    event_id = proc.stdout.split()[0]
    probe = event_probe("users", "department.created")

    container_factory(UsersService, {"DATABASE_URL": url})  # the restarted service's relay finds the row

    event = probe.wait("department.created", where=lambda e: e["id"] == event_id, timeout=15)
    assert event["data"]["department"]["id"] == department_id
    engine = create_engine(url)
    with engine.connect() as conn:
        published = conn.scalar(select(outbox_table.c.published_at).where(outbox_table.c.event_id == event_id))
    engine.dispose()
    assert published is not None


def test_rolled_back_change_publishes_nothing(database_factory, amqp_uri):
    from sqlalchemy.orm import sessionmaker

    from helpdesk_common.clock import SystemClock
    from helpdesk_common.db import make_engine
    from helpdesk_common.uow import UnitOfWork

    url = database_factory.create("users")
    migrate(REPO_ROOT / "services/users/alembic.ini", url)
    engine = make_engine(url)
    with UnitOfWork(sessionmaker(bind=engine), producer="users", clock=SystemClock()) as uow:
        uow.emit("department.deleted", {"department": {"id": str(uuid.uuid4()), "name": "Gone", "description": None,
                                                       "default_sla_hours": None, "notification_email": None}})
        uow.rollback()
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(outbox_table)) == 0
    engine.dispose()


def _queue_exists(amqp_uri, name) -> bool:
    with Connection(amqp_uri) as conn:
        try:
            Queue(name, durable=True).bind(conn.default_channel).queue_declare(passive=True)
        except conn.channel_errors:  # 404 NOT_FOUND
            return False
    return True


def test_a_handler_enabled_by_an_unset_setting_declares_and_consumes_nothing(container_factory, amqp_uri, monkeypatch):
    monkeypatch.delenv("FEATURE_URL", raising=False)
    event_type = f"thing.off_{uuid.uuid4().hex[:6]}"

    class Switchable:
        name = f"switch_{uuid.uuid4().hex[:8]}"

        @reliable_event_handler("testsrc", event_type, enabled_by="FEATURE_URL")
        def on_event(self, event):
            return "handled"

    off = container_factory(Switchable, {"FEATURE_URL": ""})
    queue = f"evt-testsrc-{event_type}--{Switchable.name}.on_event"
    assert not _queue_exists(amqp_uri, queue)
    off.stop()

    on = container_factory(Switchable, {"FEATURE_URL": "http://127.0.0.1:1"})
    assert _queue_exists(amqp_uri, queue)
    with entrypoint_waiter(on, "on_event", timeout=10) as handled:
        _publish(amqp_uri, "testsrc", event_type, _envelope(event_type, {"note": "on"}))
    assert handled.get() == "handled"
