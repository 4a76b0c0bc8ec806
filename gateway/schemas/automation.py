"""The router (the automation service) as it answers: its decisions, the backlog, an agent's workload and the
departments' strategies; the one request that changes it (a department's strategy) and the lists' queries.

The strategies and outcomes are the shared vocabulary (``helpdesk_contracts.vocabulary``), as the service's.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway.schemas.common import InputSchema, PageQuerySchema, UuidString
from helpdesk_contracts.vocabulary import (
    AVAILABILITIES,
    PRIORITIES,
    ROLES,
    ROUTING_OUTCOMES,
    ROUTING_STRATEGIES,
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
