"""The correlation id of the work in progress, local to the current green thread or thread."""

from __future__ import annotations

import threading
import uuid

_local = threading.local()  # green-thread local once eventlet has patched threading

CORRELATION_HEADER = "X-Correlation-ID"
NAMEKO_CONTEXT_KEY = "correlation_id"
# an RPC command's id and request fingerprint, in nameko's context data too (see ``commands``), and the
# flag of a reply answered from the service's record of that command
COMMAND_ID_KEY = "command_id"
FINGERPRINT_KEY = "command_fingerprint"
REPLAYED_KEY = "replayed"


def new_correlation_id() -> str:
    """Return a fresh correlation id."""
    return uuid.uuid4().hex


def set_correlation_id(value: str | None) -> None:
    """Bind a correlation id to the current (green) thread."""
    _local.correlation_id = value


def get_correlation_id() -> str | None:
    """Return the correlation id bound to the current (green) thread, if any."""
    return getattr(_local, "correlation_id", None)
