"""The gateway's revocation feed on a real broker: events reach every feed, and a reconnect catches up."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlparse

import pytest
from kombu import Connection

from gateway.revocation import USERS_EVENTS, RevocationFeed, RevocationStore, epoch
from helpdesk_common.relay import event_exchange
from tests.e2e.tcpproxy import TcpProxy

HORIZON = 900.0


def _wait_for(condition, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"{what} not met within {timeout} s")


def _publish_deactivation(amqp_uri: str, user_id: str, moment: str) -> None:
    envelope = {"id": uuid.uuid4().hex, "type": "user.deactivated", "version": 1, "occurred_at": moment,
                "producer": "users", "data": {"user": {"id": user_id, "tokens_valid_after": moment}}}
    with Connection(amqp_uri) as connection:
        producer = connection.Producer(serializer="json")
        producer.publish(envelope, exchange=event_exchange(USERS_EVENTS), routing_key="user.deactivated",
                         declare=[event_exchange(USERS_EVENTS)])


class CatchUp:
    """The users service's list_revocations, answering what the test says, counting calls."""

    def __init__(self):
        self.revocations: list[dict] = []
        self.calls: list[str] = []
        self.failures = 0

    def __call__(self, since: str) -> list[dict]:
        self.calls.append(since)
        if self.failures:
            self.failures -= 1
            raise TimeoutError("users did not answer")
        return list(self.revocations)


@pytest.fixture
def feeds():
    started: list[RevocationFeed] = []

    def start(amqp_uri: str, catch_up: CatchUp) -> RevocationFeed:
        feed = RevocationFeed(amqp_uri=amqp_uri, store=RevocationStore(horizon=HORIZON), catch_up=catch_up,
                              retry_seconds=0.2).start()
        started.append(feed)
        return feed

    yield start
    for feed in started:
        feed.stop()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def test_every_feed_hears_a_deactivation(amqp_uri, feeds):
    first, second = feeds(amqp_uri, CatchUp()), feeds(amqp_uri, CatchUp())
    assert first.wait_caught_up(5) and second.wait_caught_up(5)
    user_id, moment = str(uuid.uuid4()), _now_iso()

    _publish_deactivation(amqp_uri, user_id, moment)

    for feed in (first, second):
        _wait_for(lambda feed=feed: feed.store.refuses(user_id, epoch(moment) - 0.001), what="revocation heard")


def test_catch_up_asks_for_a_tokens_lifetime_and_is_retried_until_it_answers(amqp_uri, feeds):
    catch_up = CatchUp()
    catch_up.failures = 2
    user_id, moment = str(uuid.uuid4()), _now_iso()
    catch_up.revocations = [{"user_id": user_id, "tokens_valid_after": moment}]

    feed = feeds(amqp_uri, catch_up)

    assert feed.wait_caught_up(5)
    assert len(catch_up.calls) == 3
    assert abs(epoch(catch_up.calls[-1]) - (time.time() - HORIZON)) < 5
    assert feed.store.refuses(user_id, epoch(moment) - 0.001)


def test_a_feed_keeps_what_it_knows_while_the_broker_is_away_and_catches_up_on_reconnect(amqp_uri, feeds):
    target = urlparse(amqp_uri)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672).start()
    via_proxy = target._replace(netloc=f"{target.username or 'guest'}:{target.password or 'guest'}@127.0.0.1:{proxy.port}")
    catch_up = CatchUp()
    try:
        feed = feeds(via_proxy.geturl(), catch_up)
        assert feed.wait_caught_up(5)
        known, missed = str(uuid.uuid4()), str(uuid.uuid4())
        known_at = _now_iso()
        _publish_deactivation(amqp_uri, known, known_at)
        _wait_for(lambda: feed.store.refuses(known, epoch(known_at) - 0.001), what="revocation heard")

        proxy.cut()
        missed_at = _now_iso()
        _publish_deactivation(amqp_uri, missed, missed_at)  # nobody's queue: the feed's went with its connection
        catch_up.revocations = [{"user_id": missed, "tokens_valid_after": missed_at}]
        calls_before = len(catch_up.calls)
        assert feed.store.refuses(known, epoch(known_at) - 0.001)  # kept while away
        proxy.restore()

        _wait_for(lambda: len(catch_up.calls) > calls_before, timeout=15, what="catch-up after reconnect")
        _wait_for(lambda: feed.store.refuses(missed, epoch(missed_at) - 0.001), what="missed revocation caught up")
        assert feed.store.refuses(known, epoch(known_at) - 0.001)
    finally:
        proxy.close()
