"""``/api/v1/organizations``: the companies customers belong to."""

from __future__ import annotations

from flask import url_for

from gateway.api.blueprint import Blueprint
from gateway.auth import ADMINS, STAFF, require_auth
from gateway.envelope import page, success
from gateway.idempotency import idempotent
from gateway.rpc import rpc
from gateway.schemas.common import MessageEnvelopeSchema, PageQuerySchema, envelope, page_envelope
from gateway.schemas.organizations import CreateOrganizationSchema, OrganizationSchema, UpdateOrganizationSchema

blp = Blueprint("organizations", __name__, url_prefix="/api/v1/organizations", description="Organizations.")


@blp.route("", methods=["GET"])
@require_auth(roles=STAFF)
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_envelope(OrganizationSchema))
def list_organizations(query):
    """List organizations, paginated (agents, supervisors, admins)."""
    result = rpc().call("users", "list_organizations", query["page"], query["limit"])
    return success(page(result["items"], total=result["total"], page=query["page"], limit=query["limit"]))


@blp.route("", methods=["POST"])
@require_auth(roles=ADMINS)
@blp.arguments(CreateOrganizationSchema)
@blp.response(201, envelope(OrganizationSchema))
@blp.error(409, "An organization with this name exists already (names are unique, ignoring case).")
@idempotent
def create_organization(payload):
    """Create an organization (admins)."""
    organization = rpc().call("users", "create_organization", payload)
    location = url_for("organizations.get_organization", organization_id=organization["id"])
    return success(organization, "Organization created."), {"Location": location}


@blp.route("/<uuid:organization_id>", methods=["GET"])
@require_auth(roles=STAFF)
@blp.response(200, envelope(OrganizationSchema))
def get_organization(organization_id):
    """Return an organization (agents, supervisors, admins)."""
    return success(rpc().call("users", "get_organization", str(organization_id)))


@blp.route("/<uuid:organization_id>", methods=["PUT"])
@require_auth(roles=ADMINS)
@blp.arguments(UpdateOrganizationSchema)
@blp.response(200, envelope(OrganizationSchema))
@blp.error(409, "Another organization has this name (names are unique, ignoring case).")
def update_organization(changes, organization_id):
    """Change an organization (admins)."""
    organization = rpc().call("users", "update_organization", str(organization_id), changes)
    return success(organization, "Organization updated.")


@blp.route("/<uuid:organization_id>", methods=["DELETE"])
@require_auth(roles=ADMINS)
@blp.response(200, MessageEnvelopeSchema)
@blp.error(409, "The organization still has members; move them first.")
def delete_organization(organization_id):
    """Delete an organization that has no members left (admins)."""
    rpc().call("users", "delete_organization", str(organization_id))
    return success(None, "Organization deleted.")
