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

import re
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


# -- the error answers every operation documents -------------------------------------------------------------
# No catch-all `default` answer: each operation lists the statuses it can give, so a client (and `make fuzz`)
# knows an undocumented one for a bug. Those that follow from an operation's shape are added here, once:
COMMON_ERRORS = {
    "400": "Malformed request: a body that is not JSON, or a value no input may hold.",
    "401": "Missing, expired or forged credentials.",
    "403": "Your role may not do this.",
    "404": "No such resource, or not one you may see.",
    "413": "The body is over the size limit.",
    "415": "The body is not of the documented media type.",
    "422": "Invalid input: `errors` names each field and what is wrong with it.",
    "429": "Too many attempts: retry after the `Retry-After` header's seconds.",
    "503": "A service, or one of its own dependencies, is unreachable; retry later.",
    "504": "A service did not answer in time; the request may or may not have been applied.",
}
# operations whose body carries credentials checked with 401 (signing in, rotating a refresh token)
CREDENTIAL_OPERATIONS = {("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/refresh-token")}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}


def _statuses(path: str, method: str, operation: dict[str, Any], *, rate_limited: bool) -> list[str]:
    statuses = ["400", "422", "503", "504"]
    if operation.get("security") or (method, path) in CREDENTIAL_OPERATIONS:
        statuses.append("401")
    if operation.get("security"):
        statuses.append("403")
    if "{" in path:
        statuses.append("404")
    body = operation.get("requestBody", {}).get("content", {})
    if body:
        statuses += ["413", "415"]
    if rate_limited:
        statuses.append("429")
    return statuses


def document_common_errors(spec: Any, *, rate_limited: set[tuple[str, str]]) -> None:
    """Add to every operation the error answers its shape implies (auth, path ids, bodies, rate limits, RPC)."""
    for path, operations in spec._paths.items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in _statuses(path, method, operation, rate_limited=(method, path) in rate_limited):
                responses.setdefault(status, _error_response(COMMON_ERRORS[status]))


def openapi_path(rule: str) -> str:
    """Return a Flask URL rule as an OpenAPI path (``/t/<uuid:ticket_id>`` is ``/t/{ticket_id}``)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)
