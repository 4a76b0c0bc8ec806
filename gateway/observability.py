"""Per-request instrumentation: the correlation id, Prometheus metrics and one access-log line.

Metrics work in one process, or across the server's workers when ``PROMETHEUS_MULTIPROC_DIR`` names a
directory that exists before the workers start (``gateway/serve.py`` sees to that).
"""

from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from helpdesk_common.context import CORRELATION_HEADER, new_correlation_id, set_correlation_id

log = logging.getLogger("gateway.access")
_PROBES = {"/health/live", "/health/ready", "/metrics"}

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Accept a caller's id only if it is short and plain, so it cannot forge log lines or headers.
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter(
    "helpdesk_gateway_requests_total",
    "HTTP requests answered by the gateway",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "helpdesk_gateway_request_duration_seconds",
    "Time to answer an HTTP request",
    ["endpoint", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)


def init_observability(app: Flask) -> None:
    """Bind a correlation id to every request, count and time it, and serve ``GET /metrics``.

    Call first, so the correlation id is bound before any other hook may fail the request.
    """
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_unbind)
    app.add_url_rule("/metrics", endpoint="metrics", view_func=metrics_view, methods=["GET"])


def _begin() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get(CORRELATION_HEADER, "")
    g.correlation_id = incoming if _VALID_CORRELATION_ID.match(incoming) else new_correlation_id()
    set_correlation_id(g.correlation_id)


def _finish(response: Response) -> Response:
    correlation_id = g.get("correlation_id")
    if correlation_id:
        response.headers[CORRELATION_HEADER] = correlation_id
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    endpoint = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    method = request.method if request.method in _METHODS else "OTHER"
    status = str(response.status_code)
    REQUESTS.labels(endpoint=endpoint, method=method, status=status).inc()
    LATENCY.labels(endpoint=endpoint, method=method, status=status).observe(elapsed)
    # probes and scrapes come every few seconds from Kubernetes and Prometheus: their successes are not news
    quiet = endpoint in _PROBES and response.status_code < 400
    log.log(
        logging.DEBUG if quiet else logging.INFO,
        "%s %s %s %.1fms",
        request.method,
        request.path,
        status,
        elapsed * 1000,
        extra={
            "http_method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 1),
            "pid": os.getpid(),  # which worker process served it, when several do
        },
    )
    return response


def _unbind(_exc: BaseException | None = None) -> None:
    set_correlation_id(None)


def metrics_view() -> Response:
    """Expose the Prometheus metrics (of every worker in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
