"""What a newcomer reads: the Procfile's processes start without eventlet's banner or any other Python
warning, unroutable events are summed up rather than logged one by one, and probes are not logged."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest

from helpdesk_common.stack import procfile

pytestmark = pytest.mark.e2e

PYTHON_WARNING = re.compile(r"\b\w*Warning: ")


def full_log(stack, name: str) -> str:
    path = stack.log_dir / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wait_for_line(stack, name: str, needle: str, timeout: float = 20.0) -> str:
    """Return the process's log once it holds ``needle``, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = full_log(stack, name)
        if needle in text:
            return text
        threading.Event().wait(0.2)
    raise AssertionError(f"{needle!r} not in the {name} log within {timeout} s:\n{full_log(stack, name)[-3000:]}")


@pytest.mark.parametrize("name", sorted(procfile()))
def test_process_starts_without_eventlet_banner_or_warnings(stack, name):
    assert stack.processes[name].poll() is None, f"{name} is not running"
    text = full_log(stack, name)
    assert "Eventlet is deprecated" not in text
    assert not PYTHON_WARNING.search(text), text[-3000:]
    assert "Configuration allows spawning" not in text  # granian's thread-count advice


@pytest.mark.parametrize(("quiet", "shown"), [(False, True), (True, False)])
def test_banner_shows_in_this_environment_unless_quieted(stack, quiet, shown):
    # the check above can fail: in the processes' environment a bare ``import eventlet`` prints the banner
    code = ("from helpdesk_common.run import quiet_eventlet_banner; quiet_eventlet_banner(); " if quiet else "")
    done = subprocess.run([sys.executable, "-c", code + "import eventlet"], env=stack.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ("Eventlet is deprecated" in done.stderr) is shown, done.stderr


def test_unroutable_events_are_summed_up_not_logged_one_by_one(stack, anon):
    # a password reset's event has no consumer yet (the notifications service will e-mail it); the seed's
    # events may or may not find theirs bound, depending on which process declared its queues first
    for _ in range(2):
        assert anon.post("/api/v1/auth/forgot-password", json={"email": "ana@example.com"}).status_code in (200, 202)
    text = wait_for_line(stack, "users", "user.password_reset_requested")
    relay = [line for line in json_lines(text) if line.get("logger") == "helpdesk_common.relay"]
    assert not [line for line in relay if "is unroutable" in line["message"]], relay
    summaries = [line for line in relay if line["message"].startswith("no queue is bound for")]
    assert summaries and all(line["level"] == "INFO" for line in summaries)
    named = [name for line in summaries for name in line["message"].split(" yet:")[0][len("no queue is bound for "):].split(", ")]
    assert "user.password_reset_requested" in named and len(named) == len(set(named)), named  # once per type


def test_probes_are_not_logged_per_request(stack, anon):
    for _ in range(3):
        assert anon.get("/health/ready").status_code == 200
        assert anon.get("/health/live").status_code == 200
    assert anon.get("/api/v1/nope").status_code == 404
    text = wait_for_line(stack, "gateway", "GET /api/v1/nope 404")
    access = [line for line in json_lines(text) if line.get("logger") == "gateway.access"]
    assert [line for line in access if line["path"] == "/api/v1/nope"]
    # a probe that fails (503 while a service starts) is news and stays; one that succeeds is not
    probes = [line["message"] for line in access if line["path"].startswith(("/health/", "/metrics"))]
    assert not [line for line in access if line["path"].startswith(("/health/", "/metrics")) and line["status"] < 400], probes
