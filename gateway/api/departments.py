"""``/api/v1/departments``: the teams tickets are routed to (a named resource, see ``api.resources``)."""

from __future__ import annotations

from gateway.api.blueprint import Blueprint
from gateway.api.resources import ResourceRoutes, register
from gateway.schemas.departments import CreateDepartmentSchema, DepartmentSchema, UpdateDepartmentSchema

blp = Blueprint("departments", __name__, url_prefix="/api/v1/departments", description="Departments.")

ROUTES = ResourceRoutes(
    name="department", service="users", title="Department",
    schema=DepartmentSchema, create_schema=CreateDepartmentSchema, update_schema=UpdateDepartmentSchema,
    delete_rule=" that has no members left",
    delete_conflict="The department still has members; move them first.",
)
register(blp, ROUTES)
