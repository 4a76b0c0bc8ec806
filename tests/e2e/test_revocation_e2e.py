"""Deactivating a user or changing their role refuses their access tokens on every gateway worker within 2 s."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from helpdesk_common.stack import Stack, free_port
from tests.e2e.conftest import DEMO, login
from tests.e2e.workers import fresh_request, serving_pids

ME = "/api/v1/auth/me"
PASSWORD = "Revoke-me-1"
WITHIN = 2.0
BATCH = 10  # requests on fresh connections: enough for both workers to serve and cache the token


def _admin(base: str) -> dict:
    return {"Authorization": f"Bearer {login(base, *DEMO['admin'])['access_token']}"}


def _new_user(base: str, admin: dict, role: str) -> tuple[str, str]:
    email = f"revoke-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "name": "Revoke Me", "password": PASSWORD, "role": role}
    created = requests.post(f"{base}/api/v1/users", json=body, headers=admin, timeout=15)
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"], login(base, email, PASSWORD)["access_token"]


def _me(base: str, token: str) -> tuple[requests.Response, str]:
    return fresh_request("GET", f"{base}{ME}", headers={"Authorization": f"Bearer {token}"})


def _answers_by_worker(stack: Stack, token: str) -> dict[int, set[int]]:
    """Send a batch with the token on fresh connections; return {worker pid: statuses it answered}."""
    answers = [_me(stack.base_url, token) for _ in range(BATCH)]
    pids = serving_pids(stack.log_dir / "gateway.log", [cid for _, cid in answers])
    by_worker: dict[int, set[int]] = {}
    for response, cid in answers:
        by_worker.setdefault(pids[cid], set()).add(response.status_code)
    return by_worker


@pytest.fixture
def revoked(two_worker_stack):
    """A deactivated agent's and a demoted agent's earlier tokens, a bystander's token, and when it happened."""
    base = two_worker_stack.base_url
    admin = _admin(base)
    (deactivated_id, deactivated), (demoted_id, demoted) = _new_user(base, admin, "agent"), _new_user(base, admin, "agent")
    _, bystander = _new_user(base, admin, "agent")
    for token in (deactivated, demoted, bystander):  # honoured first, and so in the workers' verified-token caches
        assert {s for statuses in _answers_by_worker(two_worker_stack, token).values() for s in statuses} == {200}

    assert requests.delete(f"{base}/api/v1/users/{deactivated_id}", headers=admin, timeout=15).status_code == 200
    changed = requests.patch(f"{base}/api/v1/users/{demoted_id}/role", json={"role": "customer"}, headers=admin,
                             timeout=15)
    assert changed.status_code == 200, changed.text
    return {"deactivated": deactivated, "demoted": demoted, "bystander": bystander, "at": time.monotonic()}


def test_revoked_tokens_are_refused_on_every_worker_within_two_seconds(two_worker_stack, revoked):
    base, until = two_worker_stack.base_url, revoked["at"] + WITHIN + 1.0  # a second past the deadline too
    sent: list[tuple[str, float, int, str]] = []  # (whose token, seconds since the change, status, correlation id)
    while time.monotonic() < until:
        for name in ("deactivated", "demoted", "bystander"):
            response, cid = _me(base, revoked[name])
            sent.append((name, time.monotonic() - revoked["at"], response.status_code, cid))
    pids = serving_pids(two_worker_stack.log_dir / "gateway.log", [cid for *_, cid in sent])

    for name in ("deactivated", "demoted"):
        late = [(pids[cid], status) for who, elapsed, status, cid in sent if who == name and elapsed >= WITHIN]
        assert {status for _, status in late} == {401}, f"{name}'s token honoured {WITHIN} s after the change"
        assert len({pid for pid, _ in late}) == 2, f"{name}: both workers must have answered after {WITHIN} s"
    assert {status for who, _, status, _ in sent if who == "bystander"} == {200}
    assert len({pids[cid] for who, *_, cid in sent if who == "bystander"}) == 2


def test_a_worker_started_after_the_revocation_refuses_the_older_token(two_worker_stack, revoked, tmp_path):
    port = free_port()
    env = {**two_worker_stack.env, "GATEWAY_BIND": f"127.0.0.1:{port}", "GATEWAY_PORT": str(port),
           "GATEWAY_WORKERS": "1"}
    late = Stack(env=env, log_dir=tmp_path, gateway_port=port)
    late.start("gateway")
    try:
        late.wait_ready(60)
        assert _me(late.base_url, revoked["deactivated"])[0].status_code == 401
        assert _me(late.base_url, revoked["demoted"])[0].status_code == 401
        assert _me(late.base_url, revoked["bystander"])[0].status_code == 200
    finally:
        late.stop_all()
