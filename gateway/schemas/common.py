"""Fields and schemas every resource uses: strict inputs, envelopes, pagination."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from helpdesk_contracts import limits

NAME_MAX = 200
EMAIL_MAX = 254
PASSWORD_MAX = 128
PHONE_MAX = 40
TEXT_MAX = 2000
TOKEN_MAX = 4096
PAGE_LIMIT_MAX = limits.PAGE_LIMIT_MAX
PAGE_LIMIT_DEFAULT = 20


class Text(fields.String):
    """A string with surrounding whitespace removed that must not be blank."""

    default_error_messages = {"blank": "Must not be blank."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise self.make_error("blank")
        return text


class Prose(fields.String):
    """Free text (a description, a comment): kept exactly as written, but never empty or only whitespace."""

    default_error_messages = {"blank": "Must not be blank."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        prose = super()._deserialize(value, attr, data, **kwargs)
        if not prose.strip():
            raise self.make_error("blank")
        return prose


class Secret(fields.String):
    """A password or token: kept exactly as sent, but never empty or only whitespace."""

    default_error_messages = {"blank": "Must not be blank."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        secret = super()._deserialize(value, attr, data, **kwargs)
        if not secret.strip():
            raise self.make_error("blank")
        return secret


class EmailAddress(fields.Email):
    """An e-mail address, trimmed, at most 254 characters."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("validate", validate.Length(max=EMAIL_MAX))
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class UuidString(fields.UUID):
    """A UUID, validated and handed on as its canonical string (what the services use as ids)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:  # type: ignore[override]
        return str(super()._deserialize(value, attr, data, **kwargs))


def text(max_length: int, **kwargs: Any) -> Text:
    """Return a non-blank trimmed string field of at most ``max_length`` characters."""
    return Text(validate=validate.Length(max=max_length), **kwargs)


def password(**kwargs: Any) -> Secret:
    """Return a password field (at most 128 characters; strength is the users service's call)."""
    return Secret(validate=validate.Length(max=PASSWORD_MAX), **kwargs)


class InputSchema(Schema):
    """Base of every request schema: unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = RAISE


class ChangesSchema(InputSchema):
    """Base of partial updates: at least one field must be given."""

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Give at least one field to change.")


class PageQuerySchema(InputSchema):
    """``page`` (from 1) and ``limit`` (1 to 100) of a paginated list.

    The last page is ``limits.PAGE_MAX``: past it, ``(page - 1) * limit`` would overflow a 64-bit offset.
    """

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=limits.PAGE_MAX))
    limit = fields.Integer(load_default=PAGE_LIMIT_DEFAULT, validate=validate.Range(min=1, max=PAGE_LIMIT_MAX))


class PaginationSchema(Schema):
    """Where a page sits in the whole list."""

    page = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    total = fields.Integer(required=True)
    total_pages = fields.Integer(required=True)
    total_exact = fields.Boolean(
        required=True,
        metadata={"description": "False when `total` is a lower bound: a search counts its matches only as far as "
                                 "the deepest page (10,000) reaches."},
    )


class ErrorEnvelopeSchema(Schema):
    """Every error: ``success`` false, a message, and the messages per field."""

    success = fields.Boolean(required=True, metadata={"example": False})
    message = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"example": {"email": ["Not a valid email address."]}},
    )


_envelopes: dict[str, type[Schema]] = {}


def _envelope(name: str, data_field: fields.Field) -> type[Schema]:
    if name not in _envelopes:
        _envelopes[name] = Schema.from_dict(
            {
                "success": fields.Boolean(required=True, metadata={"example": True}),
                "data": data_field,
                "message": fields.String(required=True),
            },
            name=name,
        )
    return _envelopes[name]


def envelope(schema: type[Schema]) -> type[Schema]:
    """Return the success envelope schema whose ``data`` is one ``schema``."""
    base = schema.__name__.removesuffix("Schema")
    return _envelope(f"{base}Envelope", fields.Nested(schema, required=True))


def page_envelope(schema: type[Schema]) -> type[Schema]:
    """Return the success envelope schema whose ``data`` is a page of ``schema`` items."""
    base = schema.__name__.removesuffix("Schema")
    if f"{base}Page" not in _envelopes:
        _envelopes[f"{base}Page"] = Schema.from_dict(
            {
                "items": fields.List(fields.Nested(schema), required=True),
                "pagination": fields.Nested(PaginationSchema, required=True),
            },
            name=f"{base}Page",
        )
    return _envelope(f"{base}PageEnvelope", fields.Nested(_envelopes[f"{base}Page"], required=True))


MessageEnvelopeSchema = _envelope("MessageEnvelope", fields.Raw(allow_none=True, metadata={"example": None}))
