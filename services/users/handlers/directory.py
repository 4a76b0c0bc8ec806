"""Departments and organizations: named resources (``helpdesk_common.resources``), one spec each."""

from __future__ import annotations

from typing import Any

from helpdesk_common import resources
from helpdesk_common.resources import NamedResource
from services.users import schemas
from services.users.domain.errors import (
    Conflict,
    DepartmentInUse,
    OrganizationInUse,
)
from services.users.domain.model import Department, Organization
from services.users.handlers._common import MAX_PAGE_SIZE, UnitOfWork


def _name_taken(kind: str) -> Conflict:
    article = "An" if kind[0] in "aeiou" else "A"
    return Conflict(f"{article} {kind} with this name already exists.", {"name": ["Already taken."]})


def _members(field: str) -> Any:
    def decorate(uow: UnitOfWork, entity: Any, view: dict[str, Any]) -> dict[str, Any]:
        return {**view, "member_count": uow.users.count_members(**{field: entity.id})}

    return decorate


def _refuse_if_members(field: str, error: type[Exception], message: str) -> Any:
    def before_delete(uow: UnitOfWork, entity: Any) -> None:
        if uow.users.count_members(**{field: entity.id}):
            raise error(message)

    return before_delete


DEPARTMENTS = NamedResource(
    name="department", entity=Department, repository="departments",
    load=lambda data, partial: schemas.load(schemas.DepartmentInput, data, partial=partial),
    view=schemas.department_view, name_taken=lambda: _name_taken("department"),
    decorate=_members("department_id"),
    before_delete=_refuse_if_members("department_id", DepartmentInUse,
                                     "The department still has members; move them first."),
    max_page_size=MAX_PAGE_SIZE,
)
ORGANIZATIONS = NamedResource(
    name="organization", entity=Organization, repository="organizations",
    load=lambda data, partial: schemas.load(schemas.OrganizationInput, data, partial=partial),
    view=schemas.organization_view, name_taken=lambda: _name_taken("organization"),
    decorate=_members("organization_id"),
    before_delete=_refuse_if_members("organization_id", OrganizationInUse,
                                     "The organization still has members; move them first."),
    max_page_size=MAX_PAGE_SIZE,
)


def create_department(data: dict[str, Any], *, uow: UnitOfWork, actor: str | None = None) -> dict[str, Any]:
    """Create a department."""
    return resources.create_resource(DEPARTMENTS, data, uow=uow, actor=actor)


def get_department(department_id: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return one department with its member count."""
    return resources.get_resource(DEPARTMENTS, department_id, uow=uow)


def list_departments(page: int, limit: int, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return a page of departments."""
    return resources.list_resources(DEPARTMENTS, page, limit, uow=uow)


def update_department(department_id: str, changes: dict[str, Any], *, uow: UnitOfWork,
                      actor: str | None = None) -> dict[str, Any]:
    """Change a department."""
    return resources.update_resource(DEPARTMENTS, department_id, changes, uow=uow, actor=actor)


def delete_department(department_id: str, *, uow: UnitOfWork, actor: str | None = None) -> None:
    """Delete an empty department."""
    resources.delete_resource(DEPARTMENTS, department_id, uow=uow, actor=actor)


def create_organization(data: dict[str, Any], *, uow: UnitOfWork, actor: str | None = None) -> dict[str, Any]:
    """Create a customer organization."""
    return resources.create_resource(ORGANIZATIONS, data, uow=uow, actor=actor)


def get_organization(organization_id: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return one organization with its member count."""
    return resources.get_resource(ORGANIZATIONS, organization_id, uow=uow)


def list_organizations(page: int, limit: int, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return a page of organizations."""
    return resources.list_resources(ORGANIZATIONS, page, limit, uow=uow)


def update_organization(organization_id: str, changes: dict[str, Any], *, uow: UnitOfWork,
                        actor: str | None = None) -> dict[str, Any]:
    """Change an organization."""
    return resources.update_resource(ORGANIZATIONS, organization_id, changes, uow=uow, actor=actor)


def delete_organization(organization_id: str, *, uow: UnitOfWork, actor: str | None = None) -> None:
    """Delete an organization without members."""
    resources.delete_resource(ORGANIZATIONS, organization_id, uow=uow, actor=actor)
