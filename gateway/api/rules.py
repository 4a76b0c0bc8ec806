"""``/api/v1/automation/rules``: automation rules, and ``/api/v1/automation/test`` and ``/rule-runs``.

A rule acts on tickets when the events it names come (``triggers``) and the ticket meets its ``conditions``:
its ``actions``, in order. A named resource (``api.resources``) the automation service keeps and runs:
supervisors and admins read the rules, try them on a ticket (a dry run, changing nothing) and see what they
did; admins create, change, enable, disable and delete them. The caller goes to the service as ``actor`` on
every call, and it checks the role too; customers and agents get 403 everywhere here. The gateway checks a
rule's shape; the service checks what its conditions and actions say, naming the path of each problem.
"""

from __future__ import annotations

from gateway.api.blueprint import Blueprint
from gateway.api.resources import ResourceRoutes, register
from gateway.auth import ADMINS, MANAGERS, current_actor, require_auth
from gateway.envelope import page, success
from gateway.rpc import rpc
from gateway.schemas.automation import (
    RULE_TEST_EXAMPLE,
    CreateRuleSchema,
    RuleRunQuerySchema,
    RuleRunSchema,
    RuleSchema,
    RuleTestResultSchema,
    RuleTestSchema,
    ToggleRuleSchema,
    UpdateRuleSchema,
)
from gateway.schemas.common import envelope, page_envelope

blp = Blueprint(
    "rules", __name__, url_prefix="/api/v1/automation",
    description="Automation rules: when a ticket event comes and the ticket meets the conditions, do the actions; "
                "a dry run, and what the rules did.",
)

SERVICE = "automation"

ROUTES = ResourceRoutes(
    name="rule", service=SERVICE, title="Rule", path="/rules",
    schema=RuleSchema, create_schema=CreateRuleSchema, update_schema=UpdateRuleSchema,
    read_roles=MANAGERS, write_roles=ADMINS, caller_as_actor=True,
    who_reads=" (supervisors, admins)",
)
register(blp, ROUTES)


@blp.route("/rules/<uuid:rule_id>/toggle", methods=["PATCH"])
@require_auth(roles=ADMINS)
@blp.arguments(ToggleRuleSchema, required=False)
@blp.response(200, envelope(RuleSchema))
def toggle_rule(payload, rule_id):
    """Enable or disable a rule (admins); without `enabled` (or without a body) it flips."""
    rule = rpc().call(SERVICE, "toggle_rule", str(rule_id), actor=current_actor(), enabled=payload.get("enabled"))
    return success(rule, "Rule enabled." if rule["enabled"] else "Rule disabled.")


@blp.route("/test", methods=["POST"])
@require_auth(roles=MANAGERS)
@blp.arguments(RuleTestSchema, example=RULE_TEST_EXAMPLE)
@blp.response(200, envelope(RuleTestResultSchema))
@blp.error(404, "No such ticket (`ticket_id`) or rule (`rule_id`).")
def test_rules(payload):
    """Dry-run the rules on a ticket: which would match and what each would do (supervisors, admins).

    The enabled rules in run order, or only `rule_id` (even disabled), or `rule` (not saved), each tried on the
    ticket as it is. A problem in the rule's conditions or actions is a 422 naming its path.
    """
    return success(rpc().call(SERVICE, "test_rules", payload, actor=current_actor()))


@blp.route("/rule-runs", methods=["GET"])
@require_auth(roles=MANAGERS)
@blp.arguments(RuleRunQuerySchema, location="query")
@blp.response(200, page_envelope(RuleRunSchema))
def list_rule_runs(query):
    """List what the rules did to tickets, newest first (supervisors, admins)."""
    result = rpc().call(SERVICE, "list_rule_runs", current_actor(), ticket_id=query.get("ticket_id"),
                        rule_id=query.get("rule_id"), page=query["page"], limit=query["limit"])
    return success(page(result["items"], total=result["total"], page=query["page"], limit=query["limit"]))
