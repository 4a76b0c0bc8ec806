"""The outbox relay against a real broker: routed, unroutable, and broker-down cases."""

import uuid

import pytest
from kombu.exceptions import OperationalError
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import SystemClock
from helpdesk_common.db import make_engine, outbox_table
from helpdesk_common.relay import OutboxRelay
from helpdesk_common.testing import REPO_ROOT, migrate
from helpdesk_common.uow import UnitOfWork

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_factory):
    url = database_factory.create("users")
    migrate(REPO_ROOT / "services/users/alembic.ini", url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _emit_department_event(engine, event_type="department.created"):
    with UnitOfWork(sessionmaker(bind=engine), producer="users", clock=SystemClock(),
                    correlation_id="corr-relay") as uow:
        envelope = uow.emit(event_type, {"department": {"id": str(uuid.uuid4()), "name": "Relay", "description": None,
                                                        "default_sla_hours": None, "notification_email": None}})
        uow.commit()
    return envelope


def _row(engine, event_id):
    with engine.connect() as conn:
        return conn.execute(select(outbox_table).where(outbox_table.c.event_id == event_id)).one()


def test_relay_publishes_with_correlation_header_and_marks_sent(engine, amqp_uri, event_probe):
    probe = event_probe("users", "department.created")
    envelope = _emit_department_event(engine)

    assert OutboxRelay(engine, amqp_uri=amqp_uri).relay_batch() == 1

    received = probe.wait("department.created", where=lambda e: e["id"] == envelope.id)
    assert received["_headers"]["nameko.correlation_id"] == "corr-relay"
    row = _row(engine, envelope.id)
    assert row.published_at is not None and row.unroutable == 0


def test_relay_marks_event_without_subscribers_unroutable(engine, amqp_uri):
    envelope = _emit_department_event(engine, "department.deleted")

    OutboxRelay(engine, amqp_uri=amqp_uri).relay_batch()

    row = _row(engine, envelope.id)
    assert row.unroutable == 1
    assert "unroutable" in row.last_error


def test_relay_keeps_events_while_broker_is_down_and_sends_them_later(engine, amqp_uri, event_probe):
    probe = event_probe("users", "department.created")
    envelope = _emit_department_event(engine)

    with pytest.raises(OperationalError):
        OutboxRelay(engine, amqp_uri="amqp://guest:guest@127.0.0.1:1/").relay_batch()
    assert _row(engine, envelope.id).published_at is None

    OutboxRelay(engine, amqp_uri=amqp_uri).relay_batch()
    assert probe.wait("department.created", where=lambda e: e["id"] == envelope.id)["id"] == envelope.id


def test_relay_backlog_reports_pending_count_and_age(engine, amqp_uri):
    _emit_department_event(engine)
    _emit_department_event(engine)

    count, age = OutboxRelay(engine, amqp_uri=amqp_uri).backlog()

    assert count == 2
    assert age >= 0.0


def test_relay_keeps_publishing_on_one_connection_after_an_unroutable_event(engine, amqp_uri, event_probe):
    probe = event_probe("users", "department.created")
    lost = _emit_department_event(engine, "department.deleted")  # nobody listens
    kept = _emit_department_event(engine)
    relay = OutboxRelay(engine, amqp_uri=amqp_uri)

    assert relay.relay_batch() == 2
    connection = relay._channel._connection
    again = _emit_department_event(engine)
    assert relay.relay_batch() == 1

    assert (_row(engine, lost.id).unroutable, _row(engine, kept.id).unroutable, _row(engine, again.id).unroutable) == (1, 0, 0)
    assert probe.wait("department.created", where=lambda e: e["id"] == again.id)["id"] == again.id
    assert relay._channel._connection is connection  # the returned message did not cost a reconnection
    relay.stop()


def test_a_batch_is_confirmed_as_a_whole_and_its_unroutable_events_are_told_apart(engine, amqp_uri, event_probe):
    probe = event_probe("users", "department.created")
    emitted = [_emit_department_event(engine, "department.deleted" if i % 4 == 0 else "department.created")
               for i in range(20)]
    relay = OutboxRelay(engine, amqp_uri=amqp_uri)

    assert relay.relay_batch() == 20

    flags = [_row(engine, e.id).unroutable for e in emitted]
    assert flags == [1 if i % 4 == 0 else 0 for i in range(20)]
    assert all(_row(engine, e.id).published_at is not None for e in emitted)
    routed = {e.id for i, e in enumerate(emitted) if i % 4}
    seen = set()
    while seen != routed:
        seen.add(probe.wait("department.created", where=lambda env: env["id"] in routed - seen)["id"])
    assert relay._channel._confirmed == relay._channel._published == 20
    relay.stop()
