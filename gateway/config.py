"""The gateway's settings: defaults, then the environment, then what the caller of create_app passes.

Every ``GATEWAY_<NAME>`` variable sets ``<NAME>`` (values that parse as JSON are converted, so
``GATEWAY_RPC_TIMEOUT=5`` is a number). A few settings shared with other processes are also read
under their plain names (``EXPLICIT_ENV``); the ``GATEWAY_`` spelling wins over them.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask

from helpdesk_common.config import DEFAULT_AMQP_URI

DEFAULTS: dict[str, Any] = {
    "TESTING": False,
    # OpenAPI (flask-smorest)
    "API_TITLE": "Helpdesk API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None, "persistAuthorization": True, "deepLinking": True},
    # tokens
    "JWT_SECRET": None,
    "JWT_ISSUER": "helpdesk",
    "JWT_AUDIENCE": "helpdesk-api",
    "ACCESS_TOKEN_TTL": 15 * 60,
    "REFRESH_TOKEN_TTL": 7 * 24 * 3600,
    # revocation (gateway/revocation.py): None = consume the users service's events unless TESTING
    "REVOCATION_FEED": None,
    "REVOCATION_STARTUP_WAIT": 5.0,  # seconds a starting worker waits to catch up before it serves
    # RPC
    "AMQP_URI": DEFAULT_AMQP_URI,
    "RPC_POOL_SIZE": None,  # None: one proxy per server thread (GATEWAY_THREADS, default 8)
    "RPC_TIMEOUT": 10.0,
    "SERVICES": "users,tickets,automation",
    "READINESS_TIMEOUT": 1.5,
    # rate limits (flask-limiter; the table is in gateway/README.md)
    "LOGIN_RATE_LIMIT": "10/minute",  # failed sign-ins of one account from one address
    "LOGIN_ACCOUNT_RATE_LIMIT": "50/hour",  # failed sign-ins of one account from all addresses
    "LOGIN_ADDRESS_RATE_LIMIT": "60/minute",  # every sign-in attempt from one address, any account
    "REGISTER_RATE_LIMIT": "10/minute",
    "PASSWORD_RESET_RATE_LIMIT": "5/minute",
    "EXPORT_RATE_LIMIT": "30/minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "helpdesk",  # several gateways on one Redis (test stacks) set their own
    "RATELIMIT_STRATEGY": "moving-window",  # exact: a fixed window lets twice the rate through across its edge
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    # exports: at most this many rows per file (read from the tickets service 100 at a time)
    "EXPORT_MAX_ROWS": 10_000,
    # HTTP
    "CORS_ORIGINS": "",
    "TRUSTED_PROXIES": 0,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
}

EXPLICIT_ENV = ("JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "AMQP_URI", "RATELIMIT_STORAGE_URI")

MIN_SECRET_BYTES = 32


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from the defaults, the environment and ``overrides``, then check it."""
    app.config.from_mapping(DEFAULTS)
    for name in EXPLICIT_ENV:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.from_prefixed_env("GATEWAY")
    if overrides:
        app.config.from_mapping(overrides)
    app.config["SERVICES"] = as_list(app.config["SERVICES"])
    app.config["CORS_ORIGINS"] = as_list(app.config["CORS_ORIGINS"])
    if app.config["RPC_POOL_SIZE"] is None:
        app.config["RPC_POOL_SIZE"] = int(app.config.get("THREADS") or 8)
    _check_secret(app)


def as_list(value: Any) -> list[str]:
    """Return a comma-separated string (or a list) as a list of non-empty strings."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def _check_secret(app: Flask) -> None:
    secret = app.config.get("JWT_SECRET")
    if app.config["TESTING"]:
        if not secret:  # tokens then only need to round-trip within this app
            app.config["JWT_SECRET"] = secrets.token_urlsafe(48)
        return
    if not secret:
        raise RuntimeError(
            "JWT_SECRET is not set; the gateway will not start without it (e.g. `openssl rand -hex 32`)."
        )
    if len(str(secret).encode()) < MIN_SECRET_BYTES:
        raise RuntimeError(
            f"JWT_SECRET is too short: use at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)."
        )
