"""JSON logs that carry the correlation id."""

from __future__ import annotations

import logging
import os
import sys

from pythonjsonlogger.json import JsonFormatter

from helpdesk_common.context import get_correlation_id


class CorrelationFilter(logging.Filter):
    """Stamp every record with the correlation id and the service name."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = get_correlation_id()
        record.service = self.service
        return True


def configure_logging(service: str) -> None:
    """Send JSON lines to stderr at ``LOG_LEVEL`` (default INFO)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(CorrelationFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    # nameko logs every worker at DEBUG/INFO; keep its chatter out unless asked for
    logging.getLogger("nameko").setLevel(os.environ.get("NAMEKO_LOG_LEVEL", "WARNING").upper())
    logging.getLogger("kombu").setLevel("WARNING")
    logging.getLogger("amqp").setLevel("WARNING")


def init_sentry(service: str) -> None:
    """Report errors to Sentry when ``SENTRY_DSN`` is set."""
    dsn = os.environ.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        server_name=service,
        send_default_pii=False,
    )
