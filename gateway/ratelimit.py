"""Per-client-IP rate limits on the endpoints that guess passwords or send e-mail.

Only views marked with ``rate_limited`` are limited (no application-wide default). Counters live in
``RATELIMIT_STORAGE_URI`` (memory by default, one process; Redis to share them
between workers and replicas). If that storage is down, limits fall back to per-process memory
rather than failing the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

RATE_LIMIT_ATTR = "gateway_rate_limit_config_key"

View = TypeVar("View", bound=Callable)


def rate_limited(config_key: str) -> Callable[[View], View]:
    """Mark a view to be limited by the rate in ``app.config[config_key]`` (e.g. ``"10/minute"``).

    Apply it right under ``blp.route`` so the limit is checked before anything else.
    """

    def mark(view: View) -> View:
        setattr(view, RATE_LIMIT_ATTR, config_key)
        return view

    return mark


def init_rate_limits(app: Flask) -> Limiter:
    """Create this app's limiter and wrap every marked view; call after the blueprints are registered."""
    storage_uri = app.config["RATELIMIT_STORAGE_URI"]
    options = {}
    if storage_uri.startswith(("redis://", "rediss://", "redis+")):
        options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    limiter = Limiter(key_func=get_remote_address, storage_uri=storage_uri, storage_options=options)
    limiter.init_app(app)
    app.extensions["gateway.limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        config_key = getattr(view, RATE_LIMIT_ATTR, None)
        if config_key:
            app.view_functions[endpoint] = limiter.limit(app.config[config_key])(view)
    # A wrapped view checks its own limit when called. The limiter's before-request hook only serves
    # application-wide and blueprint limits, which the gateway has none of, and costs every request
    # the resolution of which limits apply: drop it. (A default limit added later would need it back.)
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    return limiter
