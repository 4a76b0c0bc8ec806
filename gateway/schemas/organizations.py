"""Organizations (the companies customers belong to)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.schemas.common import NAME_MAX, ChangesSchema, InputSchema, text

_DOMAIN = validate.Regexp(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    error="Not a valid domain name.",
)


class DomainName(fields.String):
    """A DNS domain, trimmed and lower-cased (``example.com``)."""

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class OrganizationSchema(Schema):
    """An organization."""

    id = fields.String(required=True, metadata={"format": "uuid"})
    name = fields.String(required=True)
    domain = fields.String(allow_none=True)
    shared_tickets = fields.Boolean(metadata={"description": "Members see each other's tickets."})
    vip = fields.Boolean(metadata={"description": "A VIP customer (automation rules can match on it)."})
    member_count = fields.Integer()
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})


class CreateOrganizationSchema(InputSchema):
    """A new organization."""

    name = text(NAME_MAX, required=True)
    domain = DomainName(allow_none=True, validate=_DOMAIN)
    shared_tickets = fields.Boolean()
    vip = fields.Boolean(metadata={"description": "A VIP customer (default false)."})


class UpdateOrganizationSchema(ChangesSchema):
    """Changes to an organization."""

    name = text(NAME_MAX)
    domain = DomainName(allow_none=True, validate=_DOMAIN)
    shared_tickets = fields.Boolean()
    vip = fields.Boolean(metadata={"description": "A VIP customer."})
