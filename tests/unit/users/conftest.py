"""Fixtures of the users unit tests: a fake clock, factories per aggregate and, for the handlers, a real
migrated database (SQLite file, or a throwaway PostgreSQL database when HELPDESK_TEST_POSTGRES_URL is set)."""

import functools
import uuid

import pytest

from helpdesk_common.clock import FakeClock
from helpdesk_common.db import infrastructure, make_engine
from helpdesk_common.testing import HandlerRunner, empty_tables, read_outbox
from services.users import handlers
from services.users.adapters.orm import metadata, start_mappers
from services.users.adapters.passwords import Argon2PasswordHasher
from services.users.adapters.uow import UsersUnitOfWork
from services.users.domain.model import Department, Organization, RefreshToken, User

PASSWORD = "s3cret-pass"


@pytest.fixture
def clock():
    return FakeClock()


# domain factories (no database) ------------------------------------------------------------------


@pytest.fixture
def user_factory(clock):
    """Build a domain User; keyword overrides win."""

    def make(**overrides) -> User:
        fields = {
            "id": str(uuid.uuid4()),
            "email": f"user-{uuid.uuid4().hex[:8]}@example.com",
            "name": "Ana Agent",
            "password_hash": "not-a-hash",
            "role": "agent",
            "now": clock.now(),
        }
        fields.update(overrides)
        return User(**fields)

    return make


@pytest.fixture
def department_factory(clock):
    def make(**overrides) -> Department:
        fields = {"id": str(uuid.uuid4()), "name": "Support", "now": clock.now()}
        fields.update(overrides)
        return Department(**fields)

    return make


@pytest.fixture
def organization_factory(clock):
    def make(**overrides) -> Organization:
        fields = {"id": str(uuid.uuid4()), "name": "Acme", "now": clock.now()}
        fields.update(overrides)
        return Organization(**fields)

    return make


@pytest.fixture
def refresh_token_factory(clock):
    def make(**overrides) -> RefreshToken:
        fields = {
            "jti": uuid.uuid4().hex,
            "family_id": uuid.uuid4().hex,
            "user_id": str(uuid.uuid4()),
            "now": clock.now(),
        }
        fields.update(overrides)
        return RefreshToken(**fields)

    return make


# handlers on a real database ----------------------------------------------------------------------


@pytest.fixture
def passwords():
    # the smallest parameters argon2 accepts (memory_cost >= 8 * parallelism, parallelism is 1)
    return Argon2PasswordHasher(time_cost=1, memory_cost=8)


@pytest.fixture(scope="session")
def users_unit_db_url(session_database):
    """One migrated database for the whole session (creating one per test costs 0.4 s on PostgreSQL)."""
    return session_database("users")


@pytest.fixture
def engine(users_unit_db_url):
    start_mappers()
    engine = make_engine(users_unit_db_url)
    empty_tables(engine, metadata, infrastructure)
    yield engine
    engine.dispose()


@pytest.fixture
def handler_runner(engine, clock, passwords):
    runner = HandlerRunner(engine, producer="users", clock=clock, collaborators={"passwords": passwords},
                           uow_class=UsersUnitOfWork)
    yield runner
    runner.close()


@pytest.fixture
def new_uow(handler_runner):
    """Open units of work the way the service's Database provider does (one per call)."""
    return handler_runner.new_uow


@pytest.fixture
def run(handler_runner):
    """Call a handler with a fresh unit of work (and the fast hasher when it takes one), like one RPC."""
    return handler_runner


@pytest.fixture
def outbox(engine):
    """Read the committed outbox: ``outbox()`` gives every envelope in order, ``outbox("type")`` only that type."""
    return functools.partial(read_outbox, engine)


@pytest.fixture
def create_user(run):
    """Create a user through the handler; keyword overrides go into the payload."""

    def make(**overrides) -> dict:
        data = {"email": f"user-{uuid.uuid4().hex[:8]}@example.com", "name": "Some One", "password": PASSWORD}
        data.update(overrides)
        return run(handlers.create_user, data)

    return make


@pytest.fixture
def create_department(run):
    def make(**overrides) -> dict:
        data = {"name": f"Dept {uuid.uuid4().hex[:6]}"}
        data.update(overrides)
        return run(handlers.create_department, data)

    return make


@pytest.fixture
def create_organization(run):
    def make(**overrides) -> dict:
        data = {"name": f"Org {uuid.uuid4().hex[:6]}"}
        data.update(overrides)
        return run(handlers.create_organization, data)

    return make
