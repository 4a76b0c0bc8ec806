"""``/api/v1/organizations``: the companies customers belong to (a named resource, see ``api.resources``)."""

from __future__ import annotations

from gateway.api.blueprint import Blueprint
from gateway.api.resources import ResourceRoutes, register
from gateway.auth import STAFF
from gateway.schemas.organizations import CreateOrganizationSchema, OrganizationSchema, UpdateOrganizationSchema

blp = Blueprint("organizations", __name__, url_prefix="/api/v1/organizations", description="Organizations.")

ROUTES = ResourceRoutes(
    name="organization", service="users", title="Organization",
    schema=OrganizationSchema, create_schema=CreateOrganizationSchema, update_schema=UpdateOrganizationSchema,
    read_roles=STAFF, who_reads=" (agents, supervisors, admins)", delete_rule=" that has no members left",
    delete_conflict="The organization still has members; move them first.",
)
register(blp, ROUTES)
