"""``/api/v1/categories``: ticket categories (anyone signed in reads them; admins manage them).

A new ticket whose ``category`` names one of these, and that names no department, goes to the
category's default department; other category names are still accepted as free text.
"""

from __future__ import annotations

from flask import url_for

from gateway.api.blueprint import Blueprint
from gateway.auth import ADMINS, current_actor, require_auth
from gateway.envelope import success, whole_list
from gateway.idempotency import idempotent
from gateway.rpc import rpc
from gateway.schemas.common import MessageEnvelopeSchema, envelope, page_envelope
from gateway.schemas.tickets import CategorySchema, CreateCategorySchema, UpdateCategorySchema

blp = Blueprint("categories", __name__, url_prefix="/api/v1/categories", description="Ticket categories.")

SERVICE = "tickets"


@blp.route("", methods=["GET"])
@require_auth()
@blp.response(200, page_envelope(CategorySchema))
def list_categories():
    """List every category, by name."""
    return success(whole_list(rpc().call(SERVICE, "list_categories", actor=current_actor())["items"]))


@blp.route("", methods=["POST"])
@require_auth(roles=ADMINS)
@blp.arguments(CreateCategorySchema)
@blp.response(201, envelope(CategorySchema))
@blp.error(409, "A category with this name exists already (names are unique, ignoring case).")
@idempotent
def create_category(payload):
    """Create a category (admins); its name must be unused (409 otherwise)."""
    category = rpc().call(SERVICE, "create_category", payload, actor=current_actor())
    location = url_for("categories.get_category", category_id=category["id"])
    return success(category, "Category created."), {"Location": location}


@blp.route("/<uuid:category_id>", methods=["GET"])
@require_auth()
@blp.response(200, envelope(CategorySchema))
def get_category(category_id):
    """Return a category."""
    return success(rpc().call(SERVICE, "get_category", str(category_id), actor=current_actor()))


@blp.route("/<uuid:category_id>", methods=["PUT"])
@require_auth(roles=ADMINS)
@blp.arguments(UpdateCategorySchema)
@blp.response(200, envelope(CategorySchema))
@blp.error(409, "Another category has this name (names are unique, ignoring case).")
def update_category(changes, category_id):
    """Change a category (admins); tickets already filed keep their category name."""
    category = rpc().call(SERVICE, "update_category", str(category_id), changes, actor=current_actor())
    return success(category, "Category updated.")


@blp.route("/<uuid:category_id>", methods=["DELETE"])
@require_auth(roles=ADMINS)
@blp.response(200, MessageEnvelopeSchema)
def delete_category(category_id):
    """Delete a category (admins); tickets filed under it keep the name as text."""
    rpc().call(SERVICE, "delete_category", str(category_id), actor=current_actor())
    return success(None, "Category deleted.")
