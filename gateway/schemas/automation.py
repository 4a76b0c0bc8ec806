"""The router (the automation service) as it answers: its decisions, the backlog, an agent's workload and the
departments' strategies; the one request that changes it (a department's strategy) and the lists' queries.
And the response templates the service keeps: what they look like, creating, changing and rendering one; and
the automation rules: a rule, creating, changing and toggling one, the dry run and what rules did (their runs).

The strategies and outcomes are the shared vocabulary (``helpdesk_contracts.vocabulary``), as the service's.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.schemas.common import NAME_MAX, ChangesSchema, InputSchema, PageQuerySchema, Prose, UuidString, text
from helpdesk_contracts.vocabulary import (
    AVAILABILITIES,
    PRIORITIES,
    ROLES,
    ROUTING_OUTCOMES,
    ROUTING_STRATEGIES,
    RULE_ACTIONS,
    RULE_ACTIONS_MAX,
    RULE_CONDITIONS_MAX,
    RULE_DEPTH_MAX,
    RULE_FIELDS,
    RULE_MESSAGE_MAX,
    RULE_OPERATORS,
    RULE_POSITION_MAX,
    RULE_RECIPIENTS,
    RULE_RUN_OUTCOMES,
    RULE_TRIGGERS,
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
    """What to render a template with: values, a ticket, or both."""

    context = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.String(allow_none=True)),
        metadata={
            "description": "`{variable: {attribute: value}}`, e.g. `{\"ticket\": {\"number\": \"TKT-000123\"}, "
                           "\"requester\": {\"name\": \"Rita\"}}`. Every variable the template uses must be given "
                           "(a 422 naming `context` otherwise); null renders as nothing; others are ignored. With "
                           "`ticket_id`, values given here win over those read.",
        },
    )
    ticket_id = UuidString(metadata={"description": "Render for this ticket (one you may see): its fields, its "
                                                    "requester, and you as the agent."})

    @validates_schema
    def _something_to_render_with(self, data, **_):
        if "context" not in data and "ticket_id" not in data:
            raise ValidationError("Give a context, a ticket_id, or both.", "context")


class RenderedTemplateSchema(Schema):
    """A template rendered."""

    body = fields.String(required=True)


# -- automation rules -------------------------------------------------------------------------------------
# The gateway checks a rule's shape (types, lengths, the trigger names); what its conditions and actions say
# (fields, operators, values, parameters) is the automation service's to check, which names the path of each
# problem inside the JSON (`conditions.all.1.operator`, `actions.0.agent_id`) in a 422.


def _codes(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)


_TRIGGERS = (
    f"The ticket events that run the rule: {_codes(RULE_TRIGGERS)} (one given twice counts once); it runs on every "
    "event of these types whose ticket meets its conditions."
)
_CONDITIONS = (
    "When the rule acts: a tree of conditions `{\"field\", \"operator\", \"value\"}` grouped in "
    "`{\"all\": [...]}` (every one holds) or `{\"any\": [...]}` (at least one holds), groups nested at most "
    f"{RULE_DEPTH_MAX} deep, at most {RULE_CONDITIONS_MAX} conditions in all; `{{\"all\": []}}` (the default) "
    f"always holds. Fields: {_codes(RULE_FIELDS)} (`minutes_*` and `sla_minutes_remaining` count minutes). "
    f"Operators: {_codes(RULE_OPERATORS)}; `in`/`not_in` take a list of values, `is_empty` takes `true` or "
    "`false`; not every operator fits every field (`greater_than` a number, a priority or a status, `contains` "
    "text or `tags`). Text compares ignoring case. A problem is a 422 naming its path, e.g. "
    "`conditions.all.1.operator`."
)
_ACTIONS = (
    f"What the rule does, in order: 1 to {RULE_ACTIONS_MAX} objects `{{\"type\", ...parameters}}`. Types and "
    "parameters: `set_priority` {priority}, `assign_agent` {agent_id: an active member of staff}, "
    "`assign_department` {department_id}, `add_tag` / `remove_tag` {tag}, `set_status` {status}, "
    f"`send_notification` {{to: one of {_codes(RULE_RECIPIENTS)}, user_id (when `to` is `user`), message}}, "
    "`add_comment` {body or template_id, internal?}, `escalate` {message?} (one priority up, and the "
    "supervisors told), `auto_resolve` {resolution?}, `close` {resolution?}. "
    f"Action types: {_codes(RULE_ACTIONS)}. A problem is a 422 naming its path, e.g. `actions.0.agent_id`."
)
_EXAMPLE_CONDITIONS = {"all": [{"field": "priority", "operator": "equals", "value": "urgent"}]}
_EXAMPLE_ACTIONS = [{"type": "add_tag", "tag": "vip"}]
_EXAMPLE_TICKET = {"title": "Server down", "priority": "urgent", "tags": []}
# a dry run of a rule not saved, on a ticket described: the document's example body of `POST /automation/test`
RULE_TEST_EXAMPLE = {
    "ticket": _EXAMPLE_TICKET, "trigger": "ticket.created",
    "rule": {"name": "Tag urgent tickets", "triggers": ["ticket.created"], "conditions": _EXAMPLE_CONDITIONS,
             "actions": _EXAMPLE_ACTIONS},
}


class RuleSchema(Schema):
    """An automation rule: on these ticket events (`triggers`), if the ticket meets `conditions`, do `actions`."""

    id = fields.String(required=True, metadata=_uuid)
    name = fields.String(required=True, metadata={"description": "Unique ignoring case, width and spacing."})
    description = fields.String(required=True, allow_none=True)
    triggers = fields.List(fields.String(metadata={"enum": list(RULE_TRIGGERS)}), required=True,
                           metadata={"description": _TRIGGERS})
    conditions = fields.Dict(keys=fields.String(), required=True, metadata={"description": _CONDITIONS})
    actions = fields.List(fields.Dict(keys=fields.String()), required=True, metadata={"description": _ACTIONS})
    enabled = fields.Boolean(required=True, metadata={"description": "A disabled rule runs on no event."})
    position = fields.Integer(
        required=True, metadata={"description": "Rules run in ascending position (then by name), each seeing the "
                                                "ticket as the ones before left it."},
    )
    created_by = fields.String(
        required=True, allow_none=True, metadata={**_uuid, "description": "Who created it; null for a rule shipped "
                                                                            "with the product."},
    )
    created_at = fields.String(required=True, metadata=_timestamp)
    updated_at = fields.String(required=True, metadata=_timestamp)


def _triggers(**kwargs) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(RULE_TRIGGERS)),
        validate=validate.Length(min=1, max=len(RULE_TRIGGERS)),
        metadata={"description": _TRIGGERS, "example": ["ticket.created"]}, **kwargs,
    )


def _conditions() -> fields.Dict:
    return fields.Dict(keys=fields.String(), allow_none=True,
                       metadata={"description": f"{_CONDITIONS} Null: `{{\"all\": []}}`.",
                                 "example": _EXAMPLE_CONDITIONS})


def _actions(**kwargs) -> fields.List:
    return fields.List(fields.Dict(keys=fields.String()), validate=validate.Length(min=1, max=RULE_ACTIONS_MAX),
                       metadata={"description": _ACTIONS, "example": _EXAMPLE_ACTIONS}, **kwargs)


def _position() -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(min=0, max=RULE_POSITION_MAX),
        metadata={"description": "Where it runs among the rules (ascending); a new rule without one runs last."},
    )


class CreateRuleSchema(InputSchema):
    """A new automation rule (admins); its creator is the caller."""

    name = text(NAME_MAX, required=True, metadata={"example": "Tag urgent tickets"})
    description = text(RULE_MESSAGE_MAX, allow_none=True)
    triggers = _triggers(required=True)
    conditions = _conditions()
    actions = _actions(required=True)
    enabled = fields.Boolean(metadata={"description": "Whether it runs (default true)."})
    position = _position()


class UpdateRuleSchema(ChangesSchema):
    """Changes to an automation rule (admins): each field given replaces the rule's (`conditions` and `actions`
    whole)."""

    name = text(NAME_MAX)
    description = text(RULE_MESSAGE_MAX, allow_none=True)
    triggers = _triggers()
    conditions = _conditions()
    actions = _actions()
    enabled = fields.Boolean()
    position = _position()


class ToggleRuleSchema(InputSchema):
    """Enable or disable a rule: `enabled` says which; without it (or without a body) it flips."""

    enabled = fields.Boolean(metadata={"description": "True enables, false disables; left out: the other way round "
                                                      "from now."})


class RuleTestSchema(InputSchema):
    """A dry run: which rules would match a ticket, and what each would change; nothing changes.

    The ticket is a stored one (`ticket_id`) or one described here (`ticket`); the rules are the enabled ones
    in run order, one saved rule (`rule_id`, even disabled) or a rule not saved (`rule`, as it would be created).
    """

    class Meta(InputSchema.Meta):
        json_schema = {"oneOf": [{"required": ["ticket_id"]}, {"required": ["ticket"]}],
                       "not": {"required": ["rule_id", "rule"]}}  # documents _one_ticket_at_most_one_rule

    ticket_id = UuidString(metadata={"description": "A stored ticket (404 if unknown)."})
    ticket = fields.Dict(
        keys=fields.String(),
        metadata={"description": "A ticket described by its fields as a ticket answers them (`title`, `status`, "
                                 "`priority`, `tags`, `category`, `department_id`, `assignee_id`, `requester_id`, "
                                 "`created_at`...), and optionally `requester` and `organization` objects; "
                                 "`status` defaults to `new`, `priority` to `medium`. An unknown field is a 422 "
                                 "naming `ticket.<field>`.",
                  "example": _EXAMPLE_TICKET},
    )
    trigger = fields.String(
        validate=validate.OneOf(RULE_TRIGGERS),
        metadata={"description": "The event to pretend happened (default `ticket.created`): a rule runs only on its "
                                 "triggers."},
    )
    rule_id = UuidString(metadata={"description": "Try this saved rule only, enabled or not (404 if unknown)."})
    rule = fields.Nested(CreateRuleSchema, metadata={"description": "Try this rule, not saved: as it would be "
                                                                    "created."})

    @validates_schema
    def _one_ticket_at_most_one_rule(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("ticket_id" in data) == ("ticket" in data):
            raise ValidationError("Give either a ticket_id or a ticket.", "ticket_id")
        if "rule_id" in data and "rule" in data:
            raise ValidationError("Give a rule_id or a rule, not both.", "rule")


class RuleStepSchema(Schema):
    """One action as it applies (or applied) to the ticket: the field it changes, before and after."""

    type = fields.String(required=True, metadata={"enum": list(RULE_ACTIONS)})
    action = fields.Dict(keys=fields.String(), required=True, metadata={"description": "The action, as in the rule."})
    field = fields.String(metadata={"description": "The ticket field it changes (`priority`, `status`, "
                                                   "`assignee_id`, `department_id`, `tags`); absent for actions that "
                                                   "add something (a comment, a notification)."})
    before = fields.Raw(allow_none=True, metadata={"description": "The field's value before."})
    after = fields.Raw(allow_none=True, metadata={"description": "The field's value after."})
    skipped = fields.String(metadata={"description": "Why this action does (or did) nothing: the field is already so, "
                                                     "or the tickets service refused it."})


class RuleTrialSchema(Schema):
    """A rule tried in a dry run."""

    rule_id = fields.String(required=True, metadata={**_uuid, "description": "A fresh id for a rule not saved."})
    name = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    matched = fields.Boolean(required=True, metadata={"description": "It runs on the trigger and the ticket meets "
                                                                     "its conditions."})
    steps = fields.List(fields.Nested(RuleStepSchema), required=True,
                        metadata={"description": "What it would do, in order; empty unless it matched."})


class RuleTestResultSchema(Schema):
    """What the rules would do to a ticket on an event: each rule tried, and the ids of those that match."""

    trigger = fields.String(required=True, metadata={"enum": list(RULE_TRIGGERS)})
    ticket_id = fields.String(required=True, allow_none=True,
                              metadata={**_uuid, "description": "Null for a ticket described without an id."})
    rules = fields.List(fields.Nested(RuleTrialSchema), required=True, metadata={"description": "In run order."})
    matched = fields.List(fields.String(metadata=_uuid), required=True)


class RuleRunSchema(Schema):
    """What a rule did to a ticket on an event."""

    id = fields.String(required=True, metadata=_uuid)
    rule_id = fields.String(required=True, metadata=_uuid)
    rule_name = fields.String(required=True, metadata={"description": "Its name then."})
    ticket_id = fields.String(required=True, metadata=_uuid)
    event_id = fields.String(required=True, metadata={**_uuid, "description": "The event that ran it."})
    trigger = fields.String(required=True, metadata={"enum": list(RULE_TRIGGERS)})
    at = fields.String(required=True, metadata=_timestamp)
    outcome = fields.String(
        required=True,
        metadata={"enum": list(RULE_RUN_OUTCOMES),
                  "description": "`applied`: its actions were carried out (some perhaps skipped, see `steps`); "
                                 "`failed`: it stopped on an error; `loop_protected`: not run, it had fired too "
                                 "often on this ticket in the last hour; `gone`: the ticket was deleted meanwhile."},
    )
    steps = fields.List(fields.Nested(RuleStepSchema), required=True)
    error = fields.String(required=True, allow_none=True)


class RuleRunQuerySchema(PageQuerySchema):
    """A page of rule runs, newest first, optionally of one ticket and/or one rule."""

    ticket_id = UuidString(metadata={"description": "Only the runs on this ticket."})
    rule_id = UuidString(metadata={"description": "Only this rule's runs."})
