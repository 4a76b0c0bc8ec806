"""Every service's RPC queue has exactly one consumer per process.

nameko gives each distinct RPC consumer extension a consumer of ``rpc-<service>``: a service that mixes
nameko's own ``@rpc`` with ``helpdesk_common.nameko_ext.rpc`` gets two, and the broker hands about half
the calls to the one whose replies skip ours. The services are found from ``services/*/service.py``, so
a new one is checked without editing this file.
"""

from __future__ import annotations

import pytest
from kombu import Connection
from nameko.rpc import rpc as nameko_rpc

from helpdesk_common.nameko_ext import rpc
from helpdesk_common.services import discover
from helpdesk_common.testing import amqp_uri_for_tests, private_vhost, service_test_config

pytestmark = pytest.mark.integration

SERVICES = discover()


@pytest.fixture(scope="module")
def amqp_uri():
    """A virtual host of this module's own: the services declare durable event queues (tickets binds
    ``department.*``), which would route events that later tests of the session expect to be unroutable."""
    with private_vhost(amqp_uri_for_tests()) as uri:
        yield uri


def rpc_consumers(amqp_uri: str, service: str) -> int:
    """Return how many consumers the broker counts on ``rpc-<service>`` (a passive declare reports it)."""
    with Connection(amqp_uri) as conn:
        _, _, consumers = conn.default_channel.queue_declare(f"rpc-{service}", passive=True)
    return consumers


class MixedEntrypointsService:
    """What the lint rule forbids: one entrypoint of ours and one of nameko's own on one service."""

    name = "kit_mixed_entrypoints"

    @rpc
    def ours(self):
        """Answer through helpdesk_common's RPC consumer."""
        return "ours"

    @nameko_rpc
    def theirs(self):
        """Answer through nameko's RPC consumer."""
        return "theirs"


def test_services_are_discovered():
    assert {"users", "tickets"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_service_rpc_queue_has_one_consumer(service, service_container, amqp_uri):
    container = service_container(service)
    # started as every service's tests start it: with the settings of its own services/<name>/testing.py
    assert service_test_config(service).items() <= container.config.items()
    assert rpc_consumers(amqp_uri, service) == 1


def test_mixing_nameko_rpc_gives_a_second_consumer(container_factory, amqp_uri):
    container_factory(MixedEntrypointsService)
    assert rpc_consumers(amqp_uri, MixedEntrypointsService.name) == 2
