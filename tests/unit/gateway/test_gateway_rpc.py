"""``gateway.rpc``: the proxy pool, driven by scripted proxies (no broker)."""

from __future__ import annotations

import threading
import time

import kombu.exceptions
import pytest
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService, deserialize, serialize

from gateway.errors import ServiceTimeout, ServiceUnavailable, UnexpectedServiceError
from gateway.rpc import AmqpProxy, RpcPool, _redact
from helpdesk_common.context import set_correlation_id
from helpdesk_contracts.errors import UserNotFound


@pytest.fixture
def make_pool(fakes):
    """Return ``(pool, factory)`` for a pool whose proxies come from a ProxyFactory."""

    def make(*prepared, size=2, timeout=1.0):
        factory = fakes.ProxyFactory(*prepared)
        return RpcPool("amqp://guest:guest@127.0.0.1:5672/", size=size, timeout=timeout, proxy_factory=factory), factory

    return make


@pytest.fixture
def correlation_id():
    set_correlation_id("corr-7")
    yield "corr-7"
    set_correlation_id(None)


def test_call_answers_the_remote_result(make_pool, fakes):
    pool, _ = make_pool(fakes.ScriptedProxy(script=[{"id": "u1"}]))

    assert pool.call("users", "get_user", "u1") == {"id": "u1"}


def test_call_hands_the_method_and_arguments_to_the_proxy(make_pool):
    pool, factory = make_pool()

    pool.call("users", "list_available_agents", department_id="d1", skill=None)

    call = factory.made[0].calls[0]
    assert (call["service"], call["method"], call["args"], call["kwargs"]) == (
        "users",
        "list_available_agents",
        (),
        {"department_id": "d1", "skill": None},
    )


def test_call_passes_the_current_correlation_id(make_pool, correlation_id):
    pool, factory = make_pool()

    pool.call("users", "ping")

    assert factory.made[0].calls[0]["correlation_id"] == correlation_id


def test_call_waits_at_most_the_per_call_timeout(make_pool):
    pool, factory = make_pool(timeout=10.0)

    pool.call("users", "ping", rpc_timeout=0.5)

    assert 0 < factory.made[0].calls[0]["timeout"] <= 0.5


def test_call_reuses_a_healthy_proxy(make_pool):
    pool, factory = make_pool()

    pool.call("users", "ping")
    pool.call("users", "ping")

    assert len(factory.made) == 1


def test_call_maps_rpc_timeout_to_service_timeout(make_pool, fakes):
    pool, _ = make_pool(fakes.ScriptedProxy(script=[RpcTimeout(1.0)]))

    with pytest.raises(ServiceTimeout, match="users"):
        pool.call("users", "get_user", "u1")


def test_call_discards_a_proxy_that_timed_out(make_pool, fakes):
    timed_out = fakes.ScriptedProxy(script=[RpcTimeout(1.0)])
    pool, factory = make_pool(timed_out)
    with pytest.raises(ServiceTimeout):
        pool.call("users", "get_user", "u1")

    pool.call("users", "ping")

    assert timed_out.stopped
    assert len(factory.made) == 2


def test_call_maps_unknown_service_to_service_unavailable_naming_it(make_pool, fakes):
    pool, _ = make_pool(fakes.ScriptedProxy(script=[UnknownService("tickets")]))

    with pytest.raises(ServiceUnavailable, match="tickets"):
        pool.call("tickets", "ping")


def test_call_maps_a_refused_connection_to_service_unavailable(make_pool, fakes):
    pool, _ = make_pool(fakes.ScriptedProxy(start_error=ConnectionRefusedError(111, "Connection refused")))

    with pytest.raises(ServiceUnavailable, match="users"):
        pool.call("users", "ping")


def test_call_discards_a_proxy_whose_broker_went_away_mid_call(make_pool, fakes):
    broken = fakes.ScriptedProxy(script=[kombu.exceptions.OperationalError("Connection refused")])
    pool, factory = make_pool(broken)
    with pytest.raises(ServiceUnavailable):
        pool.call("users", "ping")

    pool.call("users", "ping")

    assert broken.stopped
    assert len(factory.made) == 2


def test_call_replaces_an_idle_proxy_whose_connection_died(make_pool):
    pool, factory = make_pool()
    pool.call("users", "ping")
    factory.made[0].healthy = False

    pool.call("users", "ping")

    assert factory.made[0].stopped
    assert len(factory.made[1].calls) == 1


