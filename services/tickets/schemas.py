"""Marshmallow schemas for the tickets service's RPC payloads, and the views it answers with."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from helpdesk_common.payloads import load as load_payload
from helpdesk_common.payloads import within_utc_range
from helpdesk_contracts import limits
from helpdesk_contracts.vocabulary import (
    CATEGORY_DESCRIPTION_MAX,
    CATEGORY_NAME_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    MENTIONS_MAX,
    METADATA_KEY_MAX,
    SEARCH_MAX,
    SKILL_MAX,
    SKILLS_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
)
from services.tickets.domain import rules

MAX_PAGE_SIZE = limits.PAGE_LIMIT_MAX

_TAGS = fields.List(fields.String(validate=validate.Length(min=1, max=TAG_MAX)), validate=validate.Length(max=TAGS_MAX))
_LEVEL = fields.String(validate=validate.OneOf(rules.LEVELS), allow_none=True)


class _Trimmed(Schema):
    @pre_load
    def strip(self, data, **_):
        if isinstance(data, dict):
            data = {k: (v.strip() if isinstance(v, str) and k in ("title", "category") else v) for k, v in data.items()}
        return data


class OpenTicket(_Trimmed):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_MAX))
    description = fields.String(required=True, validate=validate.Length(min=1, max=DESCRIPTION_MAX))
    priority = fields.String(validate=validate.OneOf(rules.PRIORITIES))
    urgency = _LEVEL
    impact = _LEVEL
    category = fields.String(validate=validate.Length(min=1, max=CATEGORY_NAME_MAX), allow_none=True)
    tags = _TAGS
    department_id = fields.String(validate=validate.Length(equal=36), allow_none=True)
    source = fields.String(validate=validate.OneOf(rules.SOURCES))
    metadata = fields.Dict(keys=fields.String(validate=validate.Length(max=METADATA_KEY_MAX)))
    requester_id = fields.String(validate=validate.Length(equal=36))
    organization_id = fields.String(validate=validate.Length(equal=36), allow_none=True)

    @validates_schema
    def urgency_with_impact(self, data, **_):
        if ("urgency" in data) != ("impact" in data):
            raise ValidationError("Give urgency and impact together.", "urgency" if "urgency" not in data else "impact")


class EditTicket(_Trimmed):
    class Meta:
        unknown = RAISE

    title = fields.String(validate=validate.Length(min=1, max=TITLE_MAX))
    description = fields.String(validate=validate.Length(min=1, max=DESCRIPTION_MAX))
    priority = fields.String(validate=validate.OneOf(rules.PRIORITIES))
    urgency = _LEVEL
    impact = _LEVEL
    category = fields.String(validate=validate.Length(min=1, max=CATEGORY_NAME_MAX), allow_none=True)
    tags = _TAGS
    metadata = fields.Dict(keys=fields.String(validate=validate.Length(max=METADATA_KEY_MAX)))


class AddComment(Schema):
    class Meta:
        unknown = RAISE

    body = fields.String(required=True, validate=validate.Length(min=1, max=COMMENT_MAX))
    internal = fields.Boolean(load_default=False)
    mentions = fields.List(fields.String(validate=validate.Length(equal=36)), validate=validate.Length(max=MENTIONS_MAX))


class ListFilters(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.List(fields.String(validate=validate.OneOf(rules.STATUSES)))
    priority = fields.List(fields.String(validate=validate.OneOf(rules.PRIORITIES)))
    assignee_id = fields.String()
    department_id = fields.String()
    requester_id = fields.String()
    category = fields.String()
    tag = fields.String()
    source = fields.String(validate=validate.OneOf(rules.SOURCES))
    created_from = fields.AwareDateTime(default_timezone=None, validate=within_utc_range)
    created_to = fields.AwareDateTime(default_timezone=None, validate=within_utc_range)
    q = fields.String(validate=validate.Length(max=SEARCH_MAX))

    @pre_load
    def listify(self, data, **_):
        if isinstance(data, dict):
            data = dict(data)
            for key in ("status", "priority"):
                if isinstance(data.get(key), str):
                    data[key] = [v for v in data[key].split(",") if v]
        return data


def load(schema_class: type[Schema], data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate an RPC payload, raising ValidationFailed with per-field messages."""
    return load_payload(schema_class, data, partial=partial, not_blank=("title", "description"))


