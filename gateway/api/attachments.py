"""Ticket attachments: upload, list, download, delete.

Bytes never travel over RPC. An upload is streamed into the attachment storage the tickets service
shares with the gateway (``ATTACHMENTS_DIR``, default ``<HELPDESK_VAR_DIR>/attachments``) under a random
key, then ``tickets.add_attachment`` checks it (ticket visibility, allowed type by extension and
content, size) and records it, or removes it. A download first asks ``tickets.get_attachment``, which
answers 404 unless the caller may read the file; only then is a byte served.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, request, url_for
from marshmallow import ValidationError
from werkzeug.wsgi import wrap_file

from gateway.api.blueprint import Blueprint, repeated_once_only
from gateway.auth import current_actor, require_auth
from gateway.envelope import success, whole_list
from gateway.errors import error_response
from gateway.idempotency import idempotent, replayed
from gateway.rpc import rpc
from gateway.schemas.attachments import UPLOAD_FORM, AttachmentSchema, UploadFieldsSchema
from gateway.schemas.common import ErrorEnvelopeSchema, MessageEnvelopeSchema, envelope, page_envelope
from helpdesk_common.config import var_dir
from helpdesk_contracts.errors import NotFound, ValidationFailed

log = logging.getLogger(__name__)

blp = Blueprint("attachments", __name__, url_prefix="/api/v1", description="Files attached to tickets.")

SERVICE = "tickets"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MULTIPART_SLACK = 64 * 1024  # room for the form's boundaries and headers around the file
CHUNK = 64 * 1024
_SAFE_TYPES_PREFIXES = ("image/", "application/", "message/rfc822", "text/plain", "text/csv")
_UPLOAD_ENDPOINTS = frozenset({"attachments.upload", "attachments.upload_singular"})
_LIMITS = (
    "Accepted: png, jpg/jpeg, gif, webp, pdf, txt, log, csv, eml, zip, docx, xlsx, pptx — the content must "
    "match the extension (422 otherwise). At most `ATTACHMENT_MAX_BYTES` (default 10 MiB; 413 beyond)."
)


def _errors(*statuses: int):
    descriptions = {
        403: "Your role may not do this.",
        404: "No such ticket or attachment, or not one you may see.",
        413: "The file is too large.",
    }

    def decorate(view):
        for status in reversed(statuses):
            view = blp.alt_response(status, schema=ErrorEnvelopeSchema, description=descriptions[status])(view)
        return view

    return decorate


def max_bytes() -> int:
    """Return the largest file accepted (``ATTACHMENT_MAX_BYTES``, as the tickets service reads it)."""
    configured = current_app.config.get("ATTACHMENT_MAX_BYTES") or os.environ.get("ATTACHMENT_MAX_BYTES")
    return int(configured) if configured else DEFAULT_MAX_BYTES


def storage_root() -> Path:
    """Return the attachment directory shared with the tickets service."""
    configured = current_app.config.get("ATTACHMENTS_DIR") or os.environ.get("ATTACHMENTS_DIR")
    return Path(configured).resolve() if configured else var_dir() / "attachments"


@blp.before_request
def _raise_body_limit_for_uploads() -> Response | None:
    """Let uploads (only them) through the app-wide 1 MiB body limit, up to the attachment cap."""
    if request.endpoint in _UPLOAD_ENDPOINTS:
        limit = max_bytes()
        if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
            return _too_large(limit)  # refused before a byte of the body is read
        request.max_content_length = limit + MULTIPART_SLACK
    return None


def _too_large(limit: int) -> Response:
    message = f"The file is too large: at most {limit} bytes."
    return error_response(413, message, {"file": [message]})


def _store(stream: Any, limit: int) -> str | None:
    """Write an uploaded stream into the storage under a new random key; None (nothing kept) past ``limit``."""
    key = secrets.token_urlsafe(24)
    target = storage_root() / key[:2] / key  # the storage layout the tickets service reads
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    Path(temp).unlink()
                    return None
                out.write(chunk)
        os.replace(temp, target)  # atomic: the service never sees half a file
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return key


def _discard(key: str) -> None:
    (storage_root() / key[:2] / key).unlink(missing_ok=True)


_UPLOAD_FIELDS = UploadFieldsSchema()


def _upload(ticket_id) -> Any:
    if repeated := repeated_once_only(request.form):
        raise ValidationFailed("Validation failed.", repeated)
    try:  # an empty field is an absent one, as a form leaves it
        form = _UPLOAD_FIELDS.load({name: value for name, value in request.form.items() if value != ""})
    except ValidationError as error:
        raise ValidationFailed("Validation failed.", error.messages) from None
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed("Send the file as the multipart field `file`.", {"file": ["Missing."]})
    limit = max_bytes()
    key = _store(upload.stream, limit)
    if key is None:
        return _too_large(limit)
    meta: dict[str, Any] = {"storage_key": key, "filename": upload.filename}
    if "comment_id" in form:
        meta["comment_id"] = form["comment_id"]
    if form.get("internal"):
        meta["internal"] = True
    try:
        attachment = rpc().call(SERVICE, "add_attachment", str(ticket_id), meta, actor=current_actor())
    except BaseException:
        _discard(key)  # the service removes what it refuses; this covers timeouts and outages too
        raise
    if replayed():
        _discard(key)  # a retry answered with the first upload's attachment: this copy is not needed
    location = url_for("attachments.download", attachment_id=attachment["id"])
    return success(attachment, "Attachment added."), 201, {"Location": location}


@blp.route("/tickets/<uuid:ticket_id>/attachments", methods=["POST"])
@require_auth()
@blp.doc(requestBody=UPLOAD_FORM, description=_LIMITS)
@blp.response(201, envelope(AttachmentSchema))
@_errors(403, 404, 413)
@idempotent
def upload(ticket_id):
    """Attach a file to a ticket you can see (multipart `file`; optionally on a comment with `comment_id`)."""
    return _upload(ticket_id)


@blp.route("/tickets/<uuid:ticket_id>/attachment", methods=["POST"])
@require_auth()
@blp.doc(requestBody=UPLOAD_FORM, description=_LIMITS, deprecated=True)
@blp.response(201, envelope(AttachmentSchema))
@_errors(403, 404, 413)
@idempotent
def upload_singular(ticket_id):
    """Attach a file: the seed's spelling of `POST /tickets/{ticket_id}/attachments`."""
    return _upload(ticket_id)


