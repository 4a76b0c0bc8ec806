"""Response templates (canned responses): a named resource (``helpdesk_common.resources``) staff share.

Any member of staff lists, reads, renders and creates them; a template's creator and managers
(supervisors, admins) change or delete it; customers do none of it. What a template may say, and how it
is rendered, is the domain's (``domain.templates``).
"""

from __future__ import annotations

from typing import Any

from helpdesk_common import resources
from helpdesk_common.resources import NamedResource
from services.automation import schemas
from services.automation.domain import templates
from services.automation.domain.errors import Conflict, PermissionDenied, TicketNotFound
from services.automation.domain.templates import ResponseTemplate
from services.automation.handlers.common import Actor, actor_from, require_staff
from services.automation.handlers.ports import AutomationUnitOfWork, Directory, TicketDesk

TEMPLATES = NamedResource(
    name="template", entity=ResponseTemplate, repository="templates",
    load=lambda data, partial: schemas.load(schemas.TemplateInput, data, partial=partial),
    view=schemas.template_view,
    name_taken=lambda: Conflict("A template with this name already exists.", {"name": ["Already taken."]}),
    creator_field="created_by",
)


def _staff(actor: Any) -> Actor:
    caller = actor_from(actor)
    require_staff(caller, "Only staff can use response templates.")
    return caller


def _owner_or_manager(actor: Any, template_id: str, *, uow: AutomationUnitOfWork) -> Actor:
    caller = _staff(actor)
    template = uow.templates.get(template_id)
    if not template.may_be_changed_by(caller.id, manager=caller.is_manager):
        raise PermissionDenied("Only the template's creator, supervisors and admins can change or delete it.")
    return caller


def create_template(data: Any, actor: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """Create a template (staff); its creator is the caller."""
    caller = _staff(actor)
    return resources.create_resource(TEMPLATES, data, uow=uow, actor=caller.id)


def get_template(template_id: str, actor: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """Return one template (staff)."""
    _staff(actor)
    return resources.get_resource(TEMPLATES, template_id, uow=uow)


def list_templates(actor: Any, page: Any, limit: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """Return a page of templates by name (staff)."""
    _staff(actor)
    return resources.list_resources(TEMPLATES, page, limit, uow=uow)


def update_template(template_id: str, changes: Any, actor: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """Change a template (its creator, supervisors, admins)."""
    caller = _owner_or_manager(actor, template_id, uow=uow)
    return resources.update_resource(TEMPLATES, template_id, changes, uow=uow, actor=caller.id)


def delete_template(template_id: str, actor: Any, *, uow: AutomationUnitOfWork) -> None:
    """Delete a template (its creator, supervisors, admins)."""
    caller = _owner_or_manager(actor, template_id, uow=uow)
    resources.delete_resource(TEMPLATES, template_id, uow=uow, actor=caller.id)


def render_template(template_id: str, context: Any, actor: Any, *, uow: AutomationUnitOfWork,
                    desk: TicketDesk | None = None, directory: Directory | None = None,
                    ticket_id: str | None = None) -> dict[str, Any]:
    """Render a template (staff): ``{"body": text}``.

    With ``{ticket: {...}, requester: {...}, agent: {...}}`` values, or for a ticket the caller may see
    (``ticket_id``): its fields, its requester, and the caller as the agent; values given in ``context`` too
    win over those read.
    """
    caller = _staff(actor)
    template = uow.templates.get(template_id)
    if ticket_id is not None:
        if desk is None or directory is None:
            raise AssertionError("rendering for a ticket needs the tickets and users services")
        ticket = desk.get_as(str(ticket_id), actor)
        if ticket is None:
            raise TicketNotFound()
        read = templates.context_of(ticket, requester=directory.get_user(str(ticket["requester_id"])),
                                    agent=directory.get_user(caller.id) if caller.id else None)
        given = context if isinstance(context, dict) else {}
        context = {name: {**values, **(given.get(name) or {})} for name, values in read.items()}
    return {"body": templates.render(template.body, context)}
