"""Configuration read from the environment, only when asked (never at import time)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def var_dir() -> Path:
    """Return the directory for embedded databases and files (``HELPDESK_VAR_DIR``, default ``./var``)."""
    path = Path(os.environ.get("HELPDESK_VAR_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str:
    """Return ``<SERVICE>_DATABASE_URL`` or the embedded SQLite file ``var/<service>.db``."""
    url = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{var_dir() / f'{service}.db'}"


def amqp_uri() -> str:
    """Return ``AMQP_URI`` (default: a local RabbitMQ with the guest account)."""
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def env_int(name: str, default: int) -> int:
    """Return an integer environment variable."""
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_float(name: str, default: float) -> float:
    """Return a float environment variable."""
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    """Return a comma-separated environment variable as a list."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]
