"""Every event type the suite publishes, with the JSON Schema of its ``data``.

This module is the contract integrators build on: add a type here before a service emits it; change a
payload only by registering a new ``version`` next to the old one. ``python -m helpdesk_contracts.catalogue``
renders it as ``docs/events/`` (AsyncAPI + a readable catalogue).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastjsonschema
import jsonschema

from helpdesk_contracts.envelope import ENVELOPE_SCHEMA
from helpdesk_contracts.vocabulary import (
    AVAILABILITIES,
    LEVELS,
    PRIORITIES,
    ROLES,
    SOURCES,
    TICKET_STATUSES,
    USER_STATUSES,
)


@dataclass(frozen=True)
class EventType:
    """One published event type at one schema version."""

    name: str
    version: int
    producer: str
    summary: str
    data_schema: dict[str, Any]
    internal: bool = False
    """Internal events carry secrets meant for one service (e.g. a reset token for notifications); they go
    to ``<producer>.internal.events``, an exchange integrators are not granted."""

    @property
    def exchange(self) -> str:
        """Return the topic exchange the event is published to (routing key = ``name``)."""
        return f"{self.producer}.internal.events" if self.internal else f"{self.producer}.events"


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": True,
    }


_UUID = {"type": "string", "format": "uuid"}
_UUID_OR_NULL = {"type": ["string", "null"], "format": "uuid"}
_TS = {"type": "string", "format": "date-time"}
_STR = {"type": "string"}
_EMAIL = {"type": "string", "format": "email"}
_STR_OR_NULL = {"type": ["string", "null"]}
_ROLE = {"enum": list(ROLES)}
_AVAILABILITY = {"enum": list(AVAILABILITIES)}

USER_SNAPSHOT = _obj(
    {
        "id": _UUID,
        "email": {"type": "string", "format": "email"},
        "name": _STR,
        "role": _ROLE,
        "status": {"enum": list(USER_STATUSES)},
        "availability": _AVAILABILITY,
        "department_id": _UUID_OR_NULL,
        "organization_id": _UUID_OR_NULL,
        "skills": {"type": "array", "items": _STR},
        "max_concurrent_tickets": {"type": "integer", "minimum": 0},
        "max_concurrent_chats": {"type": "integer", "minimum": 0},
        "version": {"type": "integer", "minimum": 1},
        "tokens_valid_after": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "Access tokens issued to the user before this moment are no longer honoured (optional).",
        },
    },
    required=["id", "email", "name", "role", "status", "availability", "department_id", "organization_id", "skills",
              "max_concurrent_tickets", "max_concurrent_chats", "version"],
)
DEPARTMENT_SNAPSHOT = _obj(
    {
        "id": _UUID,
        "name": _STR,
        "description": _STR_OR_NULL,
        "default_sla_hours": {"type": ["number", "null"]},
        "notification_email": _STR_OR_NULL,
    }
)
ORGANIZATION_SNAPSHOT = _obj(
    {
        "id": _UUID,
        "name": _STR,
        "domain": _STR_OR_NULL,
        "shared_tickets": {"type": "boolean", "description": "Members see each other's tickets."},
        "vip": {
            "type": "boolean",
            "description": "A VIP customer, for automation rules to match on (optional: absent from older events, "
                           "read absent as false).",
        },
        "updated_at": {**_TS, "description": "When it last changed: drop events older than what you hold."},
    },
    required=["id", "name", "domain", "shared_tickets"],
)
TEMPLATE_SNAPSHOT = _obj(
    {
        "id": _UUID,
        "name": _STR,
        "category": _STR_OR_NULL,
        "body": {**_STR, "description": "The text, with `{{ ticket.number }}`-style variables (Jinja2 syntax)."},
        "created_by": {**_UUID, "description": "The member of staff who created it (they and managers may change it)."},
        "created_at": _TS,
        "updated_at": {**_TS, "description": "When it last changed: drop events older than what you hold."},
    }
)
RULE_SNAPSHOT = _obj(
    {
        "id": _UUID,
        "name": _STR,
        "description": _STR_OR_NULL,
        "triggers": {"type": "array", "items": _STR, "description": "The events that run it (RULE_TRIGGERS)."},
        "conditions": {"type": "object", "description": "A tree of `{field, operator, value}` leaves in `all`/`any` groups."},
        "actions": {"type": "array", "items": {"type": "object"}, "description": "What it does, in order (`{type, ...}`)."},
        "enabled": {"type": "boolean"},
        "position": {"type": "integer", "description": "Rules run in ascending position."},
        "created_by": {**_UUID_OR_NULL, "description": "Null for the rules the product ships with."},
        "created_at": _TS,
        "updated_at": {**_TS, "description": "When it last changed: drop events older than what you hold."},
    }
)
CHANGES = {
    "type": "object",
    "description": "Changed fields: `{field: {before, after}}`.",
    "additionalProperties": _obj({"before": {}, "after": {}}),
}

_ACTOR_ID = {**_UUID_OR_NULL, "description": "Who made the change (null: the system or an older producer)."}


def named_resource_events(name: str, producer: str, noun: str, snapshot: dict[str, Any]) -> list[EventType]:
    """Return ``<name>.created|updated|deleted`` of a named resource (``helpdesk_common.resources``)."""

    def data(**extra: Any) -> dict[str, Any]:
        return _obj({name: snapshot, **extra, "actor_id": _ACTOR_ID}, required=[name, *extra])

    return [
        EventType(f"{name}.created", 1, producer, f"{noun} was created.", data()),
        EventType(f"{name}.updated", 1, producer, f"{noun} changed.", data(changes=CHANGES)),
        EventType(f"{name}.deleted", 1, producer, f"{noun} was deleted.", data()),
    ]


_PRIORITY = {"enum": list(PRIORITIES)}
_TICKET_STATUS = {"enum": list(TICKET_STATUSES)}
_LEVEL_OR_NULL = {"enum": [*LEVELS, None]}
TICKET_SNAPSHOT = _obj(
    {
        "id": _UUID,
        "number": {"type": "string", "pattern": r"^TKT-\d{6,}$", "examples": ["TKT-000123"]},
        "title": _STR,
        "status": _TICKET_STATUS,
        "priority": _PRIORITY,
        "urgency": _LEVEL_OR_NULL,
        "impact": _LEVEL_OR_NULL,
        "category": _STR_OR_NULL,
        "tags": {"type": "array", "items": _STR},
        "required_skills": {
            "type": "array",
            "items": _STR,
            "description": "The skills its category needs (an agent must hold them all to be routed the ticket). "
                           "Optional: absent from older events, read absent as none.",
        },
        "requester_id": _UUID,
        "assignee_id": _UUID_OR_NULL,
        "department_id": _UUID_OR_NULL,
        "organization_id": _UUID_OR_NULL,
        "source": {"enum": list(SOURCES)},
        "created_at": _TS,
        "updated_at": _TS,
        "first_response_at": {"type": ["string", "null"], "format": "date-time"},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "reopen_count": {"type": "integer", "minimum": 0},
        "version": {"type": "integer", "minimum": 1, "description": "Per-ticket version: drop events older than what you hold."},
    },
    required=["id", "number", "title", "status", "priority", "requester_id", "assignee_id", "department_id",
              "source", "created_at", "updated_at", "version"],
)
_ACTOR = _obj({"id": _UUID_OR_NULL, "role": _STR, "via": _STR}, required=["id", "role"])

EVENT_TYPES: list[EventType] = [
    EventType("user.created", 1, "users", "A user account was created (registration, admin or seed).", _obj({"user": USER_SNAPSHOT})),
    EventType(
        "user.updated",
        1,
        "users",
        "A user's profile, role, department, skills, capacity or status changed.",
        _obj({"user": USER_SNAPSHOT, "changes": CHANGES}),
    ),
    EventType("user.deactivated", 1, "users", "A user was deactivated; their sessions are revoked.", _obj({"user": USER_SNAPSHOT})),
    EventType("user.password_changed", 1, "users", "A user's password was changed or reset; every session was revoked.", _obj({"user_id": _UUID, "email": _EMAIL, "tokens_valid_after": {**_TS, "description": "Access tokens issued before it are no longer honoured (optional)."}}, required=["user_id", "email"])),
    EventType(
        "user.password_reset_requested",
        1,
        "users",
        "A password reset was requested. Internal: carries a single-use secret for the notifications "
        "service to e-mail, so it is published on `users.internal.events`, never on `users.events`.",
        _obj({"user_id": _UUID, "email": _EMAIL, "name": _STR, "reset_token": _STR, "expires_at": _TS}),
        internal=True,
    ),
    EventType(
        "agent.availability_changed",
        1,
        "users",
        "An agent went online, away or offline.",
        _obj(
            {
                "user_id": _UUID,
                "availability": _AVAILABILITY,
                "previous": _AVAILABILITY,
                "department_id": _UUID_OR_NULL,
                "skills": {"type": "array", "items": _STR},
            }
        ),
    ),
    *named_resource_events("department", "users", "A department", DEPARTMENT_SNAPSHOT),
    *named_resource_events("organization", "users", "An organization", ORGANIZATION_SNAPSHOT),
    *named_resource_events("template", "automation", "A response template", TEMPLATE_SNAPSHOT),
    *named_resource_events("rule", "automation", "An automation rule", RULE_SNAPSHOT),
    EventType("rule.fired", 1, "automation",
              "An automation rule matched a ticket and acted on it (each change is also in the ticket's history).",
              _obj({"rule": _obj({"id": _UUID, "name": _STR}), "ticket_id": _UUID, "trigger": _STR,
                    "cause_event_id": _UUID,
                    "steps": {"type": "array", "items": {"type": "object"},
                              "description": "Each action: `{type, action, field?, before?, after?, skipped?}`."}})),
    EventType("notification.requested", 1, "automation",
              "A rule asks for people to be told about a ticket (the notifications service delivers it).",
              _obj({"ticket_id": _UUID, "ticket_number": _STR,
                    "to": {"enum": ["requester", "assignee", "supervisors", "user"]},
                    "user_id": {**_UUID_OR_NULL, "description": "The person, when `to` is `user`."},
                    "department_id": _UUID_OR_NULL, "assignee_id": _UUID_OR_NULL, "requester_id": _UUID_OR_NULL,
                    "message": _STR, "rule": _obj({"id": _UUID, "name": _STR}),
                    "internal": {"type": "boolean", "description": "True unless it goes to the requester: staff-only content."}},
                   required=["ticket_id", "ticket_number", "to", "message", "rule", "internal"])),
    EventType("ticket.created", 1, "tickets", "A ticket was opened (web, e-mail, chat or API).",
              _obj({"ticket": TICKET_SNAPSHOT, "actor": _ACTOR})),
    EventType("ticket.updated", 1, "tickets", "Ticket fields changed (title, description, priority, category, tags, ...).",
              _obj({"ticket": TICKET_SNAPSHOT, "changes": CHANGES, "actor": _ACTOR})),
    EventType("ticket.status_changed", 1, "tickets", "A ticket moved through its lifecycle (a reopen included).",
              _obj({"ticket": TICKET_SNAPSHOT, "from": _TICKET_STATUS, "to": _TICKET_STATUS,
                    "resolution": _STR_OR_NULL, "actor": _ACTOR})),
    EventType("ticket.assigned", 1, "tickets", "A ticket was assigned to an agent and/or a department.",
              _obj({"ticket": TICKET_SNAPSHOT, "assignee_id": _UUID_OR_NULL, "previous_assignee_id": _UUID_OR_NULL,
                    "department_id": _UUID_OR_NULL, "previous_department_id": _UUID_OR_NULL, "actor": _ACTOR})),
    EventType("ticket.unassigned", 1, "tickets", "A ticket lost its agent (it stays with its department, if any).",
              _obj({"ticket": TICKET_SNAPSHOT, "previous_assignee_id": _UUID, "actor": _ACTOR})),
    EventType("ticket.commented", 1, "tickets",
              "A public reply or an internal note was added. Internal notes must never reach customer-facing channels.",
              _obj({"ticket": TICKET_SNAPSHOT,
                    "comment": _obj({"id": _UUID, "author_id": {**_UUID_OR_NULL, "description": "null when the system wrote it (a rule)."}, "author_role": _STR, "internal": {"type": "boolean"},
                                     "body": _STR, "mentions": {"type": "array", "items": _UUID}, "created_at": _TS}),
                    "actor": _ACTOR})),
    EventType("ticket.merged", 1, "tickets", "A duplicate ticket was merged into a target (comments and attachments moved, duplicate closed).",
              _obj({"ticket": TICKET_SNAPSHOT, "target": TICKET_SNAPSHOT, "actor": _ACTOR})),
    EventType("ticket.deleted", 1, "tickets", "A ticket was deleted (soft) by an admin.",
              _obj({"ticket": TICKET_SNAPSHOT, "actor": _ACTOR})),
]

_BY_KEY = {(e.name, e.version): e for e in EVENT_TYPES}


class UnknownEventType(LookupError):
    """No schema is registered for this event type and version."""


def event_type(name: str, version: int = 1) -> EventType:
    """Return the registered type, or raise UnknownEventType."""
    try:
        return _BY_KEY[(name, version)]
    except KeyError:
        raise UnknownEventType(f"{name} v{version} is not a registered event type") from None


def latest_version(name: str) -> int:
    """Return the newest registered version of an event type."""
    versions = [e.version for e in EVENT_TYPES if e.name == name]
    if not versions:
        raise UnknownEventType(f"{name} is not a registered event type")
    return max(versions)


def _is_uuid(value: str) -> bool:
    """The ``uuid`` format as jsonschema checks it: a parseable UUID in its hyphenated form."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36 and all(value[position] == "-" for position in (8, 13, 18, 23))


