"""The router (the automation service) as it answers: its decisions, the backlog, an agent's workload and the
departments' strategies; the one request that changes it (a department's strategy) and the lists' queries.
And the response templates the service keeps: what they look like, creating, changing and rendering one.

The strategies and outcomes are the shared vocabulary (``helpdesk_contracts.vocabulary``), as the service's.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.schemas.common import NAME_MAX, ChangesSchema, InputSchema, PageQuerySchema, Prose, UuidString, text
from helpdesk_contracts.vocabulary import (
    AVAILABILITIES,
    PRIORITIES,
    ROLES,
    ROUTING_OUTCOMES,
    ROUTING_STRATEGIES,
    TEMPLATE_BODY_MAX,
    TEMPLATE_CATEGORY_MAX,
    TEMPLATE_VARIABLES,
    TICKET_STATUSES,
    USER_STATUSES,
)

_timestamp = {"format": "date-time"}
_uuid = {"format": "uuid"}


# -- what the service answers ---------------------------------------------------------------------
class CandidateSchema(Schema):
    """An agent the router looked at for a ticket, with their load then and, if passed over, why."""

    agent_id = fields.String(required=True, metadata=_uuid)
    name = fields.String(required=True)
    load = fields.Integer(required=True, metadata={"description": "Their working tickets (new, open, in progress)."})
    max_concurrent_tickets = fields.Integer(required=True)
    passed_over = fields.String(
        required=True, allow_none=True,
        metadata={"description": "Why the router did not give them the ticket; null for the agent chosen.",
                  "example": "away, not online"},
    )


class DecisionSchema(Schema):
    """One routing decision: the ticket went to an agent (`assigned`) or waits in the backlog (`queued`)."""

    id = fields.String(required=True, metadata=_uuid)
    ticket_id = fields.String(required=True, metadata=_uuid)
    ticket_number = fields.String(required=True, metadata={"example": "TKT-000123"})
    department_id = fields.String(required=True, allow_none=True, metadata=_uuid)
    at = fields.String(required=True, metadata=_timestamp)
    outcome = fields.String(required=True, metadata={"enum": list(ROUTING_OUTCOMES)})
    agent_id = fields.String(required=True, allow_none=True, metadata={**_uuid, "description": "Null when queued."})
    strategy = fields.String(required=True, metadata={"enum": list(ROUTING_STRATEGIES)})
    trigger = fields.String(
        required=True, metadata={"description": "What made the router decide (an event type, a sweep...).",
                                 "example": "ticket.created"},
    )
    reason = fields.String(required=True, metadata={"description": "Why, in words a person reads."})
    candidates = fields.List(fields.Nested(CandidateSchema), required=True)


class BacklogEntrySchema(Schema):
    """An unassigned working ticket waiting for an agent, at its place in the order the router serves them."""

    position = fields.Integer(required=True, metadata={"description": "1 for the next ticket served."})
    ticket_id = fields.String(required=True, metadata=_uuid)
    number = fields.String(required=True, metadata={"example": "TKT-000123"})
    title = fields.String(required=True)
    priority = fields.String(required=True, metadata={"enum": list(PRIORITIES)})
    status = fields.String(required=True, metadata={"enum": list(TICKET_STATUSES)})
    department_id = fields.String(required=True, allow_none=True, metadata=_uuid)
    category = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True, metadata=_timestamp)
    queued_since = fields.String(
        required=True, allow_none=True,
        metadata={**_timestamp, "description": "When the router first found nobody to take it."},
    )
    sla_due_at = fields.String(required=True, allow_none=True, metadata=_timestamp)


class WorkloadSchema(Schema):
    """An agent's load as the router counts it: tickets new, open or in progress count against their maximum."""

    user_id = fields.String(required=True, metadata=_uuid)
    name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": list(ROLES)})
    status = fields.String(required=True, metadata={"enum": list(USER_STATUSES)})
    availability = fields.String(required=True, metadata={"enum": list(AVAILABILITIES)})
    department_id = fields.String(required=True, allow_none=True, metadata=_uuid)
    skills = fields.List(fields.String(), required=True)
    max_concurrent_tickets = fields.Integer(required=True)
    working_tickets = fields.Integer(required=True)
    capacity_left = fields.Integer(required=True, metadata={"description": "How many more working tickets they can take."})
    at_capacity = fields.Boolean(required=True)
    by_status = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True,
        metadata={"description": "Their assigned tickets by status."},
    )
    last_assigned_at = fields.String(required=True, allow_none=True, metadata=_timestamp)


