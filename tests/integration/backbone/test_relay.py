"""The outbox relay against a real broker: routed, unroutable, and broker-down cases; hand-off and sweeps."""

import threading
import time
import uuid

import pytest
from kombu.exceptions import OperationalError
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from helpdesk_common import relay as relay_module
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


def test_relay_says_once_per_type_that_no_queue_is_bound_and_each_event_at_debug(engine, amqp_uri, caplog):
    # no consumer of department events here: the demo seed's situation, smaller
    events = [_emit_department_event(engine, kind) for kind in ("department.deleted", "department.deleted",
                                                                "department.created")]
    relay = OutboxRelay(engine, amqp_uri=amqp_uri)
    caplog.set_level("DEBUG", logger="helpdesk_common.relay")

    assert relay.relay_batch() == 3
    later = _emit_department_event(engine, "department.deleted")
    assert relay.relay_batch() == 1

    records = [r for r in caplog.records if r.name == "helpdesk_common.relay"]
    infos = [r.getMessage() for r in records if r.levelname == "INFO"]
    assert infos == ["no queue is bound for department.created, department.deleted yet: such events are marked "
                     "unroutable in the outbox (said once per type; each event at DEBUG)"]
    debug = [r.getMessage() for r in records if r.levelname == "DEBUG" and "is unroutable" in r.getMessage()]
    assert len(debug) == 4 and all(any(e.id in line for line in debug) for e in [*events, later])
    relay.stop()


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
    connection = relay._channel._broker.connection
    again = _emit_department_event(engine)
    assert relay.relay_batch() == 1

    assert (_row(engine, lost.id).unroutable, _row(engine, kept.id).unroutable, _row(engine, again.id).unroutable) == (1, 0, 0)
    assert probe.wait("department.created", where=lambda e: e["id"] == again.id)["id"] == again.id
    assert relay._channel._broker.connection is connection  # the returned message did not cost a reconnection
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


# -- the running relay: hand-off from committed units of work, sweeps of what was not handed off


def _emit_handed(engine, relay, event_type="department.created"):
    with UnitOfWork(sessionmaker(bind=engine), producer="users", clock=SystemClock(), correlation_id="corr-handoff",
                    on_commit=relay.handoff) as uow:
        envelope = uow.emit(event_type, {"department": {"id": str(uuid.uuid4()), "name": "Handed", "description": None,
                                                        "default_sla_hours": None, "notification_email": None}})
        uow.commit()
    return envelope


@pytest.fixture
def running(engine, amqp_uri):
    """Start ``OutboxRelay.run`` in a thread; stop them all at the end."""
    started = []

    def start(*, poll_interval=3600.0, grace=3600.0, uri=None):
        relay = OutboxRelay(engine, amqp_uri=uri or amqp_uri, grace=grace)
        thread = threading.Thread(target=relay.run, kwargs={"poll_interval": poll_interval, "max_backoff": 0.2},
                                  daemon=True)
        thread.start()
        started.append((relay, thread))
        return relay

    yield start
    for relay, thread in started:
        relay.stop()
        thread.join(10)
        assert not thread.is_alive()


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_committed_event_is_handed_to_the_running_relay_and_published_without_a_sweep(engine, running, event_probe):
    probe = event_probe("users", "department.created")
    relay = running()  # its only sweep runs at start; the next one is an hour away
    _wait_for(lambda: relay.last_sweep is not None)  # past its first sweep, of everything pending

    envelope = _emit_handed(engine, relay)

    received = probe.wait("department.created", where=lambda e: e["id"] == envelope.id)
    assert received["_headers"]["nameko.correlation_id"] == "corr-handoff"
    _wait_for(lambda: _row(engine, envelope.id).published_at is not None)
    row = _row(engine, envelope.id)
    assert (row.attempts, row.unroutable, row.last_error) == (1, 0, None)


def test_a_handed_off_event_nobody_listens_to_is_marked_unroutable(engine, running):
    relay = running()
    _wait_for(lambda: relay.last_sweep is not None)  # past its first sweep, of everything pending

    envelope = _emit_handed(engine, relay, "department.deleted")

    _wait_for(lambda: _row(engine, envelope.id).published_at is not None)
    row = _row(engine, envelope.id)
    assert row.unroutable == 1 and "unroutable" in row.last_error


