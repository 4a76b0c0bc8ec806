"""Write into the OpenAPI document the rules our marshmallow fields enforce that apispec does not see.

apispec documents marshmallow's own validators (``Length``, ``Range``, ``OneOf``, ``Regexp``) and field
metadata. Three kinds of rule need help, and get it here, from the same objects that validate, so the
document and the validation cannot drift:
- exclusive bounds (``Range(min_inclusive=False)``), which apispec writes as inclusive;
- our non-blank strings (``common.Text``, ``Prose``, ``Secret``): ``minLength: 1`` and a non-space character;
- rules on a whole body (``Meta.json_schema`` on a schema: at least one field, one of two fields...);
- query schemas that take an empty value for no value (``EMPTY_IS_ABSENT``, a filter form's blank inputs).
"""

from __future__ import annotations

from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from marshmallow import fields, validate

# JSON Schema patterns are searched, not matched: a non-space character anywhere means "not blank"
NOT_BLANK_PATTERN = r"\S"


def _non_blank(self: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    if not getattr(field, "not_blank", False):
        return {}
    extra: dict[str, Any] = {}
    if ret.get("minLength", 0) < 1:
        extra["minLength"] = 1
    if "pattern" not in ret:
        extra["pattern"] = NOT_BLANK_PATTERN
    return extra


def _exclusive_bounds(self: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            # OpenAPI 3.0: a boolean beside minimum/maximum
            if validator.min is not None and not validator.min_inclusive and "minimum" in ret:
                extra["exclusiveMinimum"] = True
            if validator.max is not None and not validator.max_inclusive and "maximum" in ret:
                extra["exclusiveMaximum"] = True
    return extra


_ANNOTATIONS = ("description", "default", "example", "nullable")
_EMPTY = {"type": "string", "maxLength": 0}


def _empty_is_absent(self: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    if field.required or not getattr(field.parent, "EMPTY_IS_ABSENT", False):
        return {}
    # rewritten in place: the rules move under anyOf beside the empty string
    if ret.get("type") == "array":
        ret["items"] = {"anyOf": [_EMPTY, ret["items"]]} if "items" in ret else ret.get("items")
        return {}
    rules = {key: ret.pop(key) for key in list(ret) if key not in _ANNOTATIONS}
    ret["anyOf"] = [_EMPTY, rules]
    return {}


class GatewayMarshmallowPlugin(MarshmallowPlugin):
    """apispec's marshmallow plugin, also documenting exclusive bounds, non-blank strings and body rules."""

    def init_spec(self, spec: Any) -> None:
        """Set up apispec's converter and add our field rules to it."""
        super().init_spec(spec)
        assert self.converter is not None
        self.converter.add_attribute_function(_non_blank)
        self.converter.add_attribute_function(_exclusive_bounds)
        self.converter.add_attribute_function(_empty_is_absent)

    def schema_helper(self, name: str, _: Any, schema: Any = None, **kwargs: Any) -> dict[str, Any] | None:
        """Document a schema, with the rules on the whole body its ``Meta.json_schema`` states."""
        json_schema = super().schema_helper(name, _, schema=schema, **kwargs)
        if json_schema is not None:
            json_schema.update(getattr(resolve_schema_instance(schema).Meta, "json_schema", {}))
        return json_schema
