"""``/api/v1/automation``: the ticket router: its decisions, the backlog, and the departments' strategies.

Staff read them (the automation service shows agents their own department's, and the tickets not yet routed
to one); admins set a department's strategy. An agent's workload, a user's sub-resource, is in ``api/users.py``.
"""

from __future__ import annotations

from gateway.api.blueprint import Blueprint
from gateway.auth import ADMINS, STAFF, current_actor, require_auth
from gateway.envelope import page, success, whole_list
from gateway.rpc import rpc
from gateway.schemas.automation import (
    BacklogEntrySchema,
    BacklogQuerySchema,
    DecisionQuerySchema,
    DecisionSchema,
    SetStrategySchema,
    StrategySchema,
)
from gateway.schemas.common import envelope, page_envelope

blp = Blueprint(
    "automation", __name__, url_prefix="/api/v1/automation",
    description="The ticket router: its decisions, the backlog and the departments' routing strategies.",
)

SERVICE = "automation"


@blp.route("/decisions", methods=["GET"])
@require_auth(roles=STAFF)
@blp.arguments(DecisionQuerySchema, location="query")
@blp.response(200, page_envelope(DecisionSchema))
@blp.error(404, "No such ticket (`ticket_id`), or not one you may see.")
def list_decisions(query):
    """List the router's decisions, newest first, with why and whom it looked at (staff).

    Agents see those of their department's tickets and of the tickets not yet routed to one.
    """
    result = rpc().call(SERVICE, "list_decisions", current_actor(), ticket_id=query.get("ticket_id"),
                        page=query["page"], limit=query["limit"])
    return success(page(result["items"], total=result["total"], page=query["page"], limit=query["limit"]))


@blp.route("/queue", methods=["GET"])
@require_auth(roles=STAFF)
@blp.arguments(BacklogQuerySchema, location="query")
@blp.response(200, page_envelope(BacklogEntrySchema))
def list_backlog(query):
    """List the tickets waiting for an agent, in the order the router serves them (staff).

    Soonest SLA due time first, then the most urgent, then the oldest; `manual_only` departments are left out.
    """
    result = rpc().call(SERVICE, "backlog", current_actor(), department_id=query.get("department_id"),
                        page=query["page"], limit=query["limit"])
    return success(page(result["items"], total=result["total"], page=query["page"], limit=query["limit"]))


@blp.route("/strategies", methods=["GET"])
@require_auth(roles=STAFF)
@blp.response(200, page_envelope(StrategySchema))
def list_strategies():
    """List the strategies set for departments, who set each and when (staff); the others route `least_loaded`."""
    return success(whole_list(rpc().call(SERVICE, "list_strategies", current_actor())["items"]))


@blp.route("/strategies/<uuid:department_id>", methods=["PUT"])
@require_auth(roles=ADMINS)
@blp.arguments(SetStrategySchema)
@blp.response(200, envelope(StrategySchema))
def set_strategy(payload, department_id):
    """Set how a department's tickets are routed (admins); its waiting tickets are offered at the router's next sweep."""
    strategy = rpc().call(SERVICE, "set_strategy", str(department_id), payload["strategy"], actor=current_actor())
    return success(strategy, "Strategy updated.")
