"""Serve the gateway with granian: ``python -m gateway.serve`` (the Procfile's, the image's and the pods' command).

granian parses HTTP and holds connections in Rust and calls the WSGI app on a pool of threads per worker
process; on this project's 2-core benchmark it serves the same app with about a fifth less CPU per
request than gunicorn's gthread workers did.

Environment: ``GATEWAY_BIND`` (default ``127.0.0.1:${GATEWAY_PORT:-8000}``; ``[::]:8000`` for IPv6),
``GATEWAY_WORKERS`` (processes, 2), ``GATEWAY_THREADS`` (threads calling the app in each process, 8; the
RPC proxy pool has as many proxies), ``GATEWAY_TIMEOUT`` (seconds a stopping worker may take to finish
its requests before it is killed, 30), ``PROMETHEUS_MULTIPROC_DIR``.

Several workers share one ``/metrics`` view through prometheus-client's multiprocess mode: the directory
must exist before the workers import prometheus-client. When more than one worker runs and
``PROMETHEUS_MULTIPROC_DIR`` is unset, a private temporary directory is made (and removed on exit); a
directory you set is emptied of stale ``*.db`` files at start and must be the gateway's own. The gateway
keeps only counters and histograms, whose files a worker leaves behind keep counting in the totals, so
nothing needs marking when a worker exits.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from helpdesk_common.run import quiet_eventlet_banner

TARGET = "gateway.app:create_app"
DEFAULTS = {"GATEWAY_WORKERS": 2, "GATEWAY_THREADS": 8, "GATEWAY_TIMEOUT": 30}


class SettingsError(ValueError):
    """The environment asks for something the gateway cannot serve with."""


def _positive(environ: Mapping[str, str], name: str) -> int:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return DEFAULTS[name]
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


def parse_bind(bind: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6 address]:port`` for IPv6) into its address and port."""
    host, sep, port = bind.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"GATEWAY_BIND must be host:port (e.g. 0.0.0.0:8000 or [::]:8000), got {bind!r}")
    return host, int(port)


def settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return granian's settings for this environment (raises ``SettingsError`` on a bad value)."""
    bind = environ.get("GATEWAY_BIND") or f"127.0.0.1:{environ.get('GATEWAY_PORT') or '8000'}"
    address, port = parse_bind(bind)
    return {
        "address": address,
        "port": port,
        "workers": _positive(environ, "GATEWAY_WORKERS"),
        "blocking_threads": _positive(environ, "GATEWAY_THREADS"),
        "workers_kill_timeout": _positive(environ, "GATEWAY_TIMEOUT"),
    }


class MetricsDirectory:
    """The prometheus-client multiprocess directory of one gateway run (see the module's docstring)."""

    def __init__(self, environ: dict[str, str], workers: int):
        self.environ = environ
        self.ours = False
        if workers > 1 and not environ.get("PROMETHEUS_MULTIPROC_DIR"):
            environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gateway-prometheus-")
            self.ours = True

    @property
    def path(self) -> Path | None:
        value = self.environ.get("PROMETHEUS_MULTIPROC_DIR")
        return Path(value) if value else None

    def start(self) -> None:
        """Make the directory, with no counters left over from a previous run."""
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            for stale in self.path.glob("*.db"):
                stale.unlink()

    def stop(self) -> None:
        """Remove the directory if this run made it."""
        if self.ours and self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _take_stop_signals(stop: Callable[[], None]) -> None:
    """Call ``stop`` from a thread of its own on the first SIGTERM or SIGINT this process gets.

    granian 2.8 waits for its stop signal with the main thread blocked on a lock, in the main process
    and in each worker, while the kernel may hand a process-wide signal to any of its other threads:
    Python then runs the handler only when the main thread wakes for some other reason, which may be
    never (seen here in about one stop in three, more often when the whole process group is signalled,
    as honcho and the test stack do). So the signals are blocked in the calling thread, which every
    thread started later and every worker forked later inherits, and taken with ``sigwait`` instead.
    Later ones stay blocked: the process is stopping already.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    def take() -> None:
        signal.sigwait(STOP_SIGNALS)
        stop()

    threading.Thread(target=take, name="stop-signal", daemon=True).start()


def _workers_take_stop_signals() -> None:
    """Have each worker stop through ``_take_stop_signals`` (workers are forked from this process)."""
    import granian._signals as signals

    def set_sync_signals():
        event = signals.WorkerSignal()
        _take_stop_signals(event.set)
        return event

    signals.set_sync_signals = set_sync_signals  # the WSGI worker looks it up when it starts


class _ThreadCountAdvice(logging.Filter):
    """Drop granian's advice against more threads than about twice the cores: the gateway's threads mostly wait on RPC replies."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configuration allows spawning up to")


def main() -> int:
    quiet_eventlet_banner()  # sentry-sdk imports eventlet in each worker to see whether it is patched
    logging.getLogger("_granian").addFilter(_ThreadCountAdvice())
    try:
        options = settings(os.environ)
    except SettingsError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    _workers_take_stop_signals()
    metrics = MetricsDirectory(os.environ, options["workers"])  # before the workers start: they inherit it
    metrics.start()
    server = Granian(
        TARGET,
        factory=True,
        interface=Interfaces.WSGI,
        websockets=False,
        log_level=LogLevels.warning,
        log_access=False,  # the app logs one JSON line per request, with its correlation id
        respawn_failed_workers=True,
        **options,
    )
    _take_stop_signals(server.signal_handler_interrupt)  # before any worker or thread starts
    try:
        server.serve()
    finally:
        metrics.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
