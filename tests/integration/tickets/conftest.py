"""Fixtures of the tickets integration tests: migrated databases of their own for the tickets and users
services, both services running on the real broker, and RPC proxies carrying a correlation id."""

import uuid

import pytest
from nameko.standalone.rpc import ServiceRpcProxy


@pytest.fixture
def tickets_db_url(service_database):
    return service_database("tickets")


@pytest.fixture
def users_db_url(service_database):
    return service_database("users")


@pytest.fixture
def services(service_container, users_db_url, tickets_db_url):
    """The users and tickets services, each on its own database (the tickets one asks users about people)."""
    return (
        service_container("users", DATABASE_URL=users_db_url),
        service_container("tickets", DATABASE_URL=tickets_db_url),
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
