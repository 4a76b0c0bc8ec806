"""``/api/v1/users``: users, roles, agents' availability and workload (the latter as the router counts it)."""

from __future__ import annotations

from flask import url_for

from gateway.api.blueprint import Blueprint
from gateway.auth import ADMINS, AGENT, CUSTOMER, MANAGERS, STAFF, current_actor, current_user, require_auth
from gateway.envelope import page, success, whole_list
from gateway.idempotency import idempotent
from gateway.rpc import rpc
from gateway.schemas.automation import WorkloadSchema
from gateway.schemas.common import envelope, page_envelope
from gateway.schemas.users import (
    AvailabilitySchema,
    AvailableAgentSchema,
    AvailableAgentsQuerySchema,
    CreateUserSchema,
    RoleSchema,
    UpdateUserSchema,
    UserQuerySchema,
    UserSchema,
)
from helpdesk_contracts.errors import Conflict, PermissionDenied, UserNotFound

blp = Blueprint("users", __name__, url_prefix="/api/v1/users",
                description="Users, roles, agents' availability and workload.")

_FILTERS = ("role", "status", "availability", "department_id", "organization_id", "q")


# Declared before /<uuid:user_id>; the uuid converter would not match "agents" anyway.
@blp.route("/agents/available", methods=["GET"])
@require_auth()
@blp.arguments(AvailableAgentsQuerySchema, location="query")
@blp.response(200, page_envelope(AvailableAgentSchema))
def list_available_agents(query):
    """List the agents who are online with free capacity, optionally by department or skill."""
    agents = rpc().call(
        "users", "list_available_agents", department_id=query.get("department_id"), skill=query.get("skill")
    )
    return success(whole_list(agents))


@blp.route("", methods=["GET"])
@require_auth(roles=MANAGERS)
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, page_envelope(UserSchema))
def list_users(query):
    """List users, filtered and paginated (supervisors and admins)."""
    filters = {name: query[name] for name in _FILTERS if name in query}
    result = rpc().call("users", "list_users", filters, query["page"], query["limit"])
    return success(page(result["items"], total=result["total"], page=query["page"], limit=query["limit"]))


@blp.route("", methods=["POST"])
@require_auth(roles=ADMINS)
@blp.arguments(CreateUserSchema)
@blp.response(201, envelope(UserSchema))
@blp.error(409, "An account with this e-mail exists already.")
@idempotent
def create_user(payload):
    """Create a user of any role (admins)."""
    user = rpc().call("users", "create_user", payload)
    return success(user, "User created."), {"Location": url_for("users.get_user", user_id=user["id"])}


@blp.route("/<uuid:user_id>", methods=["GET"])
@require_auth()
@blp.response(200, envelope(UserSchema))
def get_user(user_id):
    """Return a user; customers may only read themselves."""
    me = current_user()
    if me["role"] == CUSTOMER and str(user_id) != me["id"]:
        raise UserNotFound()  # 404, not 403: a customer may not learn which ids exist
    return success(rpc().call("users", "get_user", str(user_id)))


@blp.route("/<uuid:user_id>", methods=["PUT"])
@require_auth(roles=ADMINS)
@blp.arguments(UpdateUserSchema)
@blp.response(200, envelope(UserSchema))
@blp.error(409, "Another account has this e-mail.")
def update_user(changes, user_id):
    """Change a user's details (admins)."""
    return success(rpc().call("users", "update_user", str(user_id), changes), "User updated.")


@blp.route("/<uuid:user_id>", methods=["DELETE"])
@require_auth(roles=ADMINS)
@blp.response(200, envelope(UserSchema))
@blp.error(409, "You cannot deactivate your own account.")
def deactivate_user(user_id):
    """Deactivate a user and sign them out everywhere (admins; not yourself)."""
    if str(user_id) == current_user()["id"]:
        raise Conflict("You cannot deactivate your own account.")
    return success(rpc().call("users", "deactivate_user", str(user_id)), "User deactivated.")


@blp.route("/<uuid:user_id>/role", methods=["PATCH"])
@require_auth(roles=ADMINS)
@blp.arguments(RoleSchema)
@blp.response(200, envelope(UserSchema))
@blp.error(409, "You cannot change your own role.")
def change_role(payload, user_id):
    """Change a user's role (admins; not your own, so the last admin cannot lock everyone out)."""
    if str(user_id) == current_user()["id"]:
        raise Conflict("You cannot change your own role.")
    return success(rpc().call("users", "change_role", str(user_id), payload["role"]), "Role changed.")


@blp.route("/<uuid:user_id>/availability", methods=["PATCH"])
@require_auth(roles=STAFF)
@blp.arguments(AvailabilitySchema)
@blp.response(200, envelope(UserSchema))
def set_availability(payload, user_id):
    """Set an agent's availability: agents their own, supervisors and admins anyone's."""
    me = current_user()
    if me["role"] == AGENT and str(user_id) != me["id"]:
        raise PermissionDenied("Agents may only set their own availability.")
    user = rpc().call("users", "set_availability", str(user_id), payload["availability"])
    return success(user, "Availability updated.")


@blp.route("/<uuid:user_id>/workload", methods=["GET"])
@require_auth(roles=STAFF)
@blp.response(200, envelope(WorkloadSchema))
def get_workload(user_id):
    """Return an agent's load as the ticket router counts it: agents their own, supervisors and admins anyone's.

    Asked by an agent for someone else, or for a user the router does not follow (a customer), it is a 404.
    """
    return success(rpc().call("automation", "workload", str(user_id), actor=current_actor()))
