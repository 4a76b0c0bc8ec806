"""``/api/v1/automation/templates``: response templates (canned responses) staff insert into replies.

A named resource (``api.resources``) the automation service keeps: staff list, read, create and render
them; a template's creator, supervisors and admins change or delete it (the service decides, from the
caller passed as ``actor``: a 403 otherwise); customers get 403 everywhere.
"""

from __future__ import annotations

from gateway.api.blueprint import Blueprint
from gateway.api.resources import ResourceRoutes, register
from gateway.auth import STAFF, current_actor, require_auth
from gateway.envelope import success
from gateway.rpc import rpc
from gateway.schemas.automation import (
    CreateTemplateSchema,
    RenderedTemplateSchema,
    RenderTemplateSchema,
    TemplateSchema,
    UpdateTemplateSchema,
)
from gateway.schemas.common import envelope

blp = Blueprint(
    "templates", __name__, url_prefix="/api/v1/automation/templates",
    description="Response templates (canned responses) with `{{ ticket.number }}`-style variables.",
)

SERVICE = "automation"

ROUTES = ResourceRoutes(
    name="template", service=SERVICE, title="Template",
    schema=TemplateSchema, create_schema=CreateTemplateSchema, update_schema=UpdateTemplateSchema,
    read_roles=STAFF, write_roles=STAFF, caller_as_actor=True,
    who_reads=" (staff)", who_changes="its creator, supervisors, admins",
)
register(blp, ROUTES)


@blp.route("/<uuid:template_id>/render", methods=["POST"])
@require_auth(roles=STAFF)
@blp.arguments(RenderTemplateSchema)
@blp.response(200, envelope(RenderedTemplateSchema))
@blp.error(404, "No such template, or no such ticket you may see (`ticket_id`).")
def render_template(payload, template_id):
    """Render a template (staff) with the values given, or for a ticket you may see (`ticket_id`: its fields, its
    requester, you as the agent); a variable it uses and nothing gives is a 422."""
    rendered = rpc().call(SERVICE, "render_template", str(template_id), payload.get("context"), actor=current_actor(),
                          ticket_id=payload.get("ticket_id"))
    return success(rendered)
