"""Users as the users service answers them, and the requests that change them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.schemas.common import (
    EMAIL,
    NAME_MAX,
    PHONE_MAX,
    ChangesSchema,
    EmailAddress,
    InputSchema,
    PageQuerySchema,
    UuidString,
    new_password,
    text,
)
from helpdesk_contracts.vocabulary import AVAILABILITIES, ROLES, SKILL_MAX, SKILLS_MAX, USER_SEARCH_MAX, USER_STATUSES
from helpdesk_contracts.vocabulary import CONCURRENT_CHATS_MAX as CHATS_MAX
from helpdesk_contracts.vocabulary import CONCURRENT_TICKETS_MAX as TICKETS_MAX

_timestamp = {"format": "date-time"}


class UserSchema(Schema):
    """A user (never a password hash)."""

    id = fields.String(required=True, metadata={"format": "uuid"})
    email = fields.String(required=True, metadata=EMAIL)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": list(ROLES)})
    status = fields.String(metadata={"enum": list(USER_STATUSES)})
    availability = fields.String(allow_none=True, metadata={"enum": list(AVAILABILITIES)})
    department_id = fields.String(allow_none=True, metadata={"format": "uuid"})
    organization_id = fields.String(allow_none=True, metadata={"format": "uuid"})
    skills = fields.List(fields.String())
    phone = fields.String(allow_none=True)
    max_concurrent_tickets = fields.Integer(allow_none=True)
    max_concurrent_chats = fields.Integer(allow_none=True)
    last_login_at = fields.String(allow_none=True, metadata=_timestamp)
    created_at = fields.String(metadata=_timestamp)
    updated_at = fields.String(metadata=_timestamp)
    version = fields.Integer()


class AvailableAgentSchema(Schema):
    """An agent who can take work now, as any signed-in caller may see it (no contact details)."""

    id = fields.String(required=True, metadata={"format": "uuid"})
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": list(ROLES)})
    availability = fields.String(allow_none=True, metadata={"enum": list(AVAILABILITIES)})
    department_id = fields.String(allow_none=True, metadata={"format": "uuid"})
    skills = fields.List(fields.String())
    open_slots = fields.Integer(metadata={"description": "How many more tickets the agent can take."})


def _skills() -> fields.List:
    return fields.List(text(SKILL_MAX), validate=validate.Length(max=SKILLS_MAX))


def _capacity(maximum: int) -> fields.Integer:
    return fields.Integer(validate=validate.Range(min=0, max=maximum))


class UserQuerySchema(PageQuerySchema):
    """Filters of the user list."""

    role = fields.String(validate=validate.OneOf(ROLES))
    status = fields.String(validate=validate.OneOf(USER_STATUSES))
    availability = fields.String(validate=validate.OneOf(AVAILABILITIES))
    department_id = UuidString()
    organization_id = UuidString()
    q = text(USER_SEARCH_MAX, metadata={"description": "Part of the name or e-mail."})


class CreateUserSchema(InputSchema):
    """A user an admin creates (any role)."""

    email = EmailAddress(required=True)
    name = text(NAME_MAX, required=True)
    password = new_password(required=True)
    role = fields.String(validate=validate.OneOf(ROLES))
    department_id = UuidString(allow_none=True)
    organization_id = UuidString(allow_none=True)
    skills = _skills()
    phone = text(PHONE_MAX, allow_none=True)
    status = fields.String(validate=validate.OneOf(USER_STATUSES))
    max_concurrent_tickets = _capacity(TICKETS_MAX)
    max_concurrent_chats = _capacity(CHATS_MAX)


class UpdateUserSchema(ChangesSchema):
    """What an admin may change on a user (role and password have their own endpoints)."""

    email = EmailAddress()
    name = text(NAME_MAX)
    phone = text(PHONE_MAX, allow_none=True)
    department_id = UuidString(allow_none=True)
    organization_id = UuidString(allow_none=True)
    skills = _skills()
    status = fields.String(validate=validate.OneOf(USER_STATUSES))
    max_concurrent_tickets = _capacity(TICKETS_MAX)
    max_concurrent_chats = _capacity(CHATS_MAX)


class RoleSchema(InputSchema):
    """A new role."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class AvailabilitySchema(InputSchema):
    """A new availability."""

    availability = fields.String(required=True, validate=validate.OneOf(AVAILABILITIES))


class AvailableAgentsQuerySchema(InputSchema):
    """Filters of the available agents."""

    JSON_TYPES = False  # a query string

    department_id = UuidString()
    skill = text(SKILL_MAX)
