"""Sign-in limits hold across the gateway's two workers (counters in Redis) and lock out one account only."""

from __future__ import annotations

import uuid

import requests

from tests.e2e.workers import fresh_request, serving_pids

LOGIN = "/api/v1/auth/login"
LIMIT = 3  # the two_worker_stack's GATEWAY_LOGIN_RATE_LIMIT


def _register(base_url: str) -> str:
    email = f"limits-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "name": "Limits", "password": "Right-pass1"}
    assert requests.post(f"{base_url}/api/v1/auth/register", json=body, timeout=15).status_code == 201
    return email


def _login(base_url: str, email: str, password: str) -> tuple[requests.Response, str]:
    return fresh_request("POST", f"{base_url}{LOGIN}", json={"email": email, "password": password})


def test_failed_login_limit_holds_across_two_workers(two_worker_stack):
    base = two_worker_stack.base_url
    email = _register(base)
    answers = [_login(base, email, "Wrong-pass1") for _ in range(LIMIT + 8)]

    statuses = [response.status_code for response, _ in answers]
    pids = serving_pids(two_worker_stack.log_dir / "gateway.log", [cid for _, cid in answers])

    assert statuses == [401] * LIMIT + [429] * 8
    assert len(set(pids.values())) == 2, "both workers must have served some of the attempts"
    refused_by = {pids[cid] for response, cid in answers[LIMIT:]}
    counted_by = {pids[cid] for response, cid in answers[:LIMIT]}
    # a worker that counted none of the failures still refuses: it read the count the other one wrote
    assert refused_by - counted_by or len(counted_by) == 2
    last = answers[-1][0]
    assert last.json()["success"] is False
    assert 1 <= int(last.headers["Retry-After"]) <= 61


def test_another_account_signs_in_from_the_address_of_a_locked_one(two_worker_stack):
    base = two_worker_stack.base_url
    locked, other = _register(base), _register(base)
    for _ in range(LIMIT):
        _login(base, locked, "Wrong-pass1")
    assert _login(base, locked, "Right-pass1")[0].status_code == 429  # locked, even with the right password

    statuses = {_login(base, other, "Right-pass1")[0].status_code for _ in range(4)}

    assert statuses == {200}
