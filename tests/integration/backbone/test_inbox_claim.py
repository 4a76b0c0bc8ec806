"""The reliable handler claims its event itself: twins on two replicas, and names from before the upgrade."""

import time
import uuid

import eventlet
import pytest
from nameko.extensions import DependencyProvider
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import create_engine, func, insert, select, text

from helpdesk_common.clock import SystemClock
from helpdesk_common.db import inbox_table
from helpdesk_common.nameko_ext import Database, reliable_event_handler
from helpdesk_common.testing import backend
from tests.integration.backbone.test_reliable_delivery import (
    _count_effects,
    _envelope,
    _publish,
    consumer_db,  # noqa: F401  (fixture)
    effects,
)

pytestmark = pytest.mark.integration


def _wait_until(predicate, timeout=15.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what() if callable(what) else what} did not happen within {timeout} s")
        eventlet.sleep(0.02)  # a green wait: the containers run in this process


class _Outcomes(DependencyProvider):
    """Record every worker's outcome (result, exception) in ``outcomes``, whichever container ran it."""

    def __init__(self, outcomes):
        self.outcomes = outcomes

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        self.outcomes.append((result, exc_info))


def _gated_service(name, event_type, gate, results, outcomes=None):
    """A handler that, once its event is claimed, holds its transaction open until ``gate`` is set."""

    class Consumer:
        db = Database()
        outcomes_ = _Outcomes([] if outcomes is None else outcomes)

        @reliable_event_handler("testsrc", event_type)
        def on_event(self, event):
            with self.db() as uow:
                results.append("claimed")
                gate.wait()
                uow.session.execute(insert(effects).values(event_id=event.id, note="twin"))
                uow.commit()
                return "applied"

    Consumer.name = name
    Consumer.__name__ = name
    return Consumer


def _waiting_on_a_lock(url) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'"))
    engine.dispose()
    return count


@pytest.mark.skipif(backend() != "postgresql", reason="replicas of a service run on PostgreSQL only (SQLite takes "
                    "one writer at a time, and its lock wait blocks the process)")
def test_twin_deliveries_to_two_replicas_have_one_effect(container_factory, consumer_db, amqp_uri):  # noqa: F811
    event_type = f"thing.twin_{uuid.uuid4().hex[:6]}"
    name = f"probe_{uuid.uuid4().hex[:8]}"
    gate, results, finished = eventlet.event.Event(), [], []
    config = {"DATABASE_URL": consumer_db, "OUTBOX_RELAY": "off"}
    container_factory(_gated_service(name, event_type, gate, results, finished), config)
    container_factory(_gated_service(name, event_type, gate, results, finished), config)
    envelope = _envelope(event_type, {"note": "twin"})

    _publish(amqp_uri, "testsrc", event_type, envelope)
    _publish(amqp_uri, "testsrc", event_type, envelope)  # the same event twice, as a redelivery would be
    _wait_until(lambda: results == ["claimed"], what=lambda: f"one delivery claiming the event ({results})")
    _wait_until(lambda: _waiting_on_a_lock(consumer_db) == 1, what="the twin waiting on the inbox's key")
    gate.send(True)
    _wait_until(lambda: len(finished) == 2, what=lambda: f"both deliveries finishing ({finished})")

    assert results == ["claimed"]
    assert len(finished) == 2 and {result for result, _ in finished} == {"applied", None}
    assert all(exc_info is None for _, exc_info in finished)
    assert _count_effects(consumer_db, envelope["id"]) == 1


def test_an_event_claimed_under_the_name_used_before_the_upgrade_is_recognised(container_factory,
                                                                               consumer_db,  # noqa: F811
                                                                               amqp_uri):
    event_type = f"thing.old_{uuid.uuid4().hex[:6]}"
    name = f"probe_{uuid.uuid4().hex[:8]}"
    envelope = _envelope(event_type, {"note": "old"})
    engine = create_engine(consumer_db)
    with engine.begin() as conn:  # what a hand-typed ``uow.claim(event, consumer="<service>.<method>")`` wrote
        conn.execute(insert(inbox_table).values(event_id=envelope["id"], consumer=f"{name}.on_event",
                                                event_type=event_type, processed_at=SystemClock().now()))
    gate, results = eventlet.event.Event(), []
    gate.send(True)
    container = container_factory(_gated_service(name, event_type, gate, results),
                                  {"DATABASE_URL": consumer_db, "OUTBOX_RELAY": "off"})

    with entrypoint_waiter(container, "on_event", timeout=10) as handled:
        _publish(amqp_uri, "testsrc", event_type, envelope)

    assert handled.get() is None
    assert results == []
    assert _count_effects(consumer_db, envelope["id"]) == 0
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(inbox_table)) == 1
    engine.dispose()
