"""Fixtures of the automation integration tests: the users, tickets and automation services on the real
broker, each on a database of its own, in a virtual host of each test's own (the automation service's
durable event queues would otherwise keep one test's events for the next test's router)."""

import uuid

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from helpdesk_common.testing import amqp_uri_for_tests, private_vhost


@pytest.fixture
def amqp_uri():
    with private_vhost(amqp_uri_for_tests()) as uri:
        yield uri


@pytest.fixture
def automation_db_url(service_database):
    return service_database("automation")


@pytest.fixture
def services(service_container):
    """The users and tickets services (the router's sources and the tickets service it acts through)."""
    return service_container("users"), service_container("tickets")


@pytest.fixture
def router(services, service_container, automation_db_url):
    """One automation process."""
    return service_container("automation", DATABASE_URL=automation_db_url)


def _proxy(name, amqp_uri):
    return ServiceRpcProxy(name, {"AMQP_URI": amqp_uri}, timeout=15)


@pytest.fixture
def users_rpc(services, amqp_uri):
    with _proxy("users", amqp_uri) as proxy:
        yield proxy


@pytest.fixture
def tickets_rpc(services, amqp_uri):
    with _proxy("tickets", amqp_uri) as proxy:
        yield proxy


@pytest.fixture
def automation_rpc(services, amqp_uri):
    with _proxy("automation", amqp_uri) as proxy:
        yield proxy


@pytest.fixture
def admin(users_rpc):
    user = users_rpc.create_user({"email": f"admin-{uuid.uuid4().hex[:8]}@example.com", "name": "Admin",
                                  "password": "Adm1n-pass", "role": "admin"})
    return {"id": user["id"], "role": "admin", "department_id": None, "organization_id": None}


@pytest.fixture
def customer(users_rpc):
    user = users_rpc.create_user({"email": f"ana-{uuid.uuid4().hex[:8]}@example.com", "name": "Ana",
                                  "password": "Cust0mer-pass", "role": "customer"})
    return {"id": user["id"], "role": "customer", "department_id": None, "organization_id": None}
