"""``helpdesk_common.amqp.BrokerChannel`` on a real broker: reconnect after a lost connection, quiet close."""

import uuid

import amqp
import pytest
from kombu import Connection, Queue
from kombu.exceptions import OperationalError

from helpdesk_common.amqp import BrokerChannel

pytestmark = pytest.mark.integration


@pytest.fixture
def queue_name(amqp_uri):
    name = f"test.channel-{uuid.uuid4().hex[:8]}"
    with Connection(amqp_uri) as conn:
        Queue(name, auto_delete=False, durable=False).bind(conn.default_channel).declare()
    yield name
    with Connection(amqp_uri) as conn:
        conn.default_channel.queue_delete(name)


def _take(amqp_uri, queue_name):
    with Connection(amqp_uri) as conn:
        message = conn.default_channel.basic_get(queue_name, no_ack=True)
    return None if message is None else message.body


def test_publish_reconnects_after_the_broker_connection_was_lost(amqp_uri, queue_name):
    opened = []
    broker = BrokerChannel(amqp_uri, on_open=opened.append, name="test")
    broker.publish(amqp.Message("one"), exchange="", routing_key=queue_name)
    lost = broker.connection
    lost.connection.sock.close()  # as if the broker had gone away and come back

    broker.publish(amqp.Message("two"), exchange="", routing_key=queue_name)

    assert broker.connection is not lost
    assert len(opened) == 2 and opened[0] is not opened[1]  # the set-up ran again on the new channel
    assert [_take(amqp_uri, queue_name), _take(amqp_uri, queue_name)] == ["one", "two"]
    broker.close()


def test_close_is_quiet_on_a_dead_connection_and_open_connects_again(amqp_uri, queue_name):
    broker = BrokerChannel(amqp_uri, confirms=True, name="test")
    broker.open()
    broker.connection.connection.sock.close()

    broker.close()
    broker.close()  # twice, and on a dead connection: nothing raised

    assert (broker.connection, broker.channel, broker.connected) == (None, None, False)
    broker.open().basic_publish(amqp.Message("confirmed"), exchange="", routing_key=queue_name)  # waits for the ack
    assert _take(amqp_uri, queue_name) == "confirmed"
    broker.close()


def test_open_fails_at_once_when_no_broker_answers():
    broker = BrokerChannel("amqp://guest:guest@127.0.0.1:1/", connect_timeout=2, name="test")
    with pytest.raises(OperationalError):
        broker.open()
    assert broker.connection is None
