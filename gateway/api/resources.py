"""Routes of a named resource (``helpdesk_common.resources``), written once.

``register(blp, ResourceRoutes(...))`` adds list/get/create/update/delete under the blueprint's prefix:
the roles that may read and write, the envelope, pagination, ``Location`` on create, the
``Idempotency-Key`` of creates and the OpenAPI docs (each view's docstring is its summary). Writes pass
the caller's id as ``actor``, recorded in the resource's events; a service that decides itself who may do
what (``caller_as_actor``) gets the whole caller (``current_actor()``) as ``actor`` on every call, reads
included. See ``docs/adding-a-resource.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from marshmallow import Schema

from gateway.api.blueprint import Blueprint
from gateway.auth import ADMINS, MANAGERS, STAFF, current_actor, current_user, require_auth
from gateway.envelope import page, success
from gateway.idempotency import idempotent
from gateway.rpc import rpc
from gateway.schemas.common import MessageEnvelopeSchema, PageQuerySchema, envelope, page_envelope


@dataclass(frozen=True)
class ResourceRoutes:
    """What the routes of one named resource need: its names, schemas, roles and words."""

    name: str  # "department": RPC methods ``<verb>_<name>``, path parameter ``<name>_id``
    service: str  # the service owning it, called over RPC
    schema: type[Schema]  # what a read answers
    create_schema: type[Schema]
    update_schema: type[Schema]
    title: str  # "Department": the messages' subject ("Department created.")
    plural: str = ""  # defaults to name + "s"
    read_roles: Iterable[str] | None = None  # None: anyone signed in
    write_roles: Iterable[str] = ADMINS
    who_reads: str = ""  # appended to the read docstrings, e.g. " (agents, supervisors, admins)"
    who_changes: str = ""  # who may change and delete, in those docstrings (default: the write roles)
    caller_as_actor: bool = False  # pass current_actor() as ``actor`` to every call (the service checks who may)
    delete_rule: str = ""  # what a delete requires, e.g. " that has no members left"
    delete_conflict: str | None = None  # the 409 a delete may get, e.g. "The department still has members; ..."
    path: str = ""  # under the blueprint's prefix, e.g. "/rules" when the blueprint has routes of other things too

    @property
    def many(self) -> str:
        return self.plural or f"{self.name}s"


# how the docstrings name a group of roles
_GROUPS = {tuple(ADMINS): "admins", tuple(MANAGERS): "supervisors, admins", tuple(STAFF): "staff"}


def _named(view: Callable[..., Any], name: str, doc: str) -> Callable[..., Any]:
    view.__name__ = view.__qualname__ = name  # the endpoint and the OpenAPI operation take it
    view.__doc__ = doc
    return view


def _writer_id() -> str | None:
    return current_user()["id"]


def register(blp: Blueprint, spec: ResourceRoutes) -> None:
    """Add the five routes of ``spec`` to ``blp``."""
    name, many, title, service = spec.name, spec.many, spec.title, spec.service
    article = "an" if title[0].lower() in "aeiou" else "a"
    read_roles = tuple(spec.read_roles) if spec.read_roles is not None else None
    write_roles = tuple(spec.write_roles)
    collection_rule = spec.path
    item_rule = f"{spec.path}/<uuid:{name}_id>"

    def reader() -> dict[str, Any]:
        return {"actor": current_actor()} if spec.caller_as_actor else {}

    def writer() -> dict[str, Any]:
        return {"actor": current_actor() if spec.caller_as_actor else _writer_id()}

    def list_view(query):
        result = rpc().call(service, f"list_{many}", page=query["page"], limit=query["limit"], **reader())
        return success(page(result["items"], total=result["total"], page=query["page"], limit=query["limit"]))

    def create_view(payload):
        created = rpc().call(service, f"create_{name}", payload, **writer())
        location = url_for(f"{blp.name}.get_{name}", **{f"{name}_id": created["id"]})
        return success(created, f"{title} created."), {"Location": location}

    def get_view(**path):
        return success(rpc().call(service, f"get_{name}", str(path[f"{name}_id"]), **reader()))

    def update_view(changes, **path):
        updated = rpc().call(service, f"update_{name}", str(path[f"{name}_id"]), changes, **writer())
        return success(updated, f"{title} updated.")

    def delete_view(**path):
        rpc().call(service, f"delete_{name}", str(path[f"{name}_id"]), **writer())
        return success(None, f"{title} deleted.")

    writers = _GROUPS.get(write_roles, ", ".join(write_roles))
    changers = spec.who_changes or writers
    list_view = _named(list_view, f"list_{many}", f"List {many}, paginated{spec.who_reads}.")
    create_view = _named(create_view, f"create_{name}", f"Create {article} {name} ({writers}).")
    get_view = _named(get_view, f"get_{name}", f"Return {article} {name}{spec.who_reads}.")
    update_view = _named(update_view, f"update_{name}", f"Change {article} {name} ({changers}).")
    delete_view = _named(delete_view, f"delete_{name}", f"Delete {article} {name}{spec.delete_rule} ({changers}).")

    blp.route(collection_rule, methods=["GET"])(require_auth(roles=read_roles)(
        blp.arguments(PageQuerySchema, location="query")(blp.response(200, page_envelope(spec.schema))(list_view))))
    taken = blp.error(409, f"{article.capitalize()} {name} with this name exists already (names are unique, ignoring case).")
    blp.route(collection_rule, methods=["POST"])(require_auth(roles=write_roles)(
        blp.arguments(spec.create_schema)(blp.response(201, envelope(spec.schema))(taken(idempotent(create_view))))))
    blp.route(item_rule, methods=["GET"])(require_auth(roles=read_roles)(
        blp.response(200, envelope(spec.schema))(get_view)))
    blp.route(item_rule, methods=["PUT"])(require_auth(roles=write_roles)(
        blp.arguments(spec.update_schema)(blp.response(200, envelope(spec.schema))(
            blp.error(409, f"Another {name} has this name (names are unique, ignoring case).")(update_view)))))
    if spec.delete_conflict:
        delete_view = blp.error(409, spec.delete_conflict)(delete_view)
    blp.route(item_rule, methods=["DELETE"])(require_auth(roles=write_roles)(
        blp.response(200, MessageEnvelopeSchema)(delete_view)))
