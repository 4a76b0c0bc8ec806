"""Fixtures of the automation unit tests: a fake clock, the in-memory unit of work and services for the
handler tests, and, for the repositories, one real migrated database for the session (SQLite file, or a
throwaway PostgreSQL database when HELPDESK_TEST_POSTGRES_URL is set) emptied before each test."""

import pytest
from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import FakeClock
from helpdesk_common.db import infrastructure, make_engine
from helpdesk_common.testing import empty_tables
from services.automation.adapters.orm import metadata
from services.automation.adapters.uow import AutomationUnitOfWork
from tests.unit.automation.fakes import FakeAutomationUnitOfWork, FakeDirectory, FakeTicketDesk


@pytest.fixture
def clock():
    return FakeClock()


# handlers on fakes -------------------------------------------------------------------------------


@pytest.fixture
def uow(clock):
    return FakeAutomationUnitOfWork(clock)


@pytest.fixture
def desk():
    return FakeTicketDesk()


@pytest.fixture
def directory():
    return FakeDirectory()


# repositories on a real database -----------------------------------------------------------------


@pytest.fixture(scope="session")
def automation_unit_db_url(session_database):
    """One migrated database for the whole session (creating one per test costs 0.4 s on PostgreSQL)."""
    return session_database("automation")


@pytest.fixture(scope="session")
def shared_engine(automation_unit_db_url):
    engine = make_engine(automation_unit_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(shared_engine):
    empty_tables(shared_engine, metadata, infrastructure)
    return shared_engine


@pytest.fixture
def new_uow(engine, clock):
    """Open SQL units of work the way the service's Database provider does; all are closed after the test."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    opened = []

    def open_one() -> AutomationUnitOfWork:
        uow = AutomationUnitOfWork(factory, producer="automation", clock=clock)
        opened.append(uow)
        return uow

    yield open_one
    for uow in opened:
        uow.close()
