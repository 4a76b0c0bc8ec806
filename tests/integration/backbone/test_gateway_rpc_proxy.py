"""The gateway's RPC proxy against a real broker and a real Nameko service: nameko's wire protocol both ways."""

import uuid
from datetime import UTC, datetime

import eventlet
import pytest
from eventlet.event import Event
from nameko import exceptions
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService

from gateway.rpc import AmqpProxy, RpcPool, register_remote_errors
from helpdesk_common.nameko_ext import Observability, rpc
from helpdesk_contracts.errors import ServiceError, ValidationFailed

pytestmark = pytest.mark.integration

RELEASE: dict[str, Event] = {}


class EchoService:
    name = f"echo_{uuid.uuid4().hex[:8]}"
    observability = Observability()  # binds the caller's correlation id to the worker, as in every service

    @rpc
    def echo(self, value, *, twice=False):
        return [value, value] if twice else value

    @rpc
    def correlation(self):
        from helpdesk_common.context import get_correlation_id

        return get_correlation_id()

    @rpc(expected_exceptions=ServiceError)
    def refuse(self):
        raise ValidationFailed("Title is required.", {"title": ["Missing."]})

    @rpc
    def crash(self):
        raise KeyError("boom")

    @rpc
    def unserializable(self):
        return object()

    @rpc
    def wait_for(self, key):
        RELEASE[key].wait()
        return key


@pytest.fixture
def container(container_factory):
    return container_factory(EchoService)


@pytest.fixture
def service(container):
    return EchoService.name


@pytest.fixture(autouse=True)
def typed_errors():
    """Rebuild contract errors as their classes, as the gateway does, for these tests only: nameko's
    registry is global, and other tests' standalone proxies expect ``RemoteError``."""
    saved = dict(exceptions.registry)
    register_remote_errors()
    yield
    exceptions.registry.clear()
    exceptions.registry.update(saved)


@pytest.fixture
def proxy(amqp_uri):
    started = AmqpProxy(amqp_uri)
    started.start()
    yield started
    started.stop()


def call(proxy, service, method, *args, timeout=10.0, correlation_id=None, **kwargs):
    return proxy.call(service, method, args, kwargs, timeout=timeout, correlation_id=correlation_id)


def test_a_call_returns_the_service_result_with_json_types_intact(proxy, service):
    when = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    assert call(proxy, service, "echo", {"n": 1, "at": when.isoformat()}, twice=True) == [
        {"n": 1, "at": when.isoformat()}
    ] * 2


def test_one_proxy_serves_many_calls_in_turn(proxy, service):
    assert [call(proxy, service, "echo", i) for i in range(20)] == list(range(20))


def test_the_correlation_id_reaches_the_worker(proxy, service):
    assert call(proxy, service, "correlation", correlation_id="corr-42") == "corr-42"
    assert call(proxy, service, "correlation") not in (None, "corr-42")  # the service makes its own


def test_a_contract_error_comes_back_as_its_own_class(proxy, service):
    with pytest.raises(ValidationFailed) as raised:
        call(proxy, service, "refuse")

    assert (raised.value.message, raised.value.errors) == ("Title is required.", {"title": ["Missing."]})


def test_an_unexpected_error_comes_back_as_a_remote_error(proxy, service):
    with pytest.raises(RemoteError) as raised:
        call(proxy, service, "crash")

    assert raised.value.exc_type == "KeyError"


def test_a_service_nobody_serves_fails_at_once_rather_than_timing_out(proxy, service):
    # a timeout would raise RpcTimeout; the broker's basic.return must end the call first
    with pytest.raises(UnknownService):
        call(proxy, f"nobody_{uuid.uuid4().hex[:6]}", "ping", timeout=30.0)

    assert call(proxy, service, "echo", "still usable") == "still usable"


def test_a_timed_out_call_raises_and_its_late_reply_is_never_taken_for_a_later_call(proxy, service):
    RELEASE["late"] = Event()
    with pytest.raises(RpcTimeout):
        call(proxy, service, "wait_for", "late", timeout=0.3)
    RELEASE["late"].send(True)  # the first call's reply is now on its way to the same reply queue

    assert call(proxy, service, "echo", "fresh") == "fresh"


def test_a_stopped_proxy_is_not_healthy(amqp_uri):
    proxy = AmqpProxy(amqp_uri)
    proxy.start()
    assert proxy.is_healthy()

    proxy.stop()

    assert not proxy.is_healthy()


def test_the_pool_runs_calls_from_many_threads_at_once(amqp_uri, service):
    pool = RpcPool(amqp_uri, size=4, timeout=10.0)
    try:
        pile = eventlet.GreenPile(8)
        for i in range(32):
            pile.spawn(pool.call, service, "echo", i)
        assert sorted(pile) == list(range(32))
    finally:
        pool.close()


def test_a_result_that_cannot_be_serialized_comes_back_as_an_error_and_the_service_goes_on(proxy, service):
    with pytest.raises(RemoteError) as raised:
        call(proxy, service, "unserializable")

    assert raised.value.exc_type == "UnserializableValueError"
    assert call(proxy, service, "echo", "next") == "next"


def test_the_service_reopens_its_reply_connection_when_the_broker_dropped_it(proxy, container, service):
    assert call(proxy, service, "echo", "before") == "before"
    replies = next(ext for ext in container.extensions if hasattr(ext, "_replies"))._replies
    dropped = replies._broker.connection
    dropped.connection.sock.close()  # as if the broker had gone away and come back

    assert call(proxy, service, "echo", "after") == "after"
    assert replies._broker.connection is not dropped


def test_a_call_that_does_not_fit_the_method_is_refused_as_incorrect_signature(proxy, service):
    with pytest.raises(Exception) as raised:
        call(proxy, service, "echo", 1, 2, 3)

    assert type(raised.value).__name__ == "IncorrectSignature"
    assert call(proxy, service, "echo", value="by name") == "by name"
