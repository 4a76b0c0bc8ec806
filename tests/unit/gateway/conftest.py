"""Fixtures for the gateway's unit tests: the app over a fake RPC pool, accounts per role, tokens."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from gateway.app import create_app
from helpdesk_contracts import vocabulary


def _load_fakes():
    # Loaded by path under a unique name: other test folders may have a module called `fakes` too.
    name = "gateway_unit_fakes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fakes.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fakes = _load_fakes()

JWT_SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
PASSWORD = "Corr3ct-horse"
ROLES = vocabulary.ROLES
_ENVIRONMENT = ("AMQP_URI", "RATELIMIT_STORAGE_URI", "PROMETHEUS_MULTIPROC_DIR", "SENTRY_DSN")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Keep the developer's GATEWAY_*/JWT_* variables from leaking into the app under test."""
    for name in list(os.environ):
        if name.startswith(("GATEWAY_", "JWT_")) or name in _ENVIRONMENT:
            monkeypatch.delenv(name)


@pytest.fixture
def users_service():
    """The fake users service, with one active account per role and a department."""
    service = fakes.FakeUsersService()
    for role in ROLES:
        service.add_user(email=f"{role}@example.com", password=PASSWORD, role=role, name=f"{role.title()} Person")
    return service


@pytest.fixture
def tickets_service(users_service):
    """The fake tickets service (empty), checking assignees against the fake users service."""
    return fakes.FakeTicketsService(users=users_service)


@pytest.fixture
def automation_service(users_service, tickets_service):
    """The fake automation service (nothing followed yet, no rules), its agents the fake users service's staff and
    the tickets its dry runs read the fake tickets service's."""
    return fakes.FakeAutomationService(users=users_service, tickets=tickets_service)


@pytest.fixture
def fake_rpc(users_service, tickets_service, automation_service):
    return fakes.FakeRpc(users=users_service, tickets=tickets_service, automation=automation_service)


@pytest.fixture
def make_app(fake_rpc):
    """Build an app over the fake RPC pool; keyword arguments override its config."""

    def make(**config):
        settings = {
            "TESTING": True,
            "JWT_SECRET": JWT_SECRET,
            "LOGIN_RATE_LIMIT": "1000/minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "1000/minute",
            "LOGIN_ADDRESS_RATE_LIMIT": "1000/minute",
            "REGISTER_RATE_LIMIT": "1000/minute",
            "PASSWORD_RESET_RATE_LIMIT": "1000/minute",
        }
        settings.update(config)
        return create_app(settings, rpc=fake_rpc)

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def accounts(users_service):
    """The seeded users by role."""
    return {user["role"]: dict(user) for user in users_service.users.values() if user["email"].startswith(user["role"])}


@pytest.fixture
def auth_headers(app, accounts):
    """Return headers with a valid access token for the seeded user of a role (or for a given user dict)."""

    def headers(role_or_user):
        user = accounts[role_or_user] if isinstance(role_or_user, str) else role_or_user
        token = app.extensions["gateway.tokens"].issue_access_token(user)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def login(client):
    """Sign in through the API and return the response's data (tokens and user)."""

    def do_login(email, password=PASSWORD):
        response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    return do_login


@pytest.fixture(name="fakes")
def fakes_module():
    """The fakes module (ScriptedProxy, ProxyFactory, FakeRpc, FakeUsersService, FakeTicketsService,
    FakeAutomationService)."""
    return fakes


@pytest.fixture
def password():
    """The password of every seeded account."""
    return PASSWORD


@pytest.fixture(autouse=True)
def _isolated_remote_error_registry():
    """The gateway registers the contract's errors in nameko's process-wide registry; undo it after each test
    so integration tests in the same run keep receiving plain RemoteErrors from their proxies."""
    from nameko import exceptions

    saved = dict(exceptions.registry)
    yield
    exceptions.registry.clear()
    exceptions.registry.update(saved)
