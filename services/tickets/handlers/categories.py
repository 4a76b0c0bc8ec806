"""Ticket categories: admins manage them; anyone signed in reads them."""

from __future__ import annotations

import uuid
from typing import Any

from services.tickets import schemas
from services.tickets.domain import rules
from services.tickets.domain.errors import PermissionDenied, category_name_taken
from services.tickets.handlers.common import actor_from
from services.tickets.handlers.ports import TicketsUnitOfWork
from services.tickets.handlers.references import Directory, check_department


def _admin(actor: rules.Actor) -> None:
    if actor.role not in ("admin", "system"):
        raise PermissionDenied("Only admins can manage categories.")


def _unique_category_name(uow: TicketsUnitOfWork, name: str, *, exclude: str | None = None) -> None:
    # checked first for a message naming the existing category; the unique index settles a race (409 too)
    existing = uow.categories.find_by_name(name)
    if existing is not None and existing["id"] != exclude:
        raise category_name_taken(existing["name"])


def create_category(data: dict[str, Any], actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                    directory: Directory | None = None) -> dict[str, Any]:
    """Create a ticket category (admins); its ``required_skills`` are what an agent needs to be routed its tickets."""
    actor = actor_from(actor_raw)
    _admin(actor)
    payload = schemas.load(schemas.CategoryInput, data)
    check_department(uow, payload.get("default_department_id"), directory=directory, field="default_department_id")
    _unique_category_name(uow, payload["name"])
    now = uow.clock.now()
    row = {"id": str(uuid.uuid4()), "name": payload["name"], "description": payload.get("description"),
           "default_department_id": payload.get("default_department_id"),
           "required_skills": payload.get("required_skills", []), "created_at": now, "updated_at": now}
    uow.categories.add(row)
    uow.commit()
    return schemas.category_view(row)


def list_categories(actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> dict[str, Any]:
    """Return every category, by name (anyone signed in)."""
    actor_from(actor_raw)
    items = [schemas.category_view(row) for row in uow.categories.list()]
    return {"items": items, "total": len(items)}


def get_category(category_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> dict[str, Any]:
    """Return one category."""
    actor_from(actor_raw)
    return schemas.category_view(uow.categories.get(category_id))


def update_category(category_id: str, changes: dict[str, Any], actor_raw: dict[str, Any], *,
                    uow: TicketsUnitOfWork, directory: Directory | None = None) -> dict[str, Any]:
    """Change a category (admins); tickets keep the category name they were filed under."""
    actor = actor_from(actor_raw)
    _admin(actor)
    payload = schemas.load(schemas.CategoryInput, changes, partial=True)
    check_department(uow, payload.get("default_department_id"), directory=directory, field="default_department_id")
    repo = uow.categories
    repo.get(category_id, for_update=True)
    if "name" in payload:
        _unique_category_name(uow, payload["name"], exclude=category_id)
    if payload:
        repo.change(category_id, {**payload, "updated_at": uow.clock.now()})
    row = repo.get(category_id)
    uow.commit()
    return schemas.category_view(row)


def delete_category(category_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> None:
    """Delete a category (admins); tickets filed under it keep the name as text."""
    actor = actor_from(actor_raw)
    _admin(actor)
    repo = uow.categories
    repo.get(category_id, for_update=True)
    repo.remove(category_id)
    uow.commit()
