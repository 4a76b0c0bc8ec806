"""Shapes of ticket attachments: the metadata the API answers and the multipart form it accepts."""

from __future__ import annotations

from marshmallow import Schema, fields

from gateway.schemas.common import InputSchema, UuidString

_uuid = {"format": "uuid"}


class AttachmentSchema(Schema):
    """A file on a ticket (or on one of its comments); its bytes are at ``/attachments/{id}/download``."""

    id = fields.String(required=True, metadata=_uuid)
    ticket_id = fields.String(required=True, metadata=_uuid)
    comment_id = fields.String(allow_none=True, metadata=_uuid)
    filename = fields.String(required=True, metadata={"example": "screenshot.png"})
    content_type = fields.String(required=True, metadata={"example": "image/png"})
    size = fields.Integer(required=True, metadata={"description": "Bytes."})
    sha256 = fields.String(required=True)
    uploaded_by = fields.String(required=True, metadata=_uuid)
    internal = fields.Boolean(required=True, metadata={"description": "Agents only (on an internal note)."})
    created_at = fields.String(required=True, metadata={"format": "date-time"})


class UploadFieldsSchema(InputSchema):
    """The upload form's fields besides ``file`` (which arrives in ``request.files``)."""

    JSON_TYPES = False  # form values are text
    comment_id = UuidString()
    # what a form sends for a boolean: true/false, 1/0, or a checkbox's "on"
    internal = fields.Boolean(truthy={"true", "1", "on"}, falsy={"false", "0", "off"})


UPLOAD_FORM = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "The file (see the limits above)."},
                    "comment_id": {"type": "string", "format": "uuid", "description": "Attach to this comment."},
                    "internal": {"type": "boolean", "description": "Agents only: hide it from the requester."},
                },
                "additionalProperties": False,
            },
            "encoding": {"file": {"contentType": "application/octet-stream"}},
        }
    },
}
