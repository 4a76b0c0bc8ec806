"""The broker goes away and comes back: the gateway answers 503 meanwhile, then everything works again."""

import threading

import pytest
import requests

from tests.e2e.conftest import DEMO, login

pytestmark = pytest.mark.e2e

ADMIN_CREDENTIALS = {"email": DEMO["admin"][0], "password": DEMO["admin"][1]}


def _wait_until(predicate, timeout):
    done = threading.Event()
    deadline = timeout
    step = 0.25
    while deadline > 0:
        if predicate():
            return True
        done.wait(step)
        deadline -= step
    return False


def test_broker_outage_answers_503_then_recovers(proxied_stack):
    stack, proxy = proxied_stack
    base = stack.base_url
    assert login(base, *DEMO["admin"])["user"]["role"] == "admin"

    proxy.cut()
    during = requests.post(f"{base}/api/v1/auth/login", json=ADMIN_CREDENTIALS,
                           timeout=30)
    ready = requests.get(f"{base}/health/ready", timeout=30)
    assert during.status_code in (503, 504), during.text
    assert during.json()["success"] is False
    assert ready.status_code == 503

    proxy.restore()
    recovered = _wait_until(
        lambda: requests.post(f"{base}/api/v1/auth/login", json=ADMIN_CREDENTIALS,
                              timeout=30).status_code == 200,
        timeout=60,
    )
    assert recovered, f"no recovery after the broker came back\n{stack.logs('users')}\n{stack.logs('gateway')}"