def test_the_first_sweep_takes_every_pending_row_and_later_ones_only_rows_older_than_the_grace(engine, running,
                                                                                                 event_probe):
    probe = event_probe("users", "department.created")
    left = _emit_department_event(engine)  # committed with no relay running: nobody handed it off

    running(poll_interval=0.05, grace=0.5)
    probe.wait("department.created", where=lambda e: e["id"] == left.id)

    late = _emit_department_event(engine)  # written outside a hand-off while the relay runs
    probe.wait("department.created", where=lambda e: e["id"] == late.id)
    _wait_for(lambda: _row(engine, late.id).published_at is not None)  # marked just after the broker's confirm
    row = _row(engine, late.id)
    assert (row.published_at - row.created_at).total_seconds() >= 0.5  # the sweep waited out the grace


def test_a_hand_off_that_fails_while_the_broker_is_away_is_published_once_it_is_back(engine, amqp_uri, running,
                                                                                   event_probe):
    probe = event_probe("users", "department.created")
    relay = running(uri="amqp://guest:guest@127.0.0.1:1/")  # a broker that is not there
    _wait_for(lambda: relay.last_sweep is not None)  # past its first sweep, of everything pending

    envelope = _emit_handed(engine, relay)
    _wait_for(lambda: _row(engine, envelope.id).last_error is not None)  # the failure is on record
    assert _row(engine, envelope.id).published_at is None
    relay._channel._broker.amqp_uri = amqp_uri  # the broker is back

    probe.wait("department.created", where=lambda e: e["id"] == envelope.id)  # from memory: no sweep for an hour
    _wait_for(lambda: _row(engine, envelope.id).published_at is not None)
    assert not relay._handed


def test_handed_off_events_kept_in_memory_are_bounded_and_the_rest_are_left_to_the_sweep(engine, monkeypatch):
    monkeypatch.setattr(relay_module, "HANDOFF_LIMIT", 3)
    relay = OutboxRelay(engine, amqp_uri="amqp://guest:guest@127.0.0.1:1/", batch_size=2)
    relay._running = True
    envelopes = [_emit_department_event(engine) for _ in range(5)]
    relay.handoff(envelopes)

    with pytest.raises(OperationalError):
        relay.relay_handed()

    assert [e.id for e in relay._handed] == [e.id for e in envelopes[:3]]  # oldest first, kept in order
    relay.stop()


def test_events_are_not_kept_for_a_relay_that_does_not_run(engine, amqp_uri):
    relay = OutboxRelay(engine, amqp_uri=amqp_uri)

    relay.handoff([_emit_department_event(engine)])

    assert not relay._handed and relay._wake.is_set()


def test_hand_offs_published_together_are_marked_in_one_statement(engine, running, event_probe):
    probe = event_probe("users", "department.created")
    relay = running()
    _wait_for(lambda: relay.last_sweep is not None)  # past its first sweep, of everything pending
    envelopes = [_emit_department_event(engine) for _ in range(3)]  # committed without a hand-off...

    relay.handoff(envelopes)  # ...and handed off at once: published as one batch

    for envelope in envelopes:
        probe.wait("department.created", where=lambda e, wanted=envelope.id: e["id"] == wanted)
    _wait_for(lambda: all(_row(engine, e.id).published_at is not None for e in envelopes))
    assert len({_row(engine, e.id).published_at for e in envelopes}) == 1


def test_a_stopping_relay_marks_what_it_published_before_it_returns(engine, running, event_probe, monkeypatch):
    monkeypatch.setattr(relay_module, "MARK_DELAY_SECONDS", 3600.0)  # nothing would be marked before the stop
    probe = event_probe("users", "department.created")
    relay = running()
    _wait_for(lambda: relay.last_sweep is not None)  # past its first sweep, of everything pending
    envelope = _emit_handed(engine, relay)
    probe.wait("department.created", where=lambda e: e["id"] == envelope.id)
    assert _row(engine, envelope.id).published_at is None

    relay.stop()

    assert _row(engine, envelope.id).published_at is not None
