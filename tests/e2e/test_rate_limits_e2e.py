"""Sign-in limits hold across the gateway's two workers (counters in Redis) and lock out one account only."""

from __future__ import annotations

import json
import threading
import time
import uuid

import requests

LOGIN = "/api/v1/auth/login"
LIMIT = 3  # the two_worker_stack's GATEWAY_LOGIN_RATE_LIMIT


def _register(base_url: str) -> str:
    email = f"limits-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "name": "Limits", "password": "Right-pass1"}
    assert requests.post(f"{base_url}/api/v1/auth/register", json=body, timeout=15).status_code == 201
    return email


def _login(base_url: str, email: str, password: str) -> tuple[requests.Response, str]:
    """Sign in on a connection of its own (so either worker may take it); return the answer and its correlation id."""
    correlation_id = uuid.uuid4().hex
    with requests.Session() as fresh:
        response = fresh.post(f"{base_url}{LOGIN}", json={"email": email, "password": password},
                              headers={"X-Correlation-ID": correlation_id, "Connection": "close"}, timeout=15)
    return response, correlation_id


def _serving_pids(stack, correlation_ids: list[str], timeout: float = 5.0) -> dict[str, int]:
    """Return the gateway worker's pid that logged each request, waiting for the log lines to be written."""
    deadline = time.monotonic() + timeout
    found: dict[str, int] = {}
    while time.monotonic() < deadline:
        for line in (stack.log_dir / "gateway.log").read_text(errors="replace").splitlines():
            if line.startswith("{") and '"pid"' in line:
                record = json.loads(line)
                if record.get("correlation_id") in correlation_ids and record.get("path") == LOGIN:
                    found[record["correlation_id"]] = record["pid"]
        if len(found) == len(correlation_ids):
            return found
        threading.Event().wait(0.1)
    raise AssertionError(f"only {len(found)} of {len(correlation_ids)} requests found in the gateway's log")


def test_failed_login_limit_holds_across_two_workers(two_worker_stack):
    base = two_worker_stack.base_url
    email = _register(base)
    answers = [_login(base, email, "Wrong-pass1") for _ in range(LIMIT + 8)]

    statuses = [response.status_code for response, _ in answers]
    pids = _serving_pids(two_worker_stack, [cid for _, cid in answers])

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
