"""``/api/v1/departments``: the teams tickets are routed to."""

from __future__ import annotations

from flask import url_for

from gateway.api.blueprint import Blueprint
from gateway.auth import ADMINS, require_auth
from gateway.envelope import page, success
from gateway.idempotency import idempotent
from gateway.rpc import rpc
from gateway.schemas.common import MessageEnvelopeSchema, PageQuerySchema, envelope, page_envelope
from gateway.schemas.departments import CreateDepartmentSchema, DepartmentSchema, UpdateDepartmentSchema

blp = Blueprint("departments", __name__, url_prefix="/api/v1/departments", description="Departments.")


@blp.route("", methods=["GET"])
@require_auth()
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_envelope(DepartmentSchema))
def list_departments(query):
    """List departments, paginated."""
    result = rpc().call("users", "list_departments", query["page"], query["limit"])
    return success(page(result["items"], total=result["total"], page=query["page"], limit=query["limit"]))


@blp.route("", methods=["POST"])
@require_auth(roles=ADMINS)
@blp.arguments(CreateDepartmentSchema)
@blp.response(201, envelope(DepartmentSchema))
@blp.error(409, "A department with this name exists already (names are unique, ignoring case).")
@idempotent
def create_department(payload):
    """Create a department (admins)."""
    department = rpc().call("users", "create_department", payload)
    location = url_for("departments.get_department", department_id=department["id"])
    return success(department, "Department created."), {"Location": location}


@blp.route("/<uuid:department_id>", methods=["GET"])
@require_auth()
@blp.response(200, envelope(DepartmentSchema))
def get_department(department_id):
    """Return a department."""
    return success(rpc().call("users", "get_department", str(department_id)))


@blp.route("/<uuid:department_id>", methods=["PUT"])
@require_auth(roles=ADMINS)
@blp.arguments(UpdateDepartmentSchema)
@blp.response(200, envelope(DepartmentSchema))
@blp.error(409, "Another department has this name (names are unique, ignoring case).")
def update_department(changes, department_id):
    """Change a department (admins)."""
    return success(rpc().call("users", "update_department", str(department_id), changes), "Department updated.")


@blp.route("/<uuid:department_id>", methods=["DELETE"])
@require_auth(roles=ADMINS)
@blp.response(200, MessageEnvelopeSchema)
@blp.error(409, "The department still has members; move them first.")
def delete_department(department_id):
    """Delete a department that has no members left (admins)."""
    rpc().call("users", "delete_department", str(department_id))
    return success(None, "Department deleted.")
