"""A command acts once: a tickets process that dies between the commit of a create and its reply leaves
one ticket and one ``ticket.created``; RabbitMQ hands the request to the other process, which answers it
from the command's record (real processes, real broker, real database)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import create_engine, func, select

from gateway.rpc import AmqpProxy, Command
from helpdesk_common.commands import FAULT_EXIT_CODE, FAULT_SETTING
from helpdesk_common.db import commands_table, outbox_table
from helpdesk_common.stack import Stack, free_port, make_env
from services.tickets.adapters.orm import tickets as tickets_table

pytestmark = pytest.mark.integration

CUSTOMER = {"id": str(uuid.uuid4()), "role": "customer", "department_id": None, "organization_id": None}


def _wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        threading.Event().wait(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def _answers_ping(amqp_uri: str) -> bool:
    proxy = AmqpProxy(amqp_uri)
    proxy.start()
    try:
        return proxy.call("tickets", "ping", (), {}, timeout=2, correlation_id=None) == "pong"
    except Exception:  # not consuming yet (UnknownService) or not answering yet (timeout): ask again
        return False
    finally:
        proxy.stop()


@pytest.fixture
def created_events(amqp_uri):
    """A queue bound to the tickets events exchange for ``ticket.created``; yields a function counting its messages."""
    name = f"test-created-{uuid.uuid4().hex[:8]}"
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        exchange = Exchange("tickets.events", type="topic", durable=True, channel=channel)
        exchange.declare()
        queue = Queue(name, exchange=exchange, routing_key="ticket.created", durable=False, auto_delete=False,
                      channel=channel)
        queue.declare()

        def count() -> int:
            return queue.queue_declare(passive=True).message_count

        yield count
        queue.delete()


@pytest.fixture
def tickets_processes(tickets_db_url, amqp_uri, tmp_path):
    """Two tickets processes on one database and queue, each exiting right after committing a create."""
    env = make_env(amqp_uri=amqp_uri, database_urls={"tickets": tickets_db_url}, var_dir=tmp_path,
                   gateway_port=free_port(), extra={"ORGANIZATION_SYNC_SECONDS": "0", "OUTBOX_POLL_SECONDS": "0.2"})
    stack = Stack(env=env, log_dir=tmp_path, gateway_port=0)
    try:
        for name in ("tickets", "tickets.2"):
            stack.start(name, extra_env={FAULT_SETTING: "tickets.create",
                                         "TICKETS_METRICS_PORT": str(free_port())})
        _wait_for(lambda: _answers_ping(amqp_uri), timeout=60, what="no tickets process answered")
        # both consume before the create is sent: whichever takes it dies, and the other gets it again
        _wait_for(lambda: all(_answers_ping(amqp_uri) for _ in range(4)), timeout=30, what="tickets not steady")
        yield stack
    finally:
        stack.stop_all()


def test_create_redelivered_after_a_crash_acts_once(tickets_processes, tickets_db_url, amqp_uri, created_events):
    stack = tickets_processes
    command = Command(uuid.uuid4().hex, "")
    data = {"title": "Printer on fire", "description": "Smoke from tray 2"}
    outcome: dict = {}
    proxy = AmqpProxy(amqp_uri)
    proxy.start()

    def call():
        try:
            outcome["answer"] = proxy.call("tickets", "create", (data, CUSTOMER), {}, timeout=90,
                                           correlation_id="crash-test", command=command)
            outcome["replayed"] = proxy.replayed
        except Exception as exc:  # reported by the assertions below
            outcome["error"] = exc

    caller = threading.Thread(target=call)
    caller.start()
    died = _wait_for(lambda: [n for n, p in stack.processes.items() if p.poll() is not None], timeout=60,
                     what="no tickets process exited after its commit")
    caller.join(timeout=90)
    proxy.stop()

    assert [stack.processes[n].returncode for n in died] == [FAULT_EXIT_CODE], stack.logs(died[0])
    assert "error" not in outcome, outcome.get("error")
    assert outcome["replayed"] is True  # the survivor answered from the record, it did not create again
    survivor = next(name for name in stack.processes if name not in died)
    # ... found by the lookup of the redelivered request, not by running it and losing on the primary key
    assert "was run concurrently" not in stack.logs(survivor)
    assert outcome["answer"]["title"] == data["title"]
    engine = create_engine(tickets_db_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(tickets_table)) == 1
            assert conn.scalar(select(tickets_table.c.id)) == outcome["answer"]["id"]
            assert conn.scalar(select(func.count()).select_from(commands_table)) == 1

        def all_published():  # the survivor's sweep publishes what the dead process committed
            with engine.connect() as conn:
                pending = conn.scalar(select(func.count()).select_from(outbox_table)
                                      .where(outbox_table.c.published_at.is_(None)))
                total = conn.scalar(select(func.count()).select_from(outbox_table)
                                    .where(outbox_table.c.event_type == "ticket.created"))
            return pending == 0 and total

        assert _wait_for(all_published, timeout=45, what="the outbox was not published") == 1
    finally:
        engine.dispose()
    assert created_events() == 1


def test_concurrent_deliveries_of_one_command_act_once(container_factory, tickets_db_url, amqp_uri):
    from nameko.standalone.rpc import ServiceRpcProxy

    from services.tickets.service import TicketsService

    container_factory(TicketsService, {"DATABASE_URL": tickets_db_url})
    context = {"correlation_id": "twins", "command_id": uuid.uuid4().hex, "command_fingerprint": ""}
    data = {"title": "Twice delivered", "description": "Same command id, at once"}

    with ServiceRpcProxy("tickets", {"AMQP_URI": amqp_uri}, context_data=context, timeout=30) as proxy:
        replies = [proxy.create.call_async(data, CUSTOMER) for _ in range(4)]
        answers = [reply.result() for reply in replies]

    assert len({answer["id"] for answer in answers}) == 1
    engine = create_engine(tickets_db_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(tickets_table)) == 1
            assert conn.scalar(select(func.count()).select_from(outbox_table)
                               .where(outbox_table.c.event_type == "ticket.created")) == 1
    finally:
        engine.dispose()
