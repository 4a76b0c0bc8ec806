import pytest
from nameko.standalone.rpc import ServiceRpcProxy


@pytest.fixture
def users_db_url(service_database):
    return service_database("users")


@pytest.fixture
def users_container(service_container, users_db_url):
    return service_container("users", DATABASE_URL=users_db_url)


@pytest.fixture
def users_rpc(users_container, amqp_uri):
    with ServiceRpcProxy("users", {"AMQP_URI": amqp_uri}, timeout=10) as proxy:
        yield proxy
