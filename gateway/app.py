"""The application factory, served by ``python -m gateway.serve`` (granian; see ``gateway/serve.py``)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_cors import CORS
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.api import attachments as attachments_api
from gateway.api import auth as auth_api
from gateway.api import automation as automation_api
from gateway.api import categories as categories_api
from gateway.api import departments as departments_api
from gateway.api import organizations as organizations_api
from gateway.api import rules as rules_api
from gateway.api import templates as templates_api
from gateway.api import tickets as tickets_api
from gateway.api import users as users_api
from gateway.auth import BEARER_SCHEME, TokenService
from gateway.config import load_config
from gateway.docs import ASSETS_URL, init_docs
from gateway.errors import register_error_handlers
from gateway.guard import init_guard
from gateway.health import blp as health_blp
from gateway.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway.idempotency import REPLAYED_HEADER, init_idempotency
from gateway.observability import init_observability
from gateway.openapi import GatewayMarshmallowPlugin, document_common_errors, openapi_path
from gateway.ratelimit import RATE_LIMIT_ATTR, init_rate_limits
from gateway.revocation import RevocationFeed, RevocationStore
from gateway.rpc import RpcPool
from gateway.schemas.common import ErrorEnvelopeSchema
from helpdesk_common.context import CORRELATION_HEADER
from helpdesk_common.logging import configure_logging, init_sentry

log = logging.getLogger(__name__)

RESOURCES = (auth_api, users_api, departments_api, organizations_api, tickets_api, attachments_api, categories_api,
             automation_api, templates_api, rules_api)


class GatewayApi(Api):
    """flask-smorest's Api, documenting our error envelope as the error response.

    No catch-all ``default`` answer: ``gateway.openapi.document_common_errors`` lists each operation's.
    """

    ERROR_SCHEMA = ErrorEnvelopeSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


def create_app(config: dict[str, Any] | None = None, rpc: Any = None) -> Flask:
    """Build the gateway.

    ``config`` overrides settings read from the environment (tests pass ``TESTING`` and limits);
    ``rpc`` replaces the RPC pool with anything that has ``call(service, method, *args, **kwargs)``
    and ``ping_all(services, timeout)``.
    """
    app = Flask(__name__)
    load_config(app, config)
    if not app.config["TESTING"]:
        configure_logging("gateway")
        init_sentry("gateway")
    app.json.sort_keys = False  # keep {"success", "data", "message"} and schema field order

    if rpc is None:
        rpc = RpcPool(
            app.config["AMQP_URI"], size=int(app.config["RPC_POOL_SIZE"]), timeout=float(app.config["RPC_TIMEOUT"])
        )
    app.extensions["gateway.rpc"] = rpc
    revocations = RevocationStore(horizon=float(app.config["ACCESS_TOKEN_TTL"]))
    app.extensions["gateway.tokens"] = TokenService(
        secret=app.config["JWT_SECRET"],
        issuer=app.config["JWT_ISSUER"],
        audience=app.config["JWT_AUDIENCE"],
        access_ttl=int(app.config["ACCESS_TOKEN_TTL"]),
        refresh_ttl=int(app.config["REFRESH_TOKEN_TTL"]),
        revocations=revocations,
    )
    feed_wanted = app.config["REVOCATION_FEED"]
    if feed_wanted or (feed_wanted is None and not app.config["TESTING"]):
        app.extensions["gateway.revocation_feed"] = _start_revocation_feed(app, rpc, revocations)

    init_observability(app)  # first: binds the correlation id before any other hook can fail
    init_guard(app)  # next: every input is checked before authentication or any view reads it

    app.config["OPENAPI_SWAGGER_UI_URL"] = ASSETS_URL
    api = GatewayApi(
        app, spec_kwargs={"info": {"description": _API_DESCRIPTION}, "marshmallow_plugin": GatewayMarshmallowPlugin()}
    )
    api.spec.components.security_scheme(BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    register_error_handlers(app)  # after the Api, whose own HTTPException handler ours replaces
    for resource in RESOURCES:
        api.register_blueprint(resource.blp)
    app.register_blueprint(health_blp)
    document_common_errors(api.spec, rate_limited=_rate_limited_operations(app))
    init_docs(app)
    init_rate_limits(app)  # after the views exist: it wraps the ones marked @rate_limited
    init_idempotency(app)

    if app.config["CORS_ORIGINS"]:
        CORS(
            app,
            resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
            allow_headers=["Authorization", "Content-Type", "If-Match", IDEMPOTENCY_HEADER, CORRELATION_HEADER],
            expose_headers=[CORRELATION_HEADER, "Retry-After", "Location", "ETag", "Content-Disposition",
                            REPLAYED_HEADER],
            max_age=600,
        )
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:  # only behind a known number of proxies may X-Forwarded-For name the client
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


def _rate_limited_operations(app: Flask) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions.get(rule.endpoint), RATE_LIMIT_ATTR, None):
            operations |= {(method.lower(), openapi_path(rule.rule)) for method in rule.methods or ()}
    return operations


def _start_revocation_feed(app: Flask, rpc: Any, store: RevocationStore) -> RevocationFeed:
    """Start this worker's revocation feed and give it a moment to catch up before the worker serves."""
    feed = RevocationFeed(
        amqp_uri=app.config["AMQP_URI"],
        store=store,
        catch_up=lambda since: rpc.call("users", "list_revocations", since, rpc_timeout=3.0),
    ).start()
    wait = float(app.config["REVOCATION_STARTUP_WAIT"])
    if not feed.wait_caught_up(wait):
        log.warning("revocations not caught up after %.1f s; serving, and catching up when the users service answers", wait)
    return feed


_API_DESCRIPTION = (
    "Every answer is an envelope: `{success, data, message}` on success, `{success: false, message, errors}` "
    "on failure (`errors` maps fields to messages). Lists put `{items, pagination}` in `data`. "
    "Send `Authorization: Bearer <access_token>`; access tokens live 15 minutes, refresh tokens 7 days. "
    "Tickets answer `ETag: \"<version>\"`; send it as `If-Match` on a write to have it refused (412) "
    "if the ticket changed meanwhile. "
    "Creates take an optional `Idempotency-Key` header: a retry with the same key and request answers the "
    "first answer again (with `Idempotent-Replayed: true`) instead of creating twice."
)
