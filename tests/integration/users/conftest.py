import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from helpdesk_common.testing import REPO_ROOT, migrate
from services.users.service import UsersService

ALEMBIC_INI = REPO_ROOT / "services/users/alembic.ini"


@pytest.fixture
def users_db_url(database_factory):
    url = database_factory.create("users")
    migrate(ALEMBIC_INI, url)
    return url


@pytest.fixture
def users_container(container_factory, users_db_url):
    return container_factory(UsersService, {"DATABASE_URL": users_db_url})


@pytest.fixture
def users_rpc(users_container, amqp_uri):
    with ServiceRpcProxy("users", {"AMQP_URI": amqp_uri}, timeout=10) as proxy:
        yield proxy