class StrategySchema(Schema):
    """How a department's tickets are routed; a department not listed routes `least_loaded`."""

    department_id = fields.String(required=True, metadata=_uuid)
    strategy = fields.String(required=True, metadata={"enum": list(ROUTING_STRATEGIES)})
    updated_at = fields.String(required=True, metadata=_timestamp)
    updated_by = fields.String(required=True, allow_none=True, metadata=_uuid)


# -- requests -------------------------------------------------------------------------------------
class DecisionQuerySchema(PageQuerySchema):
    """A page of decisions, newest first, optionally of one ticket."""

    ticket_id = UuidString(metadata={"description": "Only this ticket's decisions (404 if you may not see it)."})


class BacklogQuerySchema(PageQuerySchema):
    """A page of the backlog, optionally of one department."""

    department_id = UuidString(metadata={"description": "Only this department's tickets."})


class SetStrategySchema(InputSchema):
    """A department's new routing strategy."""

    strategy = fields.String(
        required=True, validate=validate.OneOf(ROUTING_STRATEGIES),
        metadata={"description": "`least_loaded`: the able agent with the fewest working tickets; `round_robin`: "
                                 "the able agent who waited longest for one; `manual_only`: people assign the "
                                 "department's tickets (the router leaves them out of its backlog)."},
    )


# -- response templates -----------------------------------------------------------------------------
_TEMPLATE_BODY = (
    "The text, as written: plain text with `{{ variable.attribute }}` outputs (Jinja2 syntax) of "
    f"{', '.join(f'`{name}`' for name in TEMPLATE_VARIABLES)}. Anything else (another variable, `{{% ... %}}` "
    "statements, filters, calls, arithmetic) or a syntax error is a 422 naming `body`."
)


class TemplateSchema(Schema):
    """A response template (a canned response staff insert into replies)."""

    id = fields.String(required=True, metadata=_uuid)
    name = fields.String(required=True, metadata={"description": "Unique ignoring case, width and spacing."})
    category = fields.String(required=True, allow_none=True)
    body = fields.String(required=True, metadata={"description": _TEMPLATE_BODY})
    created_by = fields.String(
        required=True, metadata={**_uuid, "description": "Who created it: they, supervisors and admins may change it."},
    )
    created_at = fields.String(required=True, metadata=_timestamp)
    updated_at = fields.String(required=True, metadata=_timestamp)


class CreateTemplateSchema(InputSchema):
    """A new response template; its creator is the caller."""

    name = text(NAME_MAX, required=True)
    category = text(TEMPLATE_CATEGORY_MAX, allow_none=True)
    body = Prose(required=True, validate=validate.Length(max=TEMPLATE_BODY_MAX), metadata={"description": _TEMPLATE_BODY})


class UpdateTemplateSchema(ChangesSchema):
    """Changes to a response template."""

    name = text(NAME_MAX)
    category = text(TEMPLATE_CATEGORY_MAX, allow_none=True)
    body = Prose(validate=validate.Length(max=TEMPLATE_BODY_MAX), metadata={"description": _TEMPLATE_BODY})


class RenderTemplateSchema(InputSchema):
    """The values to render a template with."""

    context = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.String(allow_none=True)),
        required=True,
        metadata={
            "description": "`{variable: {attribute: value}}`, e.g. `{\"ticket\": {\"number\": \"TKT-000123\"}, "
                           "\"requester\": {\"name\": \"Rita\"}}`. Every variable the template uses must be given "
                           "(a 422 naming `context` otherwise); null renders as nothing; others are ignored.",
        },
    )


class RenderedTemplateSchema(Schema):
    """A template rendered."""

    body = fields.String(required=True)