# Formats as jsonschema's FormatChecker reads them (email: anything with an "@"); date-time is RFC 3339.
_FORMATS = {"uuid": _is_uuid, "email": lambda value: "@" in value}


def _compile(schema: dict[str, Any]) -> Callable[[Any], Any]:
    # Every schema here keeps to keywords that draft 7 and 2020-12 read alike, so fastjsonschema (which
    # turns a schema into plain Python once, ~10x faster than interpreting it) compiles it as draft 7.
    return fastjsonschema.compile({k: v for k, v in schema.items() if k != "$schema"}, formats=_FORMATS)


@cache
def _data_validator(name: str, version: int) -> Callable[[Any], Any]:
    return _compile(event_type(name, version).data_schema)


_ENVELOPE_VALIDATOR = _compile(ENVELOPE_SCHEMA)


def _check(validator: Callable[[Any], Any], value: Any) -> None:
    try:
        validator(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        path = [part for part in (exc.path or [])[1:]]  # fastjsonschema's path starts with "data"
        raise jsonschema.ValidationError(exc.message, path=path) from None


def validate_data(name: str, version: int, data: Any) -> None:
    """Raise jsonschema.ValidationError (or UnknownEventType) unless ``data`` fits the type's published schema."""
    _check(_data_validator(name, version), data)


def validate_envelope(raw: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError (or UnknownEventType) unless ``raw`` is a valid envelope of a registered type."""
    _check(_ENVELOPE_VALIDATOR, raw)
    validate_data(raw["type"], raw["version"], raw["data"])
