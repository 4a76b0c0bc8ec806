"""The one table from error families to HTTP statuses, and the error envelope every failure answers with.

Services raise the classes of ``helpdesk_contracts.errors``; ``gateway.rpc`` turns them back into
instances; this module maps each *family* (not each class) to a status, so a new error a service adds
lands on the right status without touching the gateway. Anything unmapped is a 500 with a generic
message: the details go to the log (and Sentry), never into a response.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import sentry_sdk
from flask import Flask, current_app, jsonify
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from helpdesk_contracts.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ServiceError,
    Unavailable,
    ValidationFailed,
)

log = logging.getLogger(__name__)


class ServiceUnavailable(ServiceError):
    """A service needed for this request is not available; try again later."""

    @classmethod
    def for_service(cls, service: str) -> ServiceUnavailable:
        """Build the error that names the unavailable service."""
        return cls(f"The {service} service is unavailable; try again later.")


class ServiceTimeout(ServiceError):
    """A service needed for this request did not answer in time."""

    @classmethod
    def for_service(cls, service: str) -> ServiceTimeout:
        """Build the error that names the slow service."""
        return cls(f"The {service} service did not answer in time; try again later.")


class UnexpectedServiceError(ServiceError):
    """A service failed unexpectedly; the error was logged."""


class InvalidToken(AuthenticationFailed):
    """The access token is missing, invalid or expired."""


class MalformedRequest(ServiceError):
    """The request is malformed (a header the gateway reads, for instance); raised by the gateway only."""


# The one table: the first family in a class's MRO that appears here decides its status.
STATUS_BY_FAMILY: dict[type[Exception], int] = {
    MalformedRequest: 400,
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    PreconditionFailed: 412,
    Unavailable: 503,  # a service's own dependency is down (e.g. SearchUnavailable)
    ServiceUnavailable: 503,
    ServiceTimeout: 504,
    RateLimitExceeded: 429,
}

GENERIC_500_MESSAGE = "Something went wrong on our side; the error was logged."

# Short messages for errors raised by Flask/werkzeug itself (routing, body size, ...).
_HTTP_MESSAGES = {
    400: "The request is malformed.",
    401: "Authentication required.",
    403: "You do not have permission to do this.",
    404: "Resource not found.",
    405: "Method not allowed.",
    406: "Only application/json responses are available.",
    413: "The request body is too large.",
    415: "The request body must be JSON (Content-Type: application/json).",
    422: "Validation failed.",
    429: "Too many requests; slow down.",
}


def status_for(exc: BaseException) -> int | None:
    """Return the status of the first mapped family in the exception's MRO, if any."""
    for cls in type(exc).__mro__:
        status = STATUS_BY_FAMILY.get(cls)
        if status is not None:
            return status
    return None


def error_response(
    status: int,
    message: str,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
):
    """Return the error envelope ``{"success": false, "message", "errors"}`` with a status."""
    response = jsonify({"success": False, "message": message, "errors": errors or {}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="helpdesk"')
    return response


_LOCATIONS = frozenset({"json", "query", "querystring", "form", "view_args", "path", "headers", "cookies", "files"})


def flatten_messages(messages: Any) -> dict[str, list[str]]:
    """Flatten webargs messages (by location, then field) into ``{field: [msgs]}``.

    ``{"json": {"email": ["Not a valid email address."]}}`` becomes ``{"email": [...]}``; nested
    fields are joined with dots (``skills.0``); errors about the whole body stay under ``_schema``.
    """
    if isinstance(messages, dict) and messages and set(messages) <= _LOCATIONS:
        flat: dict[str, list[str]] = {}
        for by_field in messages.values():
            for name, msgs in _flatten(by_field, "").items():
                flat.setdefault(name, []).extend(msgs)
        return flat
    return _flatten(messages, "")


def _flatten(messages: Any, prefix: str) -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            for name, msgs in _flatten(value, f"{prefix}.{key}" if prefix else str(key)).items():
                flat.setdefault(name, []).extend(msgs)
    elif isinstance(messages, (list, tuple)) and all(isinstance(item, str) for item in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            for name, msgs in _flatten(item, prefix).items():
                flat.setdefault(name, []).extend(msgs)
    elif messages is not None:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _retry_after_seconds() -> int:
    limiter = current_app.extensions.get("gateway.limiter")
    current = limiter.current_limit if limiter is not None else None
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def handle_mapped_error(exc: Exception):
    """Answer an error of a mapped family (or an unmapped ServiceError, as a 500)."""
    status = status_for(exc)
    if isinstance(exc, RateLimitExceeded):
        retry_after = _retry_after_seconds()
        log.info("rate limit %s exceeded", exc.description)
        return error_response(
            429,
            f"Too many requests; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
    if status is None:
        return handle_unexpected_error(exc)
    message = getattr(exc, "message", None) or str(exc) or _HTTP_MESSAGES.get(status, "Error.")
    errors = getattr(exc, "errors", None) or {}
    if status >= 500:
        log.warning("answering %s: %s", status, message)
    else:
        log.info("answering %s (%s): %s", status, type(exc).__name__, message)
    return error_response(status, message, errors)


def handle_http_exception(exc: HTTPException):
    """Answer werkzeug/webargs errors (routing, body parsing, validation) with the envelope."""
    status = exc.code or 500
    if status >= 500:
        return handle_unexpected_error(exc)
    data = getattr(exc, "data", None) or {}
    errors: dict[str, list[str]] = {}
    if status == 400 and "messages" in data:
        message = "The request body is not valid JSON."
    elif "messages" in data:
        message = "Validation failed."
        errors = flatten_messages(data["messages"])
    else:
        message = _HTTP_MESSAGES.get(status) or exc.name
    headers = dict(data.get("headers") or {})
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    return error_response(status, message, errors, headers)


def handle_unexpected_error(exc: BaseException):
    """Log the error with its traceback, report it to Sentry and answer a generic 500."""
    log.error("unexpected error: %r", exc, exc_info=exc)
    # Handled errors never reach sentry-sdk's Flask integration, so report them here (a no-op
    # unless helpdesk_common.logging.init_sentry ran with SENTRY_DSN set).
    sentry_sdk.capture_exception(exc)
    return error_response(500, GENERIC_500_MESSAGE)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers; call after flask-smorest's Api so ours replace its HTTPException handler."""
    for family in STATUS_BY_FAMILY:
        app.register_error_handler(family, handle_mapped_error)
    app.register_error_handler(ServiceError, handle_mapped_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected_error)
