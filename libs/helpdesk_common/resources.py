"""Named resources: the list/get/create/update/delete of an admin-managed record, written once.

A service declares a ``NamedResource`` (its entity, how input is loaded, its public view, the unit of
work's attribute holding its repository, its errors and hooks) and its handlers call the functions
below. Names are unique ignoring case, width and spacing (``helpdesk_contracts.names``): checked first
for a clear answer, enforced by the unique index on ``name_key``, and a race lost to a concurrent writer
becomes the same conflict. Every change emits ``<name>.created|updated|deleted`` carrying
``{<name>: view}`` (``changes`` on updates) and the ``actor_id`` who made it.

See ``docs/adding-a-resource.md``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk_common.payloads import page_args
from helpdesk_contracts import limits
from helpdesk_contracts.names import fold_name


@dataclass(frozen=True)
class NamedResource:
    """What the generic handlers need to know about one kind of named resource."""

    name: str  # "department": the event prefix and the key of the snapshot in its events
    entity: type  # built as ``entity(id=..., now=..., **payload)``; ``update(changes, now=)`` returns the changes
    repository: str  # attribute of the unit of work holding its repository (``uow.departments``)
    load: Callable[..., dict[str, Any]]  # ``load(data, partial=bool)``: validated input or ValidationFailed
    view: Callable[[Any], dict[str, Any]]  # the public form, also the snapshot in its events
    name_taken: Callable[[], Exception]  # the 409 a taken name gets
    # hooks for a resource's own rules
    decorate: Callable[[Any, Any, dict[str, Any]], dict[str, Any]] | None = None  # (uow, entity, view): answer
    before_delete: Callable[[Any, Any], None] | None = None  # (uow, entity): refuse, or tidy references
    creator_field: str | None = None  # the entity's argument given the creating actor's id ("created_by")
    max_page_size: int = limits.PAGE_LIMIT_MAX

    def repo(self, uow: Any) -> Any:
        """Return this resource's repository from the unit of work."""
        return getattr(uow, self.repository)

    def answer(self, uow: Any, entity: Any) -> dict[str, Any]:
        """Return the view a caller gets (the event snapshot plus what ``decorate`` adds)."""
        view = self.view(entity)
        return self.decorate(uow, entity, view) if self.decorate else view


@contextmanager
def unique_commit(uow: Any, error: Exception) -> Iterator[None]:
    """Write and commit; a unique constraint lost to a concurrent writer becomes ``error``."""
    try:
        yield
        uow.commit()
    except IntegrityError:
        uow.rollback()
        raise error from None


def _check_name_free(spec: NamedResource, repo: Any, name: str, *, own_id: str | None = None) -> None:
    other = repo.find_by_name(name)
    if other is not None and other.id != own_id:
        raise spec.name_taken()


def list_resources(spec: NamedResource, page: int, limit: int, *, uow: Any) -> dict[str, Any]:
    """Return a page of a resource, by name."""
    page, limit = page_args(page, limit, max_limit=spec.max_page_size)
    items, total = spec.repo(uow).list(page=page, limit=limit)
    return {"items": [spec.answer(uow, item) for item in items], "total": total}


def get_resource(spec: NamedResource, resource_id: str, *, uow: Any) -> dict[str, Any]:
    """Return one resource (its repository raises the not-found error)."""
    return spec.answer(uow, spec.repo(uow).get(resource_id))


def create_resource(spec: NamedResource, data: Any, *, uow: Any, actor: str | None = None) -> dict[str, Any]:
    """Create a resource under a name nobody has, and emit ``<name>.created``."""
    payload = spec.load(data, partial=False)
    repo = spec.repo(uow)
    _check_name_free(spec, repo, payload["name"])
    creator = {spec.creator_field: actor} if spec.creator_field else {}
    entity = spec.entity(id=str(uuid.uuid4()), now=uow.clock.now(), **payload, **creator)
    view = spec.view(entity)
    with unique_commit(uow, spec.name_taken()):
        repo.add(entity)
        repo.flush()  # the unique index speaks here, before the event is recorded
        uow.emit(f"{spec.name}.created", {spec.name: view, "actor_id": actor})
    return spec.answer(uow, entity)


def update_resource(spec: NamedResource, resource_id: str, changes: Any, *, uow: Any,
                    actor: str | None = None) -> dict[str, Any]:
    """Change a resource; emit ``<name>.updated`` with the changes when something changed."""
    payload = spec.load(changes, partial=True)
    repo = spec.repo(uow)
    entity = repo.get(resource_id)
    if "name" in payload:
        _check_name_free(spec, repo, payload["name"], own_id=entity.id)
    applied = entity.update(payload, now=uow.clock.now())
    view = spec.view(entity)
    with unique_commit(uow, spec.name_taken()):
        if applied:
            uow.emit(f"{spec.name}.updated", {spec.name: view, "changes": applied, "actor_id": actor})
    return spec.answer(uow, entity)


def delete_resource(spec: NamedResource, resource_id: str, *, uow: Any, actor: str | None = None) -> None:
    """Delete a resource once its ``before_delete`` hook allows it, and emit ``<name>.deleted``."""
    repo = spec.repo(uow)
    entity = repo.get(resource_id)
    if spec.before_delete is not None:
        spec.before_delete(uow, entity)
    view = spec.view(entity)
    repo.delete(entity)
    uow.emit(f"{spec.name}.deleted", {spec.name: view, "actor_id": actor})
    uow.commit()


class SqlAlchemyNamedRepository:
    """A named resource in one table with a unique ``name_key`` column, mapped onto ``entity``."""

    def __init__(self, session: Session, *, entity: type, table: Table, not_found: Callable[[], Exception],
                 order_by: tuple[str, ...] = ("name",)):
        self.session = session
        self.entity = entity
        self.table = table
        self.not_found = not_found
        self.order_by = order_by  # columns a page is sorted by (then the id)

    def get(self, resource_id: str) -> Any:
        found = self.find(resource_id)
        if found is None:
            raise self.not_found()
        return found

    def find(self, resource_id: str) -> Any | None:
        return self.session.get(self.entity, resource_id)

    def find_by_name(self, name: str) -> Any | None:
        """Return the one of this name, ignoring case, width and spacing."""
        return self.session.scalars(select(self.entity).where(self.table.c.name_key == fold_name(name))).first()

    def list(self, *, page: int, limit: int) -> tuple[list[Any], int]:
        total = self.session.scalar(select(func.count()).select_from(self.table))
        query = select(self.entity).order_by(*(self.table.c[name] for name in self.order_by), self.table.c.id)
        return list(self.session.scalars(query.offset((page - 1) * limit).limit(limit))), int(total or 0)

    def add(self, entity: Any) -> None:
        self.session.add(entity)

    def flush(self) -> None:
        self.session.flush()

    def delete(self, entity: Any) -> None:
        self.session.delete(entity)
