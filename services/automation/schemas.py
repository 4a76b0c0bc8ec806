"""Marshmallow schemas of the automation service's RPC payloads: what comes in, and the public form of what
goes out (a response template's view, also the snapshot in its events)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from helpdesk_common.payloads import isoformat
from helpdesk_common.payloads import load as load_payload
from helpdesk_contracts.vocabulary import NAME_MAX, TEMPLATE_BODY_MAX, TEMPLATE_CATEGORY_MAX


class TemplateInput(Schema):
    """A response template as created (``partial`` for changes); its body's rules are the entity's."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    category = fields.String(validate=validate.Length(max=TEMPLATE_CATEGORY_MAX), allow_none=True)
    body = fields.String(required=True, validate=validate.Length(min=1, max=TEMPLATE_BODY_MAX))


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
