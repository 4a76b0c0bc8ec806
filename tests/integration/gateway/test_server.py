"""The gateway's server process as the Procfile, the image and the pods run it: ``python -m gateway.serve``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from helpdesk_common.stack import REPO_ROOT, free_port
from helpdesk_common.testing import amqp_uri_for_tests

pytestmark = pytest.mark.integration


def _wait_until_it_answers(base: str, process: subprocess.Popen, log, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the gateway exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/health/live", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass  # not listening yet: the next attempt waits on its own connect
        time.sleep(0.05)  # between connection attempts only
    pytest.fail(f"the gateway did not answer within {timeout} s: {log.read_text()[-2000:]}")


def test_two_workers_serve_the_app_share_their_metrics_and_stop_cleanly(tmp_path):
    port = free_port()
    env = {**os.environ, "GATEWAY_PORT": str(port), "GATEWAY_WORKERS": "2", "GATEWAY_THREADS": "2",
           "JWT_SECRET": "s" * 48, "AMQP_URI": amqp_uri_for_tests(), "TMPDIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "gateway.log"
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "gateway.serve"], cwd=REPO_ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_it_answers(base, process, log)
        assert len(list(tmp_path.glob("gateway-prometheus-*"))) == 1  # made before the workers started

        sessions = [requests.Session() for _ in range(8)]  # several connections: both workers take some
        for session in sessions * 5:
            assert session.get(f"{base}/health/live", timeout=5).status_code == 200
        metrics = requests.get(f"{base}/metrics", timeout=5).text

        counted = re.search(r'helpdesk_gateway_requests_total\{endpoint="/health/live",method="GET",status="200"\} (\S+)',
                            metrics)
        assert counted and float(counted.group(1)) >= 41  # every worker's requests, whichever answered /metrics
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert returncode == 0, log.read_text()[-2000:]
    assert list(tmp_path.glob("gateway-prometheus-*")) == []  # its private metrics directory is gone


def test_a_bad_setting_stops_the_server_before_it_starts_with_a_clear_message():
    env = {**os.environ, "GATEWAY_WORKERS": "lots", "JWT_SECRET": "s" * 48}
    done = subprocess.run([sys.executable, "-m", "gateway.serve"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=30)

    assert done.returncode == 2
    assert done.stderr.strip() == "gateway: GATEWAY_WORKERS must be a whole number, got 'lots'"