def test_call_reraises_typed_service_errors_and_keeps_the_proxy(make_pool, fakes):
    pool, factory = make_pool(fakes.ScriptedProxy(script=[UserNotFound("No such user.", {"id": ["unknown"]})]))

    with pytest.raises(UserNotFound) as raised:
        pool.call("users", "get_user", "u1")

    assert raised.value.errors == {"id": ["unknown"]}
    assert not factory.made[0].stopped


def test_call_maps_an_unknown_remote_error_to_unexpected_service_error(make_pool, fakes):
    pool, _ = make_pool(fakes.ScriptedProxy(script=[RemoteError("KeyError", "'secret'")]))

    with pytest.raises(UnexpectedServiceError) as raised:
        pool.call("users", "get_user", "u1")

    assert "secret" not in raised.value.message


def test_call_rebuilds_a_contract_error_that_arrived_as_a_remote_error(make_pool, fakes):
    pool, _ = make_pool(fakes.ScriptedProxy(script=[RemoteError("UserNotFound", "No such user.")]))

    with pytest.raises(UserNotFound, match="No such user."):
        pool.call("users", "get_user", "u1")


def test_pool_never_holds_more_proxies_than_its_size(make_pool, fakes):
    pool, factory = make_pool(*(fakes.ScriptedProxy(hang=0.05) for _ in range(2)), size=2)
    threads = [threading.Thread(target=pool.call, args=("users", "ping")) for _ in range(6)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(factory.made) == 2
    assert sum(len(proxy.calls) for proxy in factory.made) == 6


def test_call_times_out_when_no_proxy_frees_up(make_pool, fakes):
    proxy = fakes.ScriptedProxy(hang=0.5)
    pool, _ = make_pool(proxy, size=1)
    busy = threading.Thread(target=pool.call, args=("users", "slow"))
    busy.start()
    assert proxy.called.wait(5)  # the only proxy is now busy

    with pytest.raises(ServiceTimeout):
        pool.call("users", "ping", rpc_timeout=0.1)
    busy.join()


def test_ping_all_reports_each_service(make_pool, fakes):
    pool, _ = make_pool(fakes.ScriptedProxy(script=["pong", UnknownService("tickets")]), size=1)

    states = pool.ping_all(["users", "tickets"], timeout=1.0)

    assert states == {"users": "ok", "tickets": "unavailable"}


def test_ping_all_answers_within_its_timeout_when_a_service_hangs(make_pool, fakes):
    pool, _ = make_pool(fakes.ScriptedProxy(hang=3.0))
    started = time.monotonic()

    states = pool.ping_all(["users"], timeout=0.2)

    assert states == {"users": "timeout"}
    assert time.monotonic() - started < 2.0


def test_contract_errors_cross_nameko_serialization_as_their_own_class(make_pool):
    make_pool()  # registering the contract errors is part of building a pool

    rebuilt = deserialize(serialize(UserNotFound("No such user.", {"id": ["unknown"]})))

    assert type(rebuilt) is UserNotFound
    assert (rebuilt.message, rebuilt.errors) == ("No such user.", {"id": ["unknown"]})


def test_proxy_sends_the_correlation_id_as_nameko_context_header():
    proxy = AmqpProxy("amqp://guest:guest@127.0.0.1:5672/")  # not started: no connection

    proxy.bind_context("corr-9")

    assert proxy.context_headers()["nameko.correlation_id"] == "corr-9"


def test_proxy_sends_no_correlation_header_without_an_id():
    proxy = AmqpProxy("amqp://guest:guest@127.0.0.1:5672/")
    proxy.bind_context("corr-9")

    proxy.bind_context(None)

    assert "nameko.correlation_id" not in proxy.context_headers()


def test_redact_hides_the_broker_password():
    assert _redact("amqp://helpdesk:s3cret@rabbitmq:5672/") == "amqp://helpdesk:***@rabbitmq:5672/"


def test_call_keeps_the_proxy_after_an_unknown_service(make_pool, fakes):
    pool, factory = make_pool(fakes.ScriptedProxy(script=[UnknownService("tickets"), "pong"]))
    with pytest.raises(ServiceUnavailable):
        pool.call("tickets", "ping")

    assert pool.call("users", "ping") == "pong"

    assert not factory.made[0].stopped
    assert len(factory.made) == 1
