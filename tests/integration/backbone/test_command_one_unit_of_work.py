"""An RPC command opens one unit of work: its commit is held until the answer is recorded, holding its
connection, so a second unit of work in the same command (which would commit on its own, and on SQLite
wait forever for the one connection) is refused at once with a message that says why."""

import uuid

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine

from helpdesk_common.context import COMMAND_ID_KEY
from helpdesk_common.db import infrastructure
from helpdesk_common.nameko_ext import Database, rpc

pytestmark = pytest.mark.integration


class TwoUnits:
    name = "two_units"
    db = Database()

    @rpc
    def one(self):
        with self.db() as uow:
            uow.commit()
        return "one"

    @rpc
    def two(self):
        with self.db() as uow:
            uow.commit()
        with self.db() as uow:
            uow.commit()
        return "two"


@pytest.fixture
def proxy_for(container_factory, database_factory, amqp_uri):
    url = database_factory.create("two_units")
    engine = create_engine(url)
    infrastructure.create_all(engine)
    engine.dispose()
    container_factory(TwoUnits, {"DATABASE_URL": url, "OUTBOX_RELAY": "off"})

    def proxy(command_id=None):
        context = {COMMAND_ID_KEY: command_id} if command_id else {}
        return ServiceRpcProxy("two_units", {"AMQP_URI": amqp_uri}, context_data=context, timeout=10)

    return proxy


def test_a_command_opening_a_second_unit_of_work_is_refused_at_once(proxy_for):
    with proxy_for(uuid.uuid4().hex) as proxy:
        assert proxy.one() == "one"
    with proxy_for(uuid.uuid4().hex) as proxy, pytest.raises(RemoteError) as refused:
        proxy.two()

    assert refused.value.exc_type == "RuntimeError"
    assert "opened a second unit of work while its command's commit is held" in refused.value.value


def test_a_query_without_a_command_id_may_open_several(proxy_for):
    with proxy_for() as proxy:
        assert proxy.two() == "two"
