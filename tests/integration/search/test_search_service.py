"""Search through the running tickets service on the real broker: the embedded default, Elasticsearch down
(writes go on, search answers SearchUnavailable, the feed's events are dead-lettered rather than lost), and
the Elasticsearch feed end to end when ELASTICSEARCH_URL is set."""

import os
import socket
import time
import uuid

import pytest
from kombu import Connection, Queue
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from helpdesk_common.nameko_ext import ReliableEventHandler

pytestmark = pytest.mark.integration


@pytest.fixture
def tickets_db_url(service_database):
    return service_database("tickets")


@pytest.fixture
def start_tickets(service_container, tickets_db_url, monkeypatch):
    def start(**config):
        if "ELASTICSEARCH_URL" not in config:
            monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)  # the embedded default, whatever the shell has
        return service_container("tickets", **{"DATABASE_URL": tickets_db_url, **config})

    return start


@pytest.fixture
def tickets_rpc(amqp_uri):
    with ServiceRpcProxy("tickets", {"AMQP_URI": amqp_uri}, timeout=15) as proxy:
        yield proxy


def customer():
    return {"id": str(uuid.uuid4()), "role": "customer"}


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_letters(amqp_uri: str, queue_name: str, *, ticket_id: str, timeout: float = 20.0) -> list[dict]:
    """Wait for dead-lettered events about ``ticket_id``; leave every message in the queue."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Connection(amqp_uri) as conn:
            simple = conn.SimpleQueue(Queue(queue_name, durable=True))
            bodies = []
            while True:
                try:
                    bodies.append(simple.get(block=True, timeout=0.5).payload)
                except simple.Empty:
                    break
            simple.close()  # unacked: back in the queue
        mine = [b for b in bodies if b["data"]["ticket"]["id"] == ticket_id]
        if mine:
            return mine
    raise AssertionError(f"no dead-lettered event about {ticket_id} in {queue_name} within {timeout} s")


def test_search_finds_a_ticket_created_a_moment_before(start_tickets, tickets_rpc):
    start_tickets()
    me = customer()
    ticket = tickets_rpc.create({"title": "La cámara no enciende", "description": "Desde ayer."}, me)

    result = tickets_rpc.search(me, "camara")
    listed = tickets_rpc.list(me, {"q": "camara"})

    assert [item["id"] for item in result["items"]] == [ticket["id"]]
    assert "<mark>cámara</mark>" in result["items"][0]["highlight"]
    assert listed["total"] == 1
    assert tickets_rpc.search(customer(), "camara")["total"] == 0


def test_search_without_words_is_rejected(start_tickets, tickets_rpc):
    start_tickets()

    with pytest.raises(RemoteError) as raised:
        tickets_rpc.search(customer(), "  ")
    assert raised.value.exc_type == "ValidationFailed"


def test_with_elasticsearch_down_writes_succeed_and_search_is_unavailable(start_tickets, tickets_rpc, amqp_uri):
    container = start_tickets(ELASTICSEARCH_URL=f"http://127.0.0.1:{unused_port()}",
                              ELASTICSEARCH_TIMEOUT_SECONDS="1", EVENT_RETRY_DELAYS_MS="50,100")
    me = customer()

    ticket = tickets_rpc.create({"title": "Router caído", "description": "Sin conexión."}, me)
    reply = tickets_rpc.add_comment(ticket["id"], {"body": "¿Desde cuándo?"}, me)

    assert reply["ticket_id"] == ticket["id"]
    assert tickets_rpc.list(me)["total"] == 1  # the list without words never needs the index
    for call in (lambda: tickets_rpc.search(me, "router"), lambda: tickets_rpc.list(me, {"q": "router"})):
        with pytest.raises(RemoteError) as raised:
            call()
        assert raised.value.exc_type == "SearchUnavailable"
    feed = next(ext for ext in container.entrypoints
                if isinstance(ext, ReliableEventHandler) and ext.event_type == "ticket.created")
    parked = dead_letters(amqp_uri, feed.dead_letter_queue.name, ticket_id=ticket["id"])
    assert parked[0]["type"] == "ticket.created"


@pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"), reason="ELASTICSEARCH_URL is not set: no Elasticsearch")
def test_elasticsearch_is_fed_from_ticket_events(start_tickets, tickets_rpc):
    from services.tickets.adapters.search.elastic import make_client
    from tests.unit.search.conftest import drop_elasticsearch_alias

    alias = f"tickets-it-{uuid.uuid4().hex[:8]}"
    container = start_tickets(ELASTICSEARCH_URL=os.environ["ELASTICSEARCH_URL"], ELASTICSEARCH_INDEX=alias)
    me = customer()
    client = make_client(os.environ["ELASTICSEARCH_URL"])
    try:
        ticket = tickets_rpc.create({"title": "Impresora atascada", "description": "Bandeja dos."}, me)
        def comment_fed(worker_ctx, result, exc_info):
            return exc_info is None and worker_ctx.args[0].type == "ticket.commented"

        with entrypoint_waiter(container, "feed_search_index", callback=comment_fed, timeout=30):
            tickets_rpc.add_comment(ticket["id"], {"body": "Probado con otro tóner"}, me)
        client.indices.refresh(index=alias)  # searchable now, not at the next refresh interval

        result = tickets_rpc.search(me, "toner")
        assert [item["id"] for item in result["items"]] == [ticket["id"]]
        assert tickets_rpc.search(customer(), "impresora")["total"] == 0
    finally:
        drop_elasticsearch_alias(client, alias)
        client.close()
