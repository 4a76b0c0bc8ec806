"""Gunicorn settings for the gateway: ``gunicorn -c gateway/gunicorn.conf.py 'gateway.app:create_app()'``.

Environment: ``GATEWAY_BIND`` (default ``127.0.0.1:${GATEWAY_PORT:-8000}``), ``GATEWAY_WORKERS`` (2),
``GATEWAY_THREADS`` (8), ``GATEWAY_TIMEOUT`` (30 s), ``PROMETHEUS_MULTIPROC_DIR``.

Several workers share one ``/metrics`` view through prometheus-client's multiprocess mode: the
directory must exist before the workers import prometheus-client. When more than one worker runs
and ``PROMETHEUS_MULTIPROC_DIR`` is unset, a private temporary directory is made (and removed on
exit); a directory you set is emptied of stale ``*.db`` files at start and must be the gateway's own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GATEWAY_BIND") or f"127.0.0.1:{os.environ.get('GATEWAY_PORT') or '8000'}"
worker_class = "gthread"
workers = int(os.environ.get("GATEWAY_WORKERS") or 2)
threads = int(os.environ.get("GATEWAY_THREADS") or 8)
timeout = int(os.environ.get("GATEWAY_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
# Heartbeat files on a RAM disk: fast, and writable under a read-only root filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None  # the app logs one JSON line per request, with its correlation id
errorlog = "-"

_metrics_dir_is_ours = False
if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gateway-prometheus-")
    _metrics_dir_is_ours = True


def _metrics_dir() -> Path | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(path) if path else None


def on_starting(server) -> None:
    """Start with no counters left over from a previous run."""
    directory = _metrics_dir()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    """Drop a dead worker's live gauges (its counters and histograms keep counting in the totals)."""
    if _metrics_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    """Remove the metrics directory if this configuration made it."""
    directory = _metrics_dir()
    if _metrics_dir_is_ours and directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