def iso(value):
    return value.isoformat() if value is not None else None


def ticket_snapshot(ticket, *, required_skills: list[str]) -> dict[str, Any]:
    """The ticket as events carry it (no description, no metadata); ``required_skills`` are its category's."""
    return {
        "id": ticket.id,
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "urgency": ticket.urgency,
        "impact": ticket.impact,
        "category": ticket.category,
        "tags": list(ticket.tags or []),
        "required_skills": list(required_skills),
        "requester_id": ticket.requester_id,
        "assignee_id": ticket.assignee_id,
        "department_id": ticket.department_id,
        "organization_id": ticket.organization_id,
        "source": ticket.source,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "reopen_count": ticket.reopen_count,
        "version": ticket.version,
    }


def ticket_view(ticket, *, staff: bool, required_skills: list[str], unread: int | None = None) -> dict[str, Any]:
    """The ticket as callers see it; metadata is for agents only, ``unread`` is the caller's side's count."""
    view = ticket_snapshot(ticket, required_skills=required_skills)
    view["description"] = ticket.description
    view["resolution"] = ticket.resolution
    view["unread"] = unread
    if staff:
        view["metadata"] = dict(ticket.metadata or {})
    return view


def comment_view(comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "ticket_id": comment.ticket_id,
        "author_id": None if comment.author_id == rules.SYSTEM_AUTHOR else comment.author_id,  # a rule, a merge
        "author_role": comment.author_role,
        "body": comment.body,
        "internal": bool(comment.internal),
        "mentions": list(comment.mentions or []),
        "created_at": iso(comment.created_at),
    }


def history_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["at"]),
        "actor_id": row["actor_id"],
        "actor_role": row["actor_role"],
        "via": row["via"],
        "action": row["action"],
        "field": row["field"],
        "before": row["before"],
        "after": row["after"],
    }


# categories and links ---------------------------------------------------------------------------



class CategoryInput(_Trimmed):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=CATEGORY_NAME_MAX))
    description = fields.String(validate=validate.Length(max=CATEGORY_DESCRIPTION_MAX), allow_none=True)
    default_department_id = fields.String(validate=validate.Length(equal=36), allow_none=True)
    # a user's ``skills`` limits (the router compares the two as written, case kept); trimmed, repeats dropped
    required_skills = fields.List(fields.String(validate=validate.Length(min=1, max=SKILL_MAX)),
                                  validate=validate.Length(max=SKILLS_MAX))

    @pre_load
    def strip_name(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            data = {**data, "name": data["name"].strip()}
        return data

    @pre_load
    def strip_skills(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("required_skills"), list):
            skills = [skill.strip() if isinstance(skill, str) else skill for skill in data["required_skills"]]
            data = {**data, "required_skills": skills}
        return data

    @post_load
    def skills_once_each(self, data, **_):
        if "required_skills" in data:
            data["required_skills"] = list(dict.fromkeys(data["required_skills"]))  # repeats dropped, order kept
        return data


class LinkInput(Schema):
    class Meta:
        unknown = RAISE

    other_id = fields.String(required=True, validate=validate.Length(equal=36))
    kind = fields.String(required=True, validate=validate.OneOf(rules.LINK_KINDS))


def category_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "default_department_id": row["default_department_id"],
        "required_skills": list(row["required_skills"] or []),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def link_view(ticket_id: str, other, *, kind: str, created_at, created_by: str | None) -> dict[str, Any]:
    """A link as seen from ``ticket_id``: what ``other`` (a Ticket) is to it."""
    return {
        "ticket_id": ticket_id,
        "other_id": other.id,
        "kind": kind,
        "number": other.number,
        "title": other.title,
        "status": other.status,
        "created_at": iso(created_at),
        "created_by": created_by,
    }
