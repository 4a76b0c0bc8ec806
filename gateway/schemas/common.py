"""Fields and schemas every resource uses: strict inputs, envelopes, pagination."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from helpdesk_contracts import limits
from helpdesk_contracts.vocabulary import DEPARTMENT_DESCRIPTION_MAX as TEXT_MAX  # noqa: F401
from helpdesk_contracts.vocabulary import EMAIL_MAX, NAME_MAX, PASSWORD_MIN_LENGTH, PHONE_MAX  # noqa: F401 (re-exported)
from helpdesk_contracts.vocabulary import PASSWORD_MAX_LENGTH as PASSWORD_MAX

TOKEN_MAX = 4096
PAGE_LIMIT_MAX = limits.PAGE_LIMIT_MAX
PAGE_LIMIT_DEFAULT = limits.PAGE_LIMIT_DEFAULT

# One rule for e-mail addresses, requests and answers alike: ASCII (no IDN, no quoted local part), a local
# part of at most 64 characters, a dotted domain. It is a subset of what JSON Schema's `format: email`
# accepts, so an address we take is one our own answers can describe.
EMAIL_PATTERN = (
    r"^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
EMAIL = {"format": "email", "pattern": EMAIL_PATTERN}  # metadata of an e-mail in an answer
# what the users service asks of a new password (a letter and a digit; not the e-mail, which no schema can say)
NEW_PASSWORD_PATTERN = r"^(?=[\s\S]*[^\W\d_])(?=[\s\S]*\d)"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID = re.compile(UUID_PATTERN)


class Text(fields.String):
    """A string with surrounding whitespace removed that must not be blank."""

    default_error_messages = {"blank": "Must not be blank."}
    not_blank = True  # documented as minLength 1 and a non-space character (gateway.openapi)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        for validator in self.validators:
            if isinstance(validator, validate.Length):
                validator(raw)  # the documented maxLength is the length sent, spaces included
        text = raw.strip()
        if not text:
            raise self.make_error("blank")
        return text


class Prose(fields.String):
    """Free text (a description, a comment): kept exactly as written, but never empty or only whitespace."""

    default_error_messages = {"blank": "Must not be blank."}
    not_blank = True  # documented as minLength 1 and a non-space character (gateway.openapi)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        prose = super()._deserialize(value, attr, data, **kwargs)
        if not prose.strip():
            raise self.make_error("blank")
        return prose


class Secret(fields.String):
    """A password or token: kept exactly as sent, but never empty or only whitespace."""

    default_error_messages = {"blank": "Must not be blank."}
    not_blank = True  # documented as minLength 1 and a non-space character (gateway.openapi)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        secret = super()._deserialize(value, attr, data, **kwargs)
        if not secret.strip():
            raise self.make_error("blank")
        return secret


class EmailAddress(fields.String):
    """An e-mail address, trimmed, at most 254 characters, of the one shape ``EMAIL_PATTERN`` describes."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault(
            "validate",
            [validate.Length(max=EMAIL_MAX), validate.Regexp(EMAIL_PATTERN, error="Not a valid email address.")],
        )
        kwargs["metadata"] = {"format": "email", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class UuidString(fields.UUID):
    """A UUID in its hyphenated form (what `format: uuid` means), handed on as its canonical string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:  # type: ignore[override]
        # uuid.UUID also takes braces, a urn: prefix or no hyphens, which the documented format does not
        if not isinstance(value, str) or not _UUID.match(value):
            raise self.make_error("invalid_uuid")
        return str(super()._deserialize(value, attr, data, **kwargs))


def text(max_length: int, **kwargs: Any) -> Text:
    """Return a non-blank trimmed string field of at most ``max_length`` characters."""
    return Text(validate=validate.Length(max=max_length), **kwargs)


def password(**kwargs: Any) -> Secret:
    """Return the field of a password being checked (at most 128 characters)."""
    return Secret(validate=validate.Length(max=PASSWORD_MAX), **kwargs)


def new_password(**kwargs: Any) -> Secret:
    """Return the field of a password being set: the users service's length and letter-and-digit rules."""
    rules = [
        validate.Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX),
        validate.Regexp(NEW_PASSWORD_PATTERN, error="Password must contain at least one letter and one digit."),
    ]
    return Secret(validate=rules, **kwargs)


def _json_type_error(field: fields.Field, value: Any) -> str | None:
    if isinstance(field, fields.Boolean) and not isinstance(value, bool):
        return "Not a valid boolean."
    if isinstance(field, fields.Integer) and (isinstance(value, bool) or not isinstance(value, int)):
        return "Not a valid integer."
    if isinstance(field, fields.Float) and (isinstance(value, bool) or not isinstance(value, int | float)):
        return "Not a valid number."
    return None


class InputSchema(Schema):
    """Base of every request schema: unknown fields are an error, not silently dropped.

    In a JSON body a boolean must be a JSON boolean and a number a JSON number, as the OpenAPI says
    (marshmallow alone would take ``"3"``, ``3.0`` or ``1`` for them); query schemas, whose values all
    arrive as text, set ``JSON_TYPES = False``.
    """

    JSON_TYPES = True

    class Meta:
        unknown = RAISE

    @pre_load
    def _json_types(self, data: Any, **kwargs: Any) -> Any:
        if not self.JSON_TYPES or not isinstance(data, dict):
            return data
        errors = {}
        for name, field in self.fields.items():
            key = field.data_key or name
            if key in data and data[key] is not None and (error := _json_type_error(field, data[key])):
                errors[key] = [error]
        if errors:
            raise ValidationError(errors)
        return data


class ChangesSchema(InputSchema):
    """Base of partial updates: at least one field must be given."""

    class Meta(InputSchema.Meta):
        json_schema = {"minProperties": 1}  # documents _not_empty (gateway.openapi)

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Give at least one field to change.")


class PageQuerySchema(InputSchema):
    """``page`` (from 1) and ``limit`` (1 to 100) of a paginated list.

    The last page is ``limits.PAGE_MAX``: past it, ``(page - 1) * limit`` would overflow a 64-bit offset.
    """

    JSON_TYPES = False  # a query string

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
