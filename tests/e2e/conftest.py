"""End-to-end fixtures: migrated and seeded databases, the Procfile's processes, HTTP helpers."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import requests

from helpdesk_common.stack import SERVICES, launch, migrate_and_seed
from helpdesk_common.testing import DatabaseFactory, amqp_uri_for_tests, private_vhost, stack_test_env
from tests.e2e.tcpproxy import TcpProxy

DEMO = {
    "admin": ("admin@example.com", "admin123"),
    "carlos": ("carlos@example.com", "carlos123"),
    "maria": ("maria@example.com", "maria123"),
    "ana": ("ana@example.com", "ana123"),
}


def _start(tmp_path_factory, amqp_uri: str, extra_env: dict | None = None):
    var_dir = tmp_path_factory.mktemp("var")
    factory = DatabaseFactory(var_dir)
    urls = {}
    for service in SERVICES:
        urls[service] = factory.create(service)
        migrate_and_seed(service, urls[service])
    try:
        return launch(var_dir=var_dir, amqp_uri=amqp_uri, database_urls=urls,
                      extra_env={**stack_test_env(SERVICES), **(extra_env or {})}), factory
    except Exception:
        factory.drop_all()
        raise


@pytest.fixture(scope="session")
def amqp_uri():
    """The end-to-end stack lives all session: keep it in a vhost apart from the integration tests'."""
    with private_vhost(amqp_uri_for_tests()) as uri:
        yield uri


@pytest.fixture(scope="session")
def stack(tmp_path_factory, amqp_uri):
    # generous login limits: the suite signs in many times from one address
    stack, factory = _start(
        tmp_path_factory,
        amqp_uri,
        {"GATEWAY_LOGIN_RATE_LIMIT": "1000/minute", "GATEWAY_LOGIN_ADDRESS_RATE_LIMIT": "1000/minute"},
    )
    yield stack
    stack.stop_all()
    factory.drop_all()


@pytest.fixture(scope="session")
def two_worker_stack(tmp_path_factory):
    """A stack (own vhost) whose gateway runs two granian workers, as `make run` does, sharing rate limits in Redis."""
    with private_vhost(amqp_uri_for_tests()) as uri:
        stack, factory = _start(
            tmp_path_factory,
            uri,
            {
                "GATEWAY_WORKERS": "2",
                "GATEWAY_THREADS": "4",
                "GATEWAY_LOGIN_RATE_LIMIT": "3/minute",  # failed sign-ins of an account from one address
                "GATEWAY_LOGIN_ACCOUNT_RATE_LIMIT": "1000/minute",
                "GATEWAY_LOGIN_ADDRESS_RATE_LIMIT": "1000/minute",
                "GATEWAY_REGISTER_RATE_LIMIT": "1000/minute",
            },
        )
        yield stack
        stack.stop_all()
        factory.drop_all()


@pytest.fixture
def proxied_stack(tmp_path_factory):
    """A stack of its own (own vhost) whose every broker connection goes through a proxy the test can cut."""
    with private_vhost(amqp_uri_for_tests()) as direct:
        target = urlparse(direct)
        proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672).start()
        uri = target._replace(netloc=f"{target.username or 'guest'}:{target.password or 'guest'}@127.0.0.1:{proxy.port}")
        stack, factory = _start(tmp_path_factory, uri.geturl(), {"GATEWAY_RPC_TIMEOUT": "3"})
        yield stack, proxy
        proxy.restore()
        stack.stop_all()
        factory.drop_all()
        proxy.close()


class Api:
    """A thin HTTP client for the gateway."""

    def __init__(self, base_url: str, token: str | None = None):
        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def __getattr__(self, method):
        def call(path, **kwargs):
            kwargs.setdefault("timeout", 15)
            return self.session.request(method.upper(), f"{self.base}{path}", **kwargs)

        return call


def login(base_url: str, email: str, password: str) -> dict:
    response = requests.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()["data"]


@pytest.fixture
def anon(stack) -> Api:
    return Api(stack.base_url)


@pytest.fixture
def as_role(stack):
    def make(who: str) -> Api:
        email, password = DEMO[who]
        return Api(stack.base_url, login(stack.base_url, email, password)["access_token"])

    return make
