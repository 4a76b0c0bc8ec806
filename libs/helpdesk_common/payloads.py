"""Validating RPC payloads with marshmallow, in the shape every service answers errors with."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError

from helpdesk_contracts import limits
from helpdesk_contracts.errors import ValidationFailed


@cache
def _instance(schema_class: type[Schema]) -> Schema:
    return schema_class()  # marshmallow schemas keep no state between loads: one instance per class serves all


def load(schema_class: type[Schema], data: Any, *, partial: bool = False,
         not_blank: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate a payload against ``schema_class``, raising ValidationFailed with per-field messages;
    ``not_blank`` fields may not be blank."""
    schema = _instance(schema_class)
    if not isinstance(data, dict):
        raise ValidationFailed("Expected an object.", {"_schema": ["Expected an object."]})
    try:
        loaded = schema.load(data, partial=partial)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        errors = {k: (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}
        raise ValidationFailed("Invalid input.", errors) from None
    for key in not_blank:
        if isinstance(loaded.get(key), str) and not loaded[key].strip():
            raise ValidationFailed("Invalid input.", {key: ["Must not be blank."]})
    return loaded


def page_args(page: Any, limit: Any, *, max_limit: int = limits.PAGE_LIMIT_MAX) -> tuple[int, int]:
    """Return ``(page, limit)`` as integers, or raise ValidationFailed naming the bad one."""
    try:
        page, limit = int(page), int(limit)
    except (TypeError, ValueError):
        raise ValidationFailed("page and limit must be integers.", {"page": ["Must be an integer."]}) from None
    if page < 1:
        raise ValidationFailed("page must be at least 1.", {"page": ["Must be at least 1."]})
    if page > limits.PAGE_MAX:  # (page - 1) * limit must fit a 64-bit OFFSET on every backend
        raise ValidationFailed(f"page must be at most {limits.PAGE_MAX}.", {"page": [f"Must be at most {limits.PAGE_MAX}."]})
    if not 1 <= limit <= max_limit:
        raise ValidationFailed(f"limit must be between 1 and {max_limit}.", {"limit": [f"Must be between 1 and {max_limit}."]})
    return page, limit


def within_utc_range(moment: datetime) -> None:
    """Refuse (marshmallow validator) a moment outside years 1 to 9999 once converted to UTC."""
    try:
        limits.utc_moment(moment)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def isoformat(value: datetime | None) -> str | None:
    """Return an ISO 8601 string, or None."""
    return value.isoformat() if value is not None else None