@blp.route("/tickets/<uuid:ticket_id>/attachments", methods=["GET"])
@require_auth()
@blp.response(200, page_envelope(AttachmentSchema))
@_errors(404)
def list_attachments(ticket_id):
    """List a ticket's attachments, oldest first (internal ones for agents only)."""
    return success(whole_list(rpc().call(SERVICE, "list_attachments", str(ticket_id), actor=current_actor())))


@blp.route("/attachments/<uuid:attachment_id>", methods=["GET"])
@require_auth()
@blp.response(200, envelope(AttachmentSchema))
@_errors(404)
def get_attachment(attachment_id):
    """Return an attachment's metadata."""
    attachment = rpc().call(SERVICE, "get_attachment", str(attachment_id), actor=current_actor())
    return success({k: v for k, v in attachment.items() if k not in ("storage_key", "storage_path")})


@blp.route("/attachments/<uuid:attachment_id>/download", methods=["GET"])
@require_auth()
@blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/octet-stream",
    description="The file, as an attachment, with the content type it was stored as.",
)
@_errors(404)
def download(attachment_id):
    """Download an attachment you may see."""
    attachment = rpc().call(SERVICE, "get_attachment", str(attachment_id), actor=current_actor())
    root = storage_root()
    path = (root / attachment["storage_path"]).resolve()
    if root not in path.parents:
        raise NotFound("Attachment not found.")
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        log.error("attachment %s is recorded but its file %s is missing", attachment["id"], path)
        raise NotFound("The attachment's file is missing.") from None
    size = os.fstat(handle.fileno()).st_size
    response = Response(
        wrap_file(request.environ, handle),
        direct_passthrough=True,
        content_type=_served_type(attachment["content_type"]),
    )
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = content_disposition(attachment["filename"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/attachments/<uuid:attachment_id>", methods=["DELETE"])
@require_auth()
@blp.response(200, MessageEnvelopeSchema)
@_errors(403, 404)
def delete_attachment(attachment_id):
    """Remove an attachment (its uploader, or an agent)."""
    rpc().call(SERVICE, "delete_attachment", str(attachment_id), actor=current_actor())
    return success(None, "Attachment deleted.")


def _served_type(content_type: str) -> str:
    # the service stores types from its allow-list only; anything else is served as opaque bytes
    if "html" in content_type or "xml" in content_type or not content_type.startswith(_SAFE_TYPES_PREFIXES):
        return "application/octet-stream"
    return f"{content_type}; charset=utf-8" if content_type.startswith("text/") else content_type


def content_disposition(filename: str) -> str:
    """Return ``attachment`` with an ASCII fallback name and the exact UTF-8 one (RFC 6266 / 5987)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
