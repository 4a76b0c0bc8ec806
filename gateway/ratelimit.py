"""Rate limits on the endpoints that guess passwords or send e-mail, per address, per account or both.

Only views marked with ``rate_limited`` are limited (no application-wide default). Counters live in
``RATELIMIT_STORAGE_URI``: Redis (``make run``, compose and k8s) so that every worker and replica counts
against one budget; memory, the default when nothing is configured, counts per process. If Redis is down,
limits fall back to per-process memory (logged by flask-limiter) rather than failing the request, and go
back to Redis once it answers again.

Sign-in is limited three ways so that a guesser on one address cannot lock other accounts out: failed
attempts per account from one address, failed attempts per account from all addresses (a higher bound,
against guessing spread over many addresses), and every attempt per address (a higher bound still,
against trying many accounts). The account is the normalised e-mail of the request's body, hashed.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

RATE_LIMIT_ATTR = "gateway_rate_limits"

PER_ADDRESS = "address"
PER_ACCOUNT = "account"
PER_ACCOUNT_AND_ADDRESS = "account+address"

View = TypeVar("View", bound=Callable)


@dataclass(frozen=True)
class Rule:
    """One limit on a view: the rate in ``app.config[config_key]``, counted per ``per``."""

    config_key: str
    per: str = PER_ADDRESS
    failures_only: bool = False  # count only answers that refused the credentials (401)


def rate_limited(config_key: str, *, per: str = PER_ADDRESS, failures_only: bool = False) -> Callable[[View], View]:
    """Mark a view to be limited by the rate in ``app.config[config_key]`` (e.g. ``"10/minute"``), counted ``per``.

    Apply it right under ``blp.route`` so the limit is checked before anything else; stack several for
    several limits.
    """
    if per not in KEYS:
        raise ValueError(f"unknown rate-limit key {per!r}; one of {sorted(KEYS)}")
    rule = Rule(config_key, per, failures_only)

    def mark(view: View) -> View:
        setattr(view, RATE_LIMIT_ATTR, (*getattr(view, RATE_LIMIT_ATTR, ()), rule))
        return view

    return mark


def normalize_account(email: object) -> str:
    """Return the account an e-mail names for counting: NFKC, stripped, case-folded ("" when not a string)."""
    if not isinstance(email, str):
        return ""
    return unicodedata.normalize("NFKC", email).strip().casefold()


def account_key(email: object) -> str:
    """Return the counter key of an account: a digest, so keys stay short and hold no e-mail address."""
    return hashlib.sha256(normalize_account(email).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _request_email() -> object:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # absurdly nested JSON: the view refuses it; count it under the empty account
        return None
    return body.get("email") if isinstance(body, dict) else None


def _address() -> str:
    return get_remote_address() or "-"


def _account() -> str:
    return account_key(_request_email())


def _account_and_address() -> str:
    # The address first: it holds no space, so the pair cannot be forged from another account's key.
    return f"{_address()} {_account()}"


KEYS: dict[str, Callable[[], str]] = {
    PER_ADDRESS: _address,
    PER_ACCOUNT: _account,
    PER_ACCOUNT_AND_ADDRESS: _account_and_address,
}


def _refused_credentials(response: Response) -> bool:
    return response.status_code == 401


def init_rate_limits(app: Flask) -> Limiter:
    """Create this app's limiter and wrap every marked view; call after the blueprints are registered."""
    storage_uri = app.config["RATELIMIT_STORAGE_URI"]
    options = {}
    if storage_uri.startswith(("redis://", "rediss://", "redis+")):
        options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    limiter = Limiter(key_func=_address, storage_uri=storage_uri, storage_options=options)
    limiter.init_app(app)
    app.extensions["gateway.limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        for rule in getattr(view, RATE_LIMIT_ATTR, ()):
            view = limiter.limit(
                app.config[rule.config_key],
                key_func=KEYS[rule.per],
                scope=rule.config_key,  # each rule its own counters, even where two share a key
                deduct_when=_refused_credentials if rule.failures_only else None,
            )(view)
        app.view_functions[endpoint] = view
    # A wrapped view checks its own limit when called. The limiter's before-request hook only serves
    # application-wide and blueprint limits, which the gateway has none of, and costs every request
    # the resolution of which limits apply: drop it. (A default limit added later would need it back.)
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    return limiter
