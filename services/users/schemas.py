"""Marshmallow schemas for the users service's RPC payloads: validate what comes in, shape what goes out."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, pre_load, validate

from helpdesk_common.payloads import isoformat
from helpdesk_common.payloads import load as load_payload
from helpdesk_contracts.vocabulary import (
    CONCURRENT_CHATS_MAX,
    CONCURRENT_TICKETS_MAX,
    DEPARTMENT_DESCRIPTION_MAX,
    DOMAIN_MAX,
    EMAIL_MAX,
    NAME_MAX,
    PHONE_MAX,
    SKILL_MAX,
    SKILLS_MAX,
    SLA_HOURS_MAX,
    USER_SEARCH_MAX,
)
from services.users.domain import rules

_NAME = fields.String(validate=validate.Length(min=1, max=NAME_MAX))
_EMAIL = fields.Email(validate=validate.Length(max=EMAIL_MAX))
_UUID = fields.String(validate=validate.Length(equal=36), allow_none=True)


class _Strips(Schema):
    """Trim surrounding blanks of e-mails and names before validating them."""

    @pre_load
    def strip(self, data, **_):
        if isinstance(data, dict):
            data = {k: (v.strip() if isinstance(v, str) and k in ("email", "name") else v) for k, v in data.items()}
        return data


class RegisterCustomer(_Strips):
    class Meta:
        unknown = RAISE

    email = fields.Email(required=True, validate=validate.Length(max=EMAIL_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    password = fields.String(required=True, validate=validate.Length(min=1, max=rules.PASSWORD_MAX_LENGTH))
    phone = fields.String(validate=validate.Length(max=PHONE_MAX), allow_none=True)
    organization_id = _UUID


class CreateUser(RegisterCustomer):
    role = fields.String(validate=validate.OneOf(rules.ROLES), load_default="customer")
    department_id = _UUID
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=SKILL_MAX)), validate=validate.Length(max=SKILLS_MAX))
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    max_concurrent_tickets = fields.Integer(validate=validate.Range(min=0, max=CONCURRENT_TICKETS_MAX))
    max_concurrent_chats = fields.Integer(validate=validate.Range(min=0, max=CONCURRENT_CHATS_MAX))


class UpdateUser(_Strips):
    class Meta:
        unknown = RAISE

    name = _NAME
    email = _EMAIL
    phone = fields.String(validate=validate.Length(max=PHONE_MAX), allow_none=True)
    department_id = _UUID
    organization_id = _UUID
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=SKILL_MAX)), validate=validate.Length(max=SKILLS_MAX))
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    max_concurrent_tickets = fields.Integer(validate=validate.Range(min=0, max=CONCURRENT_TICKETS_MAX))
    max_concurrent_chats = fields.Integer(validate=validate.Range(min=0, max=CONCURRENT_CHATS_MAX))


class UpdateProfile(Schema):
    class Meta:
        unknown = RAISE

    name = _NAME
    phone = fields.String(validate=validate.Length(max=PHONE_MAX), allow_none=True)


class DepartmentInput(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    description = fields.String(validate=validate.Length(max=DEPARTMENT_DESCRIPTION_MAX), allow_none=True)
    default_sla_hours = fields.Float(validate=validate.Range(min=0, max=SLA_HOURS_MAX), allow_none=True)
    notification_email = fields.Email(validate=validate.Length(max=EMAIL_MAX), allow_none=True)


class OrganizationInput(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    domain = fields.String(validate=validate.Length(max=DOMAIN_MAX), allow_none=True)
    shared_tickets = fields.Boolean()
    vip = fields.Boolean()


class ListUsersFilters(Schema):
    class Meta:
        unknown = EXCLUDE

    role = fields.String(validate=validate.OneOf(rules.ROLES))
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    availability = fields.String(validate=validate.OneOf(rules.AVAILABILITIES))
    department_id = fields.String()
    organization_id = fields.String()
    q = fields.String(validate=validate.Length(max=USER_SEARCH_MAX))


def load(schema_class: type[Schema], data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate an RPC payload, raising ValidationFailed with per-field messages."""
    return load_payload(schema_class, data, partial=partial, not_blank=("name", "email"))


class ListRevocations(Schema):
    class Meta:
        unknown = RAISE

    since = fields.AwareDateTime(required=True)


iso = isoformat


def user_view(user) -> dict[str, Any]:
    """Return the public form of a user (never the password hash)."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "status": user.status,
        "availability": user.availability,
        "department_id": user.department_id,
        "organization_id": user.organization_id,
        "skills": list(user.skills or []),
        "phone": user.phone,
        "max_concurrent_tickets": user.max_concurrent_tickets,
        "max_concurrent_chats": user.max_concurrent_chats,
        "last_login_at": iso(user.last_login_at),
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
        "version": user.version,
        "tokens_valid_after": iso(user.tokens_valid_after),
    }


def department_view(department, *, member_count: int | None = None) -> dict[str, Any]:
    view = {
        "id": department.id,
        "name": department.name,
        "description": department.description,
        "default_sla_hours": department.default_sla_hours,
        "notification_email": department.notification_email,
        "created_at": iso(department.created_at),
        "updated_at": iso(department.updated_at),
    }
    if member_count is not None:
        view["member_count"] = member_count
    return view


def organization_view(organization, *, member_count: int | None = None) -> dict[str, Any]:
    view = {
        "id": organization.id,
        "name": organization.name,
        "domain": organization.domain,
        "shared_tickets": bool(organization.shared_tickets),
        "vip": bool(organization.vip),
        "created_at": iso(organization.created_at),
        "updated_at": iso(organization.updated_at),
    }
    if member_count is not None:
        view["member_count"] = member_count
    return view
