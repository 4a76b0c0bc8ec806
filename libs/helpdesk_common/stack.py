"""Start the services and the gateway as real processes, as the Procfile does (end-to-end tests, benchmarks)."""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from helpdesk_common.services import REPO_ROOT, discover

SERVICES = discover()  # the services/*/service.py that exist (helpdesk_common.services)
# As `make run`: the gateway's workers share rate-limit counters in the Redis of `make redis`.
DEFAULT_RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile() -> dict[str, str]:
    """Return the Procfile's process commands by name."""
    entries = {}
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


@dataclass
class Stack:
    """Running processes of the suite, reachable at ``base_url``."""

    env: dict[str, str]
    log_dir: Path
    gateway_port: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def start(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        """Start the Procfile's process ``name``; ``<service>.2`` is a second process of ``<service>``.

        ``extra_env`` is added to this process's environment only (e.g. a test fault for one replica).
        """
        command = procfile()[name.split(".")[0]]
        log = open(self.log_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            shlex.split(command), cwd=REPO_ROOT, env={**self.env, **(extra_env or {})}, stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def logs(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the gateway says every service answers."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.logs(name)}")
            try:
                response = requests.get(f"{self.base_url}/health/ready", timeout=3)
                if response.status_code == 200:
                    return
                last = response.text
            except requests.RequestException as exc:
                last = repr(exc)
            threading.Event().wait(0.2)
        logs = "\n".join(f"--- {name}:\n{self.logs(name)}" for name in self.processes)
        raise RuntimeError(f"stack not ready in {timeout} s: {last}\n{logs}")


def make_env(*, amqp_uri: str, database_urls: dict[str, str], var_dir: Path, gateway_port: int,
             extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update(
        {
            "AMQP_URI": amqp_uri,
            "HELPDESK_VAR_DIR": str(var_dir),
            "JWT_SECRET": secrets.token_urlsafe(32),
            "GATEWAY_BIND": f"127.0.0.1:{gateway_port}",
            "GATEWAY_PORT": str(gateway_port),
            "GATEWAY_WORKERS": "1",
            "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or DEFAULT_RATELIMIT_STORAGE_URI,
            # Stacks share one Redis (tests run in parallel, on one address): each counts apart.
            "GATEWAY_RATELIMIT_KEY_PREFIX": f"stack-{secrets.token_hex(6)}",
            # every service serves /metrics: a free port each, so parallel stacks never collide
            **{f"{service.upper()}_METRICS_PORT": str(free_port()) for service in SERVICES},
            "PSYCOPG_WAIT_FUNC": "wait_select",
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": f"{REPO_ROOT / 'libs'}:{REPO_ROOT}",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    for service, url in database_urls.items():
        env[f"{service.upper()}_DATABASE_URL"] = url
    env.update(extra or {})
    return env


def migrate_and_seed(service: str, url: str) -> None:
    """Run a service's migrations and its demo seed on ``url`` (in subprocesses, like ``make run``)."""
    env = {**os.environ, "HELPDESK_DEMO": "1", f"{service.upper()}_DATABASE_URL": url,
           "PYTHONPATH": f"{REPO_ROOT / 'libs'}:{REPO_ROOT}"}
    alembic = Path(sys.executable).parent / "alembic"
    commands = [[str(alembic), "-c", f"services/{service}/alembic.ini", "upgrade", "head"]]
    if (REPO_ROOT / "services" / service / "seed.py").exists():
        commands.append([sys.executable, "-m", f"services.{service}.seed"])
    for command in commands:
        done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")


def launch(*, var_dir: Path, amqp_uri: str, database_urls: dict[str, str], extra_env: dict[str, str] | None = None,
           ready_timeout: float = 60.0, processes: dict[str, int] | None = None) -> Stack:
    """Start every service and the gateway on prepared databases; return once the gateway is ready.

    ``processes`` runs several processes of a service (``{"<service>": 2}``), as ``honcho start -c`` does.
    """
    port = free_port()
    stack = Stack(env=make_env(amqp_uri=amqp_uri, database_urls=database_urls, var_dir=var_dir, gateway_port=port,
                               extra=extra_env), log_dir=var_dir, gateway_port=port)
    for name in [*database_urls, "gateway"]:
        stack.start(name)
        for instance in range(2, (processes or {}).get(name, 1) + 1):
            stack.start(f"{name}.{instance}")
    try:
        stack.wait_ready(ready_timeout)
    except Exception:
        stack.stop_all()
        raise
    return stack
