"""The interactive API docs in a real browser: Debian's Chromium, headless, driven by Playwright.

The page at /api/v1/docs is the part of the gateway a person meets; here it is loaded from the gateway of
the running e2e stack. It must list the operations, fetch nothing from any other host (its assets come
from the ``swagger-ui-bundle`` package), log no console error, and let a user authorize with a token from
the login API and run ``GET /api/v1/auth/me`` from the page.

Playwright drives the browser from a process of its own (``docs_browser.py``): this process is
eventlet-patched, and Playwright's asyncio hangs under eventlet. Chromium is the Debian package
(``scripts/ensure_chromium.sh``), never ``playwright install``; ``CHROMIUM`` names another executable.
Without Chromium or Playwright the test skips with the reason, unless ``HELPDESK_REQUIRE_BROWSER=1``
(CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import DEMO, login

pytestmark = pytest.mark.e2e

DRIVER = Path(__file__).with_name("docs_browser.py")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _unavailable(reason: str):
    if os.environ.get("HELPDESK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (HELPDESK_REQUIRE_BROWSER=1: the browser test must run here)")
    pytest.skip(reason)


@pytest.fixture(scope="session")  # session, like the stack: checked first, so a skip starts nothing
def chromium() -> str:
    if importlib.util.find_spec("playwright") is None:
        _unavailable("playwright is not installed: pip install -r requirements-dev.txt")
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        _unavailable(f"no Chromium at {path}: run scripts/ensure_chromium.sh as root, or set CHROMIUM")
    return path


def test_docs_page_renders_offline_and_runs_me_with_a_token(chromium, stack, tmp_path):
    token = login(stack.base_url, *DEMO["admin"])["access_token"]
    screenshot = tmp_path / "docs.png"

    run = subprocess.run(
        [
            sys.executable,
            str(DRIVER),
            "--base-url",
            stack.base_url,
            "--token",
            token,
            "--chromium",
            chromium,
            "--screenshot",
            str(screenshot),
        ],
        capture_output=True,
        text=True,
        timeout=150,
    )

    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    print("seconds since the driver started:", report["seconds"])
    assert report["failed_step"] is None, f"{report['failed_step']}: {report['error']} (screenshot {screenshot})"
    shown = report["shown"]
    assert shown["tickets_operations"] >= 2  # POST /api/v1/tickets and its siblings
    assert shown["me_http_status"] == 200
    assert shown["me_status"].strip() == "200"
    assert '"email": "admin@example.com"' in shown["me_body"]
    assert shown["me_request_url"].strip() == f"{stack.base_url}/api/v1/auth/me"

    requests = report["requests"]
    assert any(url.endswith("/api/v1/docs/assets/swagger-ui-bundle.js") for url in requests), requests
    assert any(url.endswith("/api/v1/openapi.json") for url in requests), requests
    outside = [url for url in requests if (urlparse(url).hostname or "127.0.0.1") not in LOCAL_HOSTS]
    assert outside == []
    assert report["console_errors"] == [], report["failed_responses"]
