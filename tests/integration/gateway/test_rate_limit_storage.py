"""Rate-limit counters in a real Redis: shared by every app that points at it; memory when it is down."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
import redis

from gateway.app import create_app
from helpdesk_common.stack import DEFAULT_RATELIMIT_STORAGE_URI, free_port
from helpdesk_contracts.errors import InvalidCredentials

REDIS_URI = os.environ.get("RATELIMIT_STORAGE_URI") or DEFAULT_RATELIMIT_STORAGE_URI
LOGIN = "/api/v1/auth/login"
WRONG = {"email": "someone@example.com", "password": "Wrong-pass1"}


class RefusingRpc:
    """Every sign-in is refused, as the users service does for a wrong password."""

    def call(self, service, method, *args, **kwargs):
        raise InvalidCredentials("Invalid e-mail or password.")

    def ping_all(self, services, timeout):
        return {}


def _app(storage_uri: str, prefix: str):
    return create_app(
        {"TESTING": True, "RATELIMIT_STORAGE_URI": storage_uri, "RATELIMIT_KEY_PREFIX": prefix,
         "LOGIN_RATE_LIMIT": "2/minute"},
        rpc=RefusingRpc(),
    )


@pytest.fixture
def redis_prefix():
    try:
        redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.fail(f"no Redis on {REDIS_URI} (`make redis` starts one): {exc}")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URI)
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


def test_two_apps_on_one_redis_spend_one_budget(redis_prefix):
    first, second = _app(REDIS_URI, redis_prefix).test_client(), _app(REDIS_URI, redis_prefix).test_client()
    assert first.post(LOGIN, json=WRONG).status_code == 401
    assert second.post(LOGIN, json=WRONG).status_code == 401

    response = first.post(LOGIN, json=WRONG)

    assert response.status_code == 429
    assert response.headers["Retry-After"]


def test_apps_with_other_prefixes_count_apart(redis_prefix):
    first, other = _app(REDIS_URI, redis_prefix).test_client(), _app(REDIS_URI, f"{redis_prefix}-b").test_client()
    for _ in range(2):
        first.post(LOGIN, json=WRONG)

    assert other.post(LOGIN, json=WRONG).status_code == 401


def test_redis_down_falls_back_to_memory_and_logs_it(caplog):
    client = _app(f"redis://127.0.0.1:{free_port()}/0", "down").test_client()

    with caplog.at_level(logging.WARNING):
        statuses = [client.post(LOGIN, json=WRONG).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]  # still limited, per process
    assert "falling back to in-memory storage" in caplog.text
