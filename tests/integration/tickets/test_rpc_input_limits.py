"""RPC callers are clients too: the tickets service refuses arguments that break ``helpdesk_contracts.limits``
(NUL, lone surrogates, nesting, huge integers, pages and dates out of range) with ValidationFailed before any
worker runs, stores nothing, and keeps serving; on PostgreSQL no NUL reaches the database."""

import uuid

import pytest
from kombu import Connection, Exchange, Producer, Queue
from nameko.exceptions import RemoteError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DataError

from helpdesk_common.testing import backend
from helpdesk_contracts import limits
from helpdesk_contracts.errors import ValidationFailed

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-pass"


def nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def customer(users_rpc):
    email = f"c-{uuid.uuid4().hex[:8]}@example.com"
    user = users_rpc.register_customer({"email": email, "name": "Ana", "password": PASSWORD})
    return {k: user[k] for k in ("id", "role", "department_id", "organization_id")}


def refused(call) -> RemoteError:
    with pytest.raises(RemoteError) as error:
        call()
    assert error.value.exc_type == ValidationFailed.__name__
    return error.value


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "Printer\x00", "description": "Smoke"}, "data.title"),
        ({"title": "Printer", "description": "Smoke \ud800"}, "data.description"),
        ({"title": "Printer", "description": "Smoke", "metadata": {"deep": nested(limits.MAX_DEPTH + 5)}}, "data.metadata.deep"),
        ({"title": "Printer", "description": "Smoke", "metadata": {"n": 2**64}}, "data.metadata.n"),
        ({"title": "Printer", "description": "Smoke", "tags": ["ok", "t\x00"]}, "data.tags.1"),
    ],
    ids=["nul", "surrogate", "deep", "huge-int", "nul-in-a-list"],
)
def test_create_with_an_argument_past_the_limits_is_refused_and_stores_nothing(tickets_rpc, customer, data, field):
    error = refused(lambda: tickets_rpc.create(data, customer))

    assert field in error.value
    assert tickets_rpc.list(customer)["total"] == 0
    assert tickets_rpc.ping() == "pong"  # the service keeps serving


def test_the_users_service_refuses_the_same_way(users_rpc):
    error = refused(lambda: users_rpc.register_customer({"email": "a@example.com", "name": "Ana\ud800",
                                                         "password": PASSWORD}))

    assert "data.name" in error.value
    assert users_rpc.list_users({}, 1, 10)["total"] == 0


def test_nul_in_the_actor_is_refused(tickets_rpc, customer):
    error = refused(lambda: tickets_rpc.list({**customer, "role": "customer\x00"}))

    assert "actor.role" in error.value


def test_page_whose_offset_overflows_64_bits_is_refused(tickets_rpc, customer):
    for page in (limits.PAGE_MAX + 1, 2**70):
        error = refused(lambda page=page: tickets_rpc.list(customer, page=page, limit=100))
        assert "page" in error.value

    assert tickets_rpc.list(customer, page=limits.PAGE_MAX, limit=100)["items"] == []  # the last page is served


@pytest.mark.parametrize("field", ["created_from", "created_to"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_date_filter_leaving_years_1_to_9999_in_utc_is_refused(tickets_rpc, customer, field, moment):
    refused(lambda: tickets_rpc.list(customer, filters={field: moment}))
    refused(lambda: tickets_rpc.stats(customer, filters={field: moment}))


def test_a_message_too_deep_to_decode_is_dropped_without_stopping_the_service(tickets_rpc, amqp_uri, customer):
    # Python's JSON decoder gives up on it before any entrypoint runs: kombu logs it and acks it (the
    # caller gets its timeout); nothing is requeued forever and the next call is served.
    depth = 5000
    body = '{"args": [], "kwargs": {"actor": ' + "[" * depth + "]" * depth + "}}"
    with Connection(amqp_uri) as conn:
        Producer(conn.default_channel).publish(
            body, exchange=Exchange("nameko-rpc", type="topic", durable=True), routing_key="tickets.list",
            content_type="application/json", content_encoding="utf-8", reply_to="nowhere", correlation_id="deep",
        )

        assert tickets_rpc.list(customer)["total"] == 0
        _, waiting, _ = Queue("rpc-tickets", durable=True).bind(conn.default_channel).queue_declare(passive=True)
    assert waiting == 0


@pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL refuses NUL in text; SQLite stores it")
def test_no_nul_reaches_postgresql(tickets_rpc, tickets_db_url, customer):
    engine = create_engine(tickets_db_url)
    try:
        with engine.connect() as conn, pytest.raises(DataError):  # what a NUL past the guard would meet
            conn.execute(text("SELECT CAST(:value AS text)"), {"value": "a\x00b"})

        refused(lambda: tickets_rpc.create({"title": "a\x00b", "description": "Smoke"}, customer))

        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tickets")).scalar() == 0
    finally:
        engine.dispose()
