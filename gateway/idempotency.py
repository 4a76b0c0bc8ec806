"""Commands act once: every RPC the gateway makes while serving a write carries a command id, and an
``Idempotency-Key`` makes a client's retry of a create carry the same ones.

- A request with a write method (POST, PUT, PATCH, DELETE) gets a fresh base id; each RPC it makes gets
  an id derived from the base, its place in the request and its method. A redelivered RPC request (the
  same message, re-queued because the service died before acking it) carries its id again, and the
  service answers it from its record instead of acting twice (``helpdesk_common.commands``).
- On a view marked ``@idempotent`` (every create) an ``Idempotency-Key`` header (1-255 printable ASCII,
  else 400) derives the base from the caller's user id, the method and route and the key instead, so a
  retry carries the same ids; a fingerprint of the request (method, path, canonical JSON body or form)
  goes along, and the key used again for another request is refused with 422. An answer the service
  replays is sent again as it was (same status, same body) with ``Idempotent-Replayed: true``. Services
  keep their records ``COMMAND_RETENTION_HOURS`` (at least 24 h).

Queries (GET) carry nothing and cost nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_smorest import Blueprint

from gateway.errors import MalformedRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENT_ATTR = "gateway_idempotent"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
KEY_MESSAGE = "Idempotency-Key must be 1 to 255 printable ASCII characters."
PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7e]+$"},
    "description": "Makes a retry safe: the same key with the same request answers the first answer again "
    "(same status and body, with `Idempotent-Replayed: true`) instead of creating twice; the same key "
    "with another request is refused with 422. Keys are kept at least 24 hours. Use a fresh random one "
    "(a UUID) per operation.",
}

View = TypeVar("View", bound=Callable)


@dataclass(frozen=True)
class Command:
    """What one RPC carries: its command id and the fingerprint of the request it serves."""

    id: str
    fingerprint: str


def idempotent(view: View) -> View:
    """Honour ``Idempotency-Key`` on a view that creates something, and document the header."""
    view = Blueprint.doc(parameters=[PARAMETER])(view)
    setattr(view, IDEMPOTENT_ATTR, True)
    return view


def init_idempotency(app: Flask) -> None:
    """Give every write request its command ids (before its view runs) and mark replayed answers."""
    app.before_request(_begin)
    app.after_request(_mark_replayed)


def next_command(service: str, method: str) -> Command | None:
    """Return the command id for the next RPC of this request (None outside a write request)."""
    if not has_request_context() or "command_calls" not in g:
        return None
    g.command_calls += 1
    base = g.get("command_base")
    if base is None:  # keyed: derived once the view knows its caller (require_auth ran before any RPC)
        user = (g.get("current_user") or {}).get("id") or "anonymous"
        rule = request.url_rule.rule if request.url_rule is not None else request.path
        base = g.command_base = _digest(user, request.method, rule, g.idempotency_key)
        g.command_fingerprint = request_fingerprint()
    return Command(_digest(base, str(g.command_calls), f"{service}.{method}")[:32], g.get("command_fingerprint", ""))


def mark_replayed() -> None:
    """Note that a service answered this request's command from its record."""
    if has_request_context():
        g.command_replayed = True


def replayed() -> bool:
    """Tell whether an answer of this request was replayed from a service's record."""
    return has_request_context() and bool(g.get("command_replayed"))


def request_fingerprint() -> str:
    """Return a hash of what makes this request this request: method, path, canonical body or form."""
    body = request.get_json(silent=True) if request.is_json else None
    if body is not None:
        content = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    else:
        form = sorted((k, v) for k in request.form for v in request.form.getlist(k))
        files = sorted((k, f.filename or "", f.mimetype or "") for k in request.files for f in request.files.getlist(k))
        content = json.dumps({"form": form, "files": files, "length": request.content_length or 0})
    return _digest(request.method, request.full_path.rstrip("?"), content)


def _begin() -> None:
    if request.method not in WRITE_METHODS:
        return
    g.command_calls = 0
    key = request.headers.get(HEADER)
    view = current_app.view_functions.get(request.endpoint or "")
    if key is None or not getattr(view, IDEMPOTENT_ATTR, False):
        g.command_base = uuid.uuid4().hex
        return
    if not _KEY.match(key):
        raise MalformedRequest(KEY_MESSAGE, {HEADER: [KEY_MESSAGE]})
    g.idempotency_key = key


def _mark_replayed(response: Response) -> Response:
    if g.get("command_replayed"):
        response.headers[REPLAYED_HEADER] = "true"
    return response


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
