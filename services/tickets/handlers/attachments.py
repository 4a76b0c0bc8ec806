"""Files on a ticket: their metadata, and who may read or remove them.

The bytes are written to the attachment storage first (by the gateway, under a random key); these
handlers check them, own their metadata and decide who may read them."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from services.tickets import schemas
from services.tickets.domain import attachments as attachment_rules
from services.tickets.domain import rules
from services.tickets.domain.errors import NotFound, PermissionDenied, TicketNotFound, ValidationFailed
from services.tickets.handlers.common import actor_from, visible
from services.tickets.handlers.ports import AttachmentStorage, TicketsUnitOfWork


def add_attachment(ticket_id: str, meta: dict[str, Any], actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                   storage: AttachmentStorage, max_bytes: int = attachment_rules.DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Record an uploaded file on a ticket (or one of its comments); refused uploads are removed from storage."""
    key = meta.get("storage_key") if isinstance(meta, dict) else None
    if not isinstance(key, str) or not attachment_rules.is_storage_key(key):
        raise ValidationFailed("An uploaded file is required.", {"file": ["Missing."]})
    try:
        row = _check_upload(ticket_id, meta, actor_raw, key, uow=uow, storage=storage, max_bytes=max_bytes)
    except Exception:
        storage.delete(key)  # a refused or failed upload leaves nothing behind
        raise
    uow.commit()
    return _attachment_view(row)


def _check_upload(ticket_id: str, meta: dict[str, Any], actor_raw: dict[str, Any], key: str, *, uow: TicketsUnitOfWork,
                  storage: AttachmentStorage, max_bytes: int) -> dict[str, Any]:
    actor = actor_from(actor_raw)
    if actor.id is None:
        raise ValidationFailed("An attachment needs a person as its uploader.", {"actor": ["Missing id."]})
    ticket = visible(uow, ticket_id, actor)
    internal = meta.get("internal") is True
    if internal and not actor.is_staff:
        raise PermissionDenied("Only agents can add internal attachments.")
    comment_id = meta.get("comment_id")
    if comment_id is not None:
        comment = next((c for c in uow.comments.of(ticket.id, include_internal=actor.is_staff)
                        if c.id == comment_id), None)
        if comment is None:
            raise ValidationFailed("No such comment on this ticket.", {"comment_id": ["Not a comment of this ticket."]})
        internal = internal or bool(comment.internal)  # an attachment on an internal note is internal
    filename = attachment_rules.sanitize_filename(meta.get("filename") or "")
    content_type = attachment_rules.content_type_for(filename)
    allowed = ", ".join(sorted(attachment_rules.ALLOWED))
    if not filename or content_type is None:
        raise ValidationFailed("This type of file is not accepted.", {"file": [f"Allowed extensions: {allowed}."]})
    try:
        with storage.open(key) as stream:
            head = stream.read(attachment_rules.SNIFF_BYTES)
            if not attachment_rules.content_matches(filename, head):
                raise ValidationFailed("The file's content does not match its extension.",
                                       {"file": [f"Not a valid .{attachment_rules.extension(filename)} file."]})
            size, digest = _measure(head, stream)
    except FileNotFoundError:
        raise ValidationFailed("An uploaded file is required.", {"file": ["Not found in storage."]}) from None
    if size > max_bytes:
        raise ValidationFailed("The file is too large.", {"file": [f"At most {max_bytes} bytes."]})
    now = uow.clock.now()
    row = {"id": str(uuid.uuid4()), "ticket_id": ticket.id, "comment_id": comment_id, "filename": filename,
           "content_type": content_type, "size": size, "sha256": digest, "storage_key": key,
           "uploaded_by": actor.id, "created_at": now, "internal": internal}
    uow.attachments.add(row)
    uow.tickets.record_history(ticket.id, actor=actor, action="attachment_added",
                              changes={"attachment": {"before": None, "after": filename}}, now=now, public=not internal)
    return row


def _measure(head: bytes, stream: Any) -> tuple[int, str]:
    digest, size = hashlib.sha256(head), len(head)
    while chunk := stream.read(64 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def list_attachments(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> list[dict[str, Any]]:
    """Return a ticket's attachments, oldest first; internal ones only for agents."""
    actor = actor_from(actor_raw)
    ticket = visible(uow, ticket_id, actor)
    rows = uow.attachments.for_ticket(
        ticket.id, include_internal=actor.is_staff or actor.role == "system")
    return [_attachment_view(row) for row in rows]


def _visible_attachment(uow: TicketsUnitOfWork, attachment_id: str, actor: rules.Actor) -> dict[str, Any]:
    row = uow.attachments.find(str(attachment_id))
    if row is None:
        raise NotFound("Attachment not found.")
    try:
        visible(uow, row["ticket_id"], actor)
    except TicketNotFound:
        raise NotFound("Attachment not found.") from None  # no existence oracle, as for tickets
    if row["internal"] and not (actor.is_staff or actor.role == "system"):
        raise NotFound("Attachment not found.")
    return row


def get_attachment(attachment_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> dict[str, Any]:
    """Return an attachment's metadata and where its bytes are, if the caller may read it."""
    actor = actor_from(actor_raw)
    row = _visible_attachment(uow, attachment_id, actor)
    return {**_attachment_view(row), "storage_key": row["storage_key"],
            "storage_path": attachment_rules.storage_path(row["storage_key"])}


def delete_attachment(attachment_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                      storage: AttachmentStorage) -> None:
    """Remove an attachment (its uploader, or an agent who sees the ticket); the bytes go after the commit."""
    actor = actor_from(actor_raw)
    row = _visible_attachment(uow, attachment_id, actor)
    if row["uploaded_by"] != actor.id and not (actor.is_staff or actor.role == "system"):
        raise PermissionDenied("Only its uploader or an agent can remove an attachment.")
    uow.attachments.remove(row["id"])
    uow.tickets.record_history(row["ticket_id"], actor=actor, action="attachment_removed",
                              changes={"attachment": {"before": row["filename"], "after": None}},
                              now=uow.clock.now(), public=not row["internal"])
    # after the commit (inside a command it follows the handler): a failed commit must not lose the bytes
    # (a failed delete only leaves an orphan file)
    uow.after_commit(lambda: storage.delete(row["storage_key"]))
    uow.commit()


def _attachment_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "ticket_id": row["ticket_id"], "comment_id": row["comment_id"],
        "filename": row["filename"], "content_type": row["content_type"], "size": int(row["size"]),
        "sha256": row["sha256"], "uploaded_by": row["uploaded_by"], "internal": bool(row["internal"]),
        "created_at": schemas.iso(row["created_at"]),
    }
