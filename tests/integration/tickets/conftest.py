"""Fixtures of the tickets integration tests: migrated databases of their own for the tickets and users
services, both services running on the real broker, and RPC proxies carrying a correlation id."""

import uuid

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from helpdesk_common.testing import REPO_ROOT, migrate

TICKETS_INI = REPO_ROOT / "services/tickets/alembic.ini"
USERS_INI = REPO_ROOT / "services/users/alembic.ini"


@pytest.fixture
def tickets_db_url(database_factory):
    url = database_factory.create("tickets")
    migrate(TICKETS_INI, url)
    return url


@pytest.fixture
def users_db_url(database_factory):
    url = database_factory.create("users")
    migrate(USERS_INI, url)
    return url


@pytest.fixture
def services(container_factory, users_db_url, tickets_db_url):
    """The users and tickets services, each on its own database (the tickets one asks users about people)."""
    from services.tickets.service import TicketsService
    from services.users.service import UsersService

    return (
        container_factory(UsersService, {"DATABASE_URL": users_db_url}),
        container_factory(TicketsService, {"DATABASE_URL": tickets_db_url}),
    )


@pytest.fixture
def correlation_id():
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def tickets_rpc(services, amqp_uri, correlation_id):
    """A tickets proxy that sends a correlation id with every call, as the gateway does."""
    config = {"AMQP_URI": amqp_uri}
    with ServiceRpcProxy("tickets", config, context_data={"correlation_id": correlation_id}, timeout=10) as proxy:
        yield proxy


@pytest.fixture
def users_rpc(services, amqp_uri):
    with ServiceRpcProxy("users", {"AMQP_URI": amqp_uri}, timeout=10) as proxy:
        yield proxy
