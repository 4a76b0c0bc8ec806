"""Fixtures of the tickets unit tests: a fake clock, callers of every role, factories per aggregate and, for
the handlers, a real migrated database (SQLite file, or a throwaway PostgreSQL database when
HELPDESK_TEST_POSTGRES_URL is set) with a fake users directory."""

import functools

import pytest
from sqlalchemy import insert, text
from sqlalchemy import inspect as inspect_db

from helpdesk_common.clock import FakeClock
from helpdesk_common.db import infrastructure, make_engine
from helpdesk_common.testing import HandlerRunner, empty_tables, read_outbox
from services.tickets import handlers
from services.tickets.adapters.orm import counters, metadata, start_mappers
from services.tickets.adapters.uow import TicketsUnitOfWork
from services.tickets.domain import rules
from services.tickets.domain.model import Ticket
from tests.unit.tickets.factories import DEPT_A, DEPT_B, ORG, FakeDirectory, actor, new_id


@pytest.fixture
def clock():
    return FakeClock()


# callers ------------------------------------------------------------------------------------------


@pytest.fixture
def directory():
    return FakeDirectory()


@pytest.fixture
def customer():
    return actor("customer", organization_id=ORG)


@pytest.fixture
def other_customer():
    return actor("customer", organization_id=ORG)


@pytest.fixture
def agent(directory):
    """An agent of department A, known to the directory."""
    return actor("agent", department_id=DEPT_A, id=directory.add("agent", department_id=DEPT_A)["id"])


@pytest.fixture
def agent_b(directory):
    """An agent of department B, known to the directory."""
    return actor("agent", department_id=DEPT_B, id=directory.add("agent", department_id=DEPT_B)["id"])


@pytest.fixture
def supervisor(directory):
    return actor("supervisor", department_id=DEPT_B, id=directory.add("supervisor", department_id=DEPT_B)["id"])


@pytest.fixture
def admin(directory):
    return actor("admin", id=directory.add("admin")["id"])


@pytest.fixture
def system():
    return actor("system", id=None)


# domain factories (no database) ------------------------------------------------------------------


@pytest.fixture
def ticket_factory(clock):
    """Build a domain Ticket in status new; keyword overrides win."""

    def make(**overrides) -> Ticket:
        fields = {
            "id": new_id(),
            "number": rules.format_number(1),
            "title": "Printer on fire",
            "description": "Smoke everywhere.",
            "requester_id": new_id(),
            "now": clock.now(),
        }
        fields.update(overrides)
        return Ticket(**fields)

    return make


@pytest.fixture
def actor_factory():
    """Build a domain Actor (what handlers make of the actor dict)."""

    def make(role: str = "agent", **overrides) -> rules.Actor:
        fields = {"id": new_id(), "role": role}
        fields.update(overrides)
        return rules.Actor(**fields)

    return make


# handlers on a real database ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def tickets_unit_db_url(session_database):
    """One migrated database for the whole session (creating one per test costs 0.4 s on PostgreSQL)."""
    return session_database("tickets")


@pytest.fixture(scope="session")
def shared_engine(tickets_unit_db_url):
    """One engine (and its pooled connections) for the session; tests start from emptied tables."""
    start_mappers()
    engine = make_engine(tickets_unit_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(shared_engine):
    with shared_engine.begin() as conn:
        # the embedded search index is raw SQL outside the ORM metadata (on SQLite its FTS5 twin follows by trigger)
        if inspect_db(conn).has_table("ticket_search"):
            conn.execute(text("DELETE FROM ticket_search"))
    empty_tables(shared_engine, metadata, infrastructure)
    with shared_engine.begin() as conn:  # the migration seeds the counter row; emptying the tables removed it
        conn.execute(insert(counters).values(name="ticket", value=0))
    return shared_engine


@pytest.fixture
def handler_runner(engine, clock, directory):
    runner = HandlerRunner(engine, producer="tickets", clock=clock, collaborators={"directory": directory},
                           uow_class=TicketsUnitOfWork)
    yield runner
    runner.close()


@pytest.fixture
def new_uow(handler_runner):
    """Open units of work the way the service's Database provider does (one per call)."""
    return handler_runner.new_uow


@pytest.fixture
def run(handler_runner):
    """Call a handler with a fresh unit of work (and the fake directory when it takes one), like one RPC."""
    return handler_runner


@pytest.fixture
def outbox(engine):
    """Read the committed outbox: ``outbox()`` gives every envelope in order, ``outbox("type")`` only that type."""
    return functools.partial(read_outbox, engine)


@pytest.fixture
def create_ticket(run, customer):
    """Open a ticket through the handler (as ``customer`` unless ``by`` is given); overrides go into the payload."""

    def make(by: dict | None = None, **overrides) -> dict:
        data = {"title": "VPN is down", "description": "Since this morning."}
        data.update(overrides)
        return run(handlers.open_ticket, data, by or customer)

    return make
