"""Which gateway worker served a request: each request on a connection of its own, found in the JSON log by its correlation id."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import requests


def fresh_request(method: str, url: str, **kwargs) -> tuple[requests.Response, str]:
    """Send one request on a new connection (so either worker may take it); return it and its correlation id."""
    correlation_id = uuid.uuid4().hex
    headers = {**kwargs.pop("headers", {}), "X-Correlation-ID": correlation_id, "Connection": "close"}
    with requests.Session() as session:
        response = session.request(method, url, headers=headers, timeout=15, **kwargs)
    return response, correlation_id


def serving_pids(log_file: Path, correlation_ids: list[str], timeout: float = 5.0) -> dict[str, int]:
    """Return the pid of the worker that logged each request, waiting for the log lines to be written."""
    wanted = set(correlation_ids)
    deadline = time.monotonic() + timeout
    found: dict[str, int] = {}
    while time.monotonic() < deadline:
        for line in log_file.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"pid"' in line:
                record = json.loads(line)
                if record.get("correlation_id") in wanted and "pid" in record:
                    found[record["correlation_id"]] = record["pid"]
        if len(found) == len(wanted):
            return found
        threading.Event().wait(0.1)
    raise AssertionError(f"only {len(found)} of {len(wanted)} requests found in {log_file}")
