"""Marshmallow schemas of the automation service's RPC payloads: what comes in, and the public form of what
goes out (a response template's view, also the snapshot in its events)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from helpdesk_common.payloads import isoformat
from helpdesk_common.payloads import load as load_payload
from helpdesk_contracts.vocabulary import (
    NAME_MAX,
    PRIORITIES,
    RULE_MESSAGE_MAX,
    RULE_POSITION_MAX,
    TAG_MAX,
    TAGS_MAX,
    TEMPLATE_BODY_MAX,
    TEMPLATE_CATEGORY_MAX,
    TICKET_STATUSES,
)


class TemplateInput(Schema):
    """A response template as created (``partial`` for changes); its body's rules are the entity's."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    category = fields.String(validate=validate.Length(max=TEMPLATE_CATEGORY_MAX), allow_none=True)
    body = fields.String(required=True, validate=validate.Length(min=1, max=TEMPLATE_BODY_MAX))


class RuleInput(Schema):
    """An automation rule as created (``partial`` for changes): the shape; what its triggers, conditions and
    actions may say is the domain's (``domain.rules``), which names the path of each problem."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    description = fields.String(validate=validate.Length(max=RULE_MESSAGE_MAX), allow_none=True)
    triggers = fields.Raw(required=True)
    conditions = fields.Raw(load_default=None)
    actions = fields.Raw(required=True)
    enabled = fields.Boolean(load_default=True, truthy={True}, falsy={False})
    position = fields.Integer(validate=validate.Range(min=0, max=RULE_POSITION_MAX), strict=True)


class _Person(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(allow_none=True, validate=validate.Length(max=NAME_MAX))
    email = fields.String(allow_none=True, validate=validate.Length(max=320))
    organization_id = fields.UUID(allow_none=True)


class _Organization(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(allow_none=True, validate=validate.Length(max=NAME_MAX))
    vip = fields.Boolean(truthy={True}, falsy={False})


_TEXT = {"allow_none": True, "validate": validate.Length(max=RULE_MESSAGE_MAX)}


class TicketShape(Schema):
    """A ticket described for the dry run: the fields conditions read, each of its kind."""

    class Meta:
        unknown = RAISE

    id = fields.UUID()
    title = fields.String(**_TEXT)
    description = fields.String(allow_none=True, validate=validate.Length(max=100_000))
    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    category = fields.String(**_TEXT)
    tags = fields.List(fields.String(validate=validate.Length(max=TAG_MAX)), validate=validate.Length(max=TAGS_MAX))
    source = fields.String(**_TEXT)
    urgency = fields.String(**_TEXT)
    impact = fields.String(**_TEXT)
    department_id = fields.UUID(allow_none=True)
    assignee_id = fields.UUID(allow_none=True)
    requester_id = fields.UUID(allow_none=True)
    organization_id = fields.UUID(allow_none=True)
    reopen_count = fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000))
    created_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime(allow_none=True)
    sla_due_at = fields.AwareDateTime(allow_none=True)
    requester = fields.Nested(_Person)
    organization = fields.Nested(_Organization)


class RuleTestInput(Schema):
    """A dry run: a ticket by id, or a ticket-shaped body; the trigger to pretend (``ticket.created``)."""

    class Meta:
        unknown = RAISE

    ticket_id = fields.UUID()
    ticket = fields.Dict()
    trigger = fields.String(load_default="ticket.created")
    rule_id = fields.UUID()
    rule = fields.Dict()


def load(schema_class: type[Schema], data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate an RPC payload, raising ValidationFailed with per-field messages."""
    return load_payload(schema_class, data, partial=partial, not_blank=("name", "category", "body"))


def template_view(template: Any) -> dict[str, Any]:
    """A response template's public form."""
    return {
        "id": template.id,
        "name": template.name,
        "category": template.category,
        "body": template.body,
        "created_by": template.created_by,
        "created_at": isoformat(template.created_at),
        "updated_at": isoformat(template.updated_at),
    }


def rule_view(rule: Any) -> dict[str, Any]:
    """An automation rule's public form."""
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "triggers": list(rule.triggers),
        "conditions": rule.conditions,
        "actions": list(rule.actions),
        "enabled": bool(rule.enabled),
        "position": rule.position,
        "created_by": rule.created_by,
        "created_at": isoformat(rule.created_at),
        "updated_at": isoformat(rule.updated_at),
    }


def rule_run_view(run: dict[str, Any]) -> dict[str, Any]:
    """What a rule did to a ticket."""
    return {
        "id": run["id"], "rule_id": run["rule_id"], "rule_name": run["rule_name"], "ticket_id": run["ticket_id"],
        "event_id": run["event_id"], "trigger": run["trigger"], "at": isoformat(run["at"]),
        "outcome": run["outcome"], "steps": run["steps"], "error": run.get("error"),
    }
