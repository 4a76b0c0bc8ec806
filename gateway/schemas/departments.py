"""Departments (teams of agents)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.schemas.common import EMAIL, NAME_MAX, TEXT_MAX, ChangesSchema, EmailAddress, InputSchema, text
from helpdesk_contracts.vocabulary import SLA_HOURS_MAX


class DepartmentSchema(Schema):
    """A department."""

    id = fields.String(required=True, metadata={"format": "uuid"})
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    default_sla_hours = fields.Float(allow_none=True)
    notification_email = fields.String(allow_none=True, metadata=EMAIL)
    member_count = fields.Integer()
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})


class CreateDepartmentSchema(InputSchema):
    """A new department."""

    name = text(NAME_MAX, required=True)
    description = text(TEXT_MAX, allow_none=True)
    default_sla_hours = fields.Float(
        allow_none=True, validate=validate.Range(min=0, max=SLA_HOURS_MAX, min_inclusive=False)
    )
    notification_email = EmailAddress(allow_none=True)


class UpdateDepartmentSchema(ChangesSchema):
    """Changes to a department."""

    name = text(NAME_MAX)
    description = text(TEXT_MAX, allow_none=True)
    default_sla_hours = fields.Float(
        allow_none=True, validate=validate.Range(min=0, max=SLA_HOURS_MAX, min_inclusive=False)
    )
    notification_email = EmailAddress(allow_none=True)
