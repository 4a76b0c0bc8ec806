"""``/api/v1/tickets``: tickets, their lifecycle, threads, history, bulk changes and exports.

Every call passes the caller to the tickets service as ``actor`` (from the access token); the service
decides what the caller may see and do with a given ticket. The gateway only refuses roles that may
never use an endpoint (API.md). Writes to one ticket answer its new ``ETag: "<version>"`` and honour
``If-Match: "<version>"``: the service refuses a stale version with 412.

(Over 400 lines on purpose: one blueprint, one OpenAPI tag whose routes are documented in the order
written here; split into modules, the order and the shared helpers would live in several files.)
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request, url_for

from gateway import exports
from gateway.api.blueprint import Blueprint
from gateway.auth import ADMINS, MANAGERS, STAFF, Actor, current_actor, require_auth
from gateway.envelope import page, success, whole_list
from gateway.errors import GENERIC_500_MESSAGE, MalformedRequest, ServiceTimeout, ServiceUnavailable, status_for
from gateway.idempotency import idempotent
from gateway.ratelimit import rate_limited
from gateway.rpc import rpc
from gateway.schemas.common import ErrorEnvelopeSchema, MessageEnvelopeSchema, envelope, page_envelope
from gateway.schemas.tickets import (
    FILTERS,
    AssignSchema,
    BulkAssignSchema,
    BulkResultSchema,
    BulkStatusSchema,
    CloseSchema,
    CommentSchema,
    CreateCommentSchema,
    CreateLinkSchema,
    CreateTicketSchema,
    HistoryEntrySchema,
    LinkSchema,
    MergeResultSchema,
    MergeSchema,
    PrioritySchema,
    StatusChangeSchema,
    TagCountSchema,
    TicketExportQuerySchema,
    TicketQuerySchema,
    TicketSchema,
    TicketSearchQuerySchema,
    TicketStatsQuerySchema,
    TicketStatsSchema,
    UpdateTicketSchema,
)
from helpdesk_contracts.errors import ServiceError
from helpdesk_contracts.limits import PAGE_LIMIT_MAX

log = logging.getLogger(__name__)

blp = Blueprint(
    "tickets", __name__, url_prefix="/api/v1/tickets", description="Tickets: lifecycle, threads, history, exports."
)

SERVICE = "tickets"
EXPORT_PAGE_SIZE = PAGE_LIMIT_MAX  # the most tickets.list answers per call

_IF_MATCH_PATTERN = r'^(?:"(\d{1,9})"|\*)$'  # the value, without the spaces HTTP allows around it
_IF_MATCH = re.compile(_IF_MATCH_PATTERN)
_IF_MATCH_MESSAGE = 'If-Match must be one quoted ticket version, like "3" (the ETag you read).'
IF_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string", "pattern": _IF_MATCH_PATTERN, "example": '"3"'},
    "description": "The ETag you read: the change is refused with 412 if the ticket changed since. "
    "Without it the change applies to whatever the ticket is now.",
}
ETAG_HEADER = {"ETag": {"description": 'The ticket\'s version, as `"<version>"`.', "schema": {"type": "string"}}}
_BINARY = {"type": "string", "format": "binary"}
_EXPORT_DESCRIPTION = (
    "The file as an attachment, `tickets-YYYYMMDD.xlsx` (default) or `.csv` (UTF-8 with BOM). "
    "`X-Export-Truncated: true` when more tickets matched than one file holds (`GATEWAY_EXPORT_MAX_ROWS`)."
)


# -- helpers --------------------------------------------------------------------------------------
def _errors(*statuses: int):
    """Document the error answers an operation gives besides 401/422 (all in the error envelope)."""
    descriptions = {
        400: "Malformed If-Match header.",
        403: "Your role may not do this.",
        404: "No such ticket, or not one you may see.",
        409: "Not allowed from the ticket's current status.",
        412: "The ticket changed since you read it; `errors.version` holds the current version.",
    }

    def decorate(view):
        for status in reversed(statuses):
            view = blp.alt_response(status, schema=ErrorEnvelopeSchema, description=descriptions[status])(view)
        return view

    return decorate


def if_match() -> Callable:
    """Document the optional If-Match header of a write."""
    return blp.doc(parameters=[IF_MATCH_PARAMETER])


def expected_version() -> int | None:
    """Return the version named by the request's ``If-Match`` header (None without one, or for ``*``)."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    match = _IF_MATCH.match(raw.strip())
    if match is None:
        raise MalformedRequest(_IF_MATCH_MESSAGE, {"If-Match": [_IF_MATCH_MESSAGE]})
    return int(match.group(1)) if match.group(1) else None  # "*": any version


def etag(ticket: dict[str, Any]) -> dict[str, str]:
    """Return the ETag header of a ticket (its version)."""
    return {"ETag": f'"{ticket["version"]}"'}


def _filters(query: dict[str, Any], actor: Actor) -> dict[str, Any]:
    filters = {name: query[name] for name in FILTERS if name in query}
    if filters.get("assignee_id") == "me":  # resolved here: tickets.stats takes "me" literally
        filters["assignee_id"] = actor["id"]
    return filters


def _list(actor: Actor, query: dict[str, Any]) -> dict[str, Any]:
    return rpc().call(
        SERVICE,
        "list",
        actor=actor,
        filters=_filters(query, actor),
        page=query["page"],
        limit=query["limit"],
        sort_by=query["sort_by"],
        sort_order=query["sort_order"],
    )


def search_tickets(actor: Actor, query: dict[str, Any]) -> dict[str, Any]:
    """Find tickets by full text with the list's filters, most relevant first; answers ``{items, total}``."""
    filters = _filters(query, actor)
    text = filters.pop("q")
    return rpc().call(SERVICE, "search", actor=actor, query=text, filters=filters, page=query["page"],
                      limit=query["limit"])


def _page_of(result: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
    return page(result["items"], total=result["total"], page=query["page"], limit=query["limit"],
                total_exact=result.get("total_exact", True))


# -- lists, stats, exports (before /<ticket_id>, so nothing shadows them) -------------------------
@blp.route("/stats", methods=["GET"])
@require_auth()
@blp.arguments(TicketStatsQuerySchema, location="query")
@blp.response(200, envelope(TicketStatsSchema))
def ticket_stats(query):
    """Count the tickets you can see by status and priority (agents: also by agent and department).

    With `q`, only the tickets the search for those words finds count, with the other filters.
    """
    actor = current_actor()
    return success(rpc().call(SERVICE, "stats", actor=actor, filters=_filters(query, actor)))


@blp.route("/tags", methods=["GET"])
@require_auth()
@blp.response(200, page_envelope(TagCountSchema))
def ticket_tags():
    """List the tags on the tickets you can see, with how many carry each, most used first."""
    return success(whole_list(rpc().call(SERVICE, "tags", actor=current_actor())))


@blp.route("/search", methods=["GET"])
@require_auth()
@blp.arguments(TicketSearchQuerySchema, location="query")
@blp.response(200, page_envelope(TicketSchema))
def search(query):
    """Search the tickets you can see by full text, with the list's filters, paginated."""
    return success(_page_of(search_tickets(current_actor(), query), query))


@blp.route("/export", methods=["GET"])
@rate_limited("EXPORT_RATE_LIMIT")
@require_auth()
@blp.arguments(TicketExportQuerySchema, location="query")
@blp.response(
    200,
    _BINARY,
    content_type=exports.XLSX_MEDIA_TYPE,
    headers={
        "Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=..."},
        "X-Export-Truncated": {"schema": {"type": "string"}, "description": "Present when rows were left out."},
    },
)
# One status, two media types: flask-smorest merges the two, and this description is the one kept.
@blp.alt_response(200, schema=_BINARY, content_type="text/csv", description=_EXPORT_DESCRIPTION)
def export(query):
    """Download the tickets you can see, with the list's filters, as Excel (default) or CSV."""
    limit = int(current_app.config["EXPORT_MAX_ROWS"])
    tickets, truncated = _collect(current_actor(), query, limit)
    fmt = query["format"]
    body = exports.tickets_xlsx(tickets) if fmt == "xlsx" else exports.tickets_csv(tickets)
    response = Response(body, content_type=exports.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(fmt)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    if truncated:
        response.headers["X-Export-Truncated"] = "true"
    return response


def _collect(actor: Actor, query: dict[str, Any], max_rows: int) -> tuple[list[dict[str, Any]], bool]:
    """Read the matching tickets page by page (at most ``max_rows``); tell whether some were left out."""
    found: dict[str, dict[str, Any]] = {}  # by id: a ticket created meanwhile shifts pages, never repeat one
    # Never past max_rows: with `q` the service refuses pages beyond its search window (10 000 results).
    pages = math.ceil(max_rows / EXPORT_PAGE_SIZE)
    total = 0
    for number in range(1, pages + 1):
        result = _list(actor, {**query, "page": number, "limit": EXPORT_PAGE_SIZE})
        total = result["total"]
        for ticket in result["items"]:
            found.setdefault(ticket["id"], ticket)
        if len(found) >= max_rows or len(result["items"]) < EXPORT_PAGE_SIZE or number * EXPORT_PAGE_SIZE >= total:
            break
    tickets = list(found.values())[:max_rows]
    return tickets, total > len(tickets)


@blp.route("/bulk-assign", methods=["POST"])
@require_auth(roles=STAFF)
@blp.arguments(BulkAssignSchema)
@blp.response(200, envelope(BulkResultSchema))
@_errors(403)
def bulk_assign(payload):
    """Assign many tickets at once (agents, supervisors, admins); each id gets its own result."""
    actor = current_actor()
    changes = _assignment(payload)
    return _bulk(payload["ticket_ids"], lambda ticket_id: rpc().call(SERVICE, "assign", ticket_id, actor=actor, **changes))


@blp.route("/bulk-status", methods=["POST"])
@require_auth(roles=MANAGERS)
@blp.arguments(BulkStatusSchema)
@blp.response(200, envelope(BulkResultSchema))
@_errors(403)
def bulk_status(payload):
    """Move many tickets to one status (supervisors, admins); each id gets its own result."""
    actor = current_actor()
    status, resolution = payload["status"], payload.get("resolution")
    return _bulk(
        payload["ticket_ids"],
        lambda ticket_id: rpc().call(SERVICE, "change_status", ticket_id, status, actor=actor, resolution=resolution),
    )


def _bulk(ticket_ids: list[str], apply: Callable[[str], dict[str, Any]]):
    """Apply one single-ticket RPC per distinct id; report each outcome (the status it would answer alone).

    When the service stops answering, the remaining ids are not tried (each would wait for the timeout)
    and are reported with that status.
    """
    results: list[dict[str, Any]] = []
    outage: ServiceError | None = None
    for ticket_id in dict.fromkeys(ticket_ids):
        if outage is not None:
            results.append(_failure(ticket_id, status_for(outage) or 503, f"Not attempted: {outage.message}"))
            continue
        try:
            ticket = apply(ticket_id)
        except (ServiceUnavailable, ServiceTimeout) as exc:
            outage = exc
            results.append(_failure(ticket_id, status_for(exc) or 503, exc.message))
        except ServiceError as exc:
            status = status_for(exc)
            if status is None:  # unmapped: details stay in the log, as for a single request's 500
                log.error("bulk change of ticket %s failed: %r", ticket_id, exc)
                results.append(_failure(ticket_id, 500, GENERIC_500_MESSAGE))
            else:
                results.append(_failure(ticket_id, status, exc.message, exc.errors))
        else:
            results.append({"id": ticket_id, "success": True, "ticket": ticket})
    succeeded = sum(1 for item in results if item["success"])
    failed = len(results) - succeeded
    return success(
        {"results": results, "succeeded": succeeded, "failed": failed}, f"{succeeded} succeeded, {failed} failed."
    )


def _failure(ticket_id: str, status: int, message: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"id": ticket_id, "success": False, "error": {"status": status, "message": message, "errors": errors or {}}}


def _assignment(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the assign RPC's keyword arguments: each of agent and department changes only when it was sent."""
    changes: dict[str, Any] = {"assignee_id": payload.get("assignee_id"), "set_assignee": "assignee_id" in payload}
    if "department_id" in payload:
        changes.update(department_id=payload["department_id"], set_department=True)
    return changes


# -- the collection -------------------------------------------------------------------------------
@blp.route("", methods=["GET"])
@require_auth()
@blp.arguments(TicketQuerySchema, location="query")
@blp.response(200, page_envelope(TicketSchema))
def list_tickets(query):
    """List the tickets you can see, filtered, sorted and paginated."""
    return success(_page_of(_list(current_actor(), query), query))


@blp.route("", methods=["POST"])
@require_auth()
@blp.arguments(CreateTicketSchema)
@blp.response(
    201,
    envelope(TicketSchema),
    headers={**ETAG_HEADER, "Location": {"description": "The ticket's URL.", "schema": {"type": "string"}}},
)
@_errors(403)
@idempotent
def create_ticket(payload):
    """Open a ticket (agents may open one for a customer with `requester_id`)."""
    ticket = rpc().call(SERVICE, "create", payload, actor=current_actor())
    location = url_for("tickets.get_ticket", ticket_id=ticket["id"])
    return success(ticket, "Ticket created."), {"Location": location, **etag(ticket)}


# -- one ticket -----------------------------------------------------------------------------------
@blp.route("/<uuid:ticket_id>", methods=["GET"])
@require_auth()
@blp.response(200, envelope(TicketSchema), headers=ETAG_HEADER)
@_errors(404)
def get_ticket(ticket_id):
    """Return a ticket you can see; its ETag is the version to send back in If-Match."""
    ticket = rpc().call(SERVICE, "get", str(ticket_id), actor=current_actor())
    return success(ticket), etag(ticket)


@blp.route("/<uuid:ticket_id>", methods=["PUT"])
@require_auth()
@if_match()
@blp.arguments(UpdateTicketSchema)
@blp.response(200, envelope(TicketSchema), headers=ETAG_HEADER)
@_errors(400, 403, 404, 412)
def update_ticket(changes, ticket_id):
    """Edit a ticket's fields (agents; requesters only title and description while it is new)."""
    version = expected_version()
    ticket = rpc().call(SERVICE, "update", str(ticket_id), changes, actor=current_actor(), expected_version=version)
    return success(ticket, "Ticket updated."), etag(ticket)


@blp.route("/<uuid:ticket_id>", methods=["DELETE"])
@require_auth(roles=ADMINS)
@blp.response(200, MessageEnvelopeSchema)
@_errors(403, 404)
def delete_ticket(ticket_id):
    """Delete a ticket (admins; it disappears from every list)."""
    rpc().call(SERVICE, "delete", str(ticket_id), actor=current_actor())
    return success(None, "Ticket deleted.")


@blp.route("/<uuid:ticket_id>/status", methods=["PATCH"])
@require_auth()
@if_match()
@blp.arguments(StatusChangeSchema)
@blp.response(200, envelope(TicketSchema), headers=ETAG_HEADER)
@_errors(400, 403, 404, 409, 412)
def change_status(payload, ticket_id):
    """Move a ticket to another status (legal moves only; requesters may only close or reopen their own)."""
    version = expected_version()
    ticket = rpc().call(
        SERVICE,
        "change_status",
        str(ticket_id),
        payload["status"],
        actor=current_actor(),
        resolution=payload.get("resolution"),
        expected_version=version,
    )
    return success(ticket, "Status changed."), etag(ticket)


@blp.route("/<uuid:ticket_id>/assign", methods=["PATCH"])
@require_auth(roles=STAFF)
@if_match()
@blp.arguments(AssignSchema)
@blp.response(200, envelope(TicketSchema), headers=ETAG_HEADER)
@_errors(400, 403, 404, 412)
def assign_ticket(payload, ticket_id):
    """Give a ticket to an agent and/or a department (agents, supervisors, admins); `null` unassigns."""
    version = expected_version()
    ticket = rpc().call(
        SERVICE, "assign", str(ticket_id), actor=current_actor(), expected_version=version, **_assignment(payload)
    )
    return success(ticket, "Ticket assigned."), etag(ticket)


@blp.route("/<uuid:ticket_id>/priority", methods=["PATCH"])
@require_auth(roles=STAFF)
@if_match()
@blp.arguments(PrioritySchema)
@blp.response(200, envelope(TicketSchema), headers=ETAG_HEADER)
@_errors(400, 403, 404, 412)
def change_priority(payload, ticket_id):
    """Set a ticket's priority (agents, supervisors, admins)."""
    version = expected_version()
    ticket = rpc().call(
        SERVICE, "change_priority", str(ticket_id), payload["priority"], actor=current_actor(), expected_version=version
    )
    return success(ticket, "Priority changed."), etag(ticket)


@blp.route("/<uuid:ticket_id>/close", methods=["PATCH"])
@require_auth()
@if_match()
@blp.arguments(CloseSchema)
@blp.response(200, envelope(TicketSchema), headers=ETAG_HEADER)
@_errors(400, 403, 404, 409, 412)
def close_ticket(payload, ticket_id):
    """Close a ticket, optionally with a resolution (its requester or an agent)."""
    version = expected_version()
    ticket = rpc().call(
        SERVICE,
        "close",
        str(ticket_id),
        actor=current_actor(),
        resolution=payload.get("resolution"),
        expected_version=version,
    )
    return success(ticket, "Ticket closed."), etag(ticket)


# -- thread and history ---------------------------------------------------------------------------
def _add_comment(payload: dict[str, Any], ticket_id) -> dict[str, Any]:
    return rpc().call(SERVICE, "add_comment", str(ticket_id), payload, actor=current_actor())


@blp.route("/<uuid:ticket_id>/comments", methods=["POST"])
@require_auth()
@blp.arguments(CreateCommentSchema)
@blp.response(201, envelope(CommentSchema))
@_errors(403, 404)
@idempotent
def add_comment(payload, ticket_id):
    """Reply on a ticket, or (agents) add an internal note the requester never sees."""
    return success(_add_comment(payload, ticket_id), "Comment added.")


@blp.route("/<uuid:ticket_id>/comment", methods=["POST"])
@require_auth()
@blp.doc(deprecated=True)
@blp.arguments(CreateCommentSchema)
@blp.response(201, envelope(CommentSchema))
@_errors(403, 404)
@idempotent
def add_comment_singular(payload, ticket_id):
    """Reply on a ticket: the seed's spelling of `POST /tickets/{ticket_id}/comments`."""
    return success(_add_comment(payload, ticket_id), "Comment added.")


@blp.route("/<uuid:ticket_id>/comments", methods=["GET"])
@require_auth()
@blp.response(200, page_envelope(CommentSchema))
@_errors(404)
def list_comments(ticket_id):
    """Return a ticket's thread, oldest first (internal notes for agents only); marks it read for your side."""
    return success(whole_list(rpc().call(SERVICE, "list_comments", str(ticket_id), actor=current_actor())))


@blp.route("/<uuid:ticket_id>/read", methods=["POST"])
@require_auth()
@blp.response(200, envelope(TicketSchema), headers=ETAG_HEADER)
@_errors(404)
def mark_read(ticket_id):
    """Mark a ticket's public thread read for your side (requester or agents); answers the ticket, `unread` 0.

    Reading the thread (`GET .../comments`) does the same. The ticket's version does not change.
    """
    ticket = rpc().call(SERVICE, "mark_read", str(ticket_id), actor=current_actor())
    return success(ticket, "Marked as read."), etag(ticket)


@blp.route("/<uuid:ticket_id>/history", methods=["GET"])
@require_auth()
@blp.response(200, page_envelope(HistoryEntrySchema))
@_errors(404)
def ticket_history(ticket_id):
    """Return every change of a ticket, oldest first (requesters see the public part)."""
    return success(whole_list(rpc().call(SERVICE, "history", str(ticket_id), actor=current_actor())))


# -- merging and links ----------------------------------------------------------------------------
@blp.route("/<uuid:ticket_id>/merge", methods=["POST"])
@require_auth(roles=STAFF)
@blp.arguments(MergeSchema)
@blp.response(200, envelope(MergeResultSchema))
@_errors(403, 404, 409)
def merge_ticket(payload, ticket_id):
    """Merge this duplicate into `target_id` (agents): its thread and attachments move there and it is closed.

    409 when merging a ticket into itself, into a closed or merged ticket, or a ticket already merged, and
    when the two tickets have different requesters unless `confirm_different_requesters` is true (the
    duplicate's public replies and attachments become the target requester's to read); a confirmed merge is
    recorded in both tickets' histories.
    """
    result = rpc().call(SERVICE, "merge", str(ticket_id), payload["target_id"], actor=current_actor(),
                        confirm_different_requesters=payload["confirm_different_requesters"])
    return success(result, f"Ticket merged into {result['target']['number']}.")


@blp.route("/<uuid:ticket_id>/links", methods=["GET"])
@require_auth()
@blp.response(200, page_envelope(LinkSchema))
@_errors(404)
def list_links(ticket_id):
    """Return a ticket's links (related, parent, child) to the tickets you can see."""
    return success(whole_list(rpc().call(SERVICE, "links", str(ticket_id), actor=current_actor())))


@blp.route("/<uuid:ticket_id>/links", methods=["POST"])
@require_auth(roles=STAFF)
@blp.arguments(CreateLinkSchema)
@blp.response(201, envelope(LinkSchema))
@_errors(403, 404, 409)
@idempotent
def link_ticket(payload, ticket_id):
    """Link another ticket to this one (agents); `kind` is what the other ticket is to this one. 409 if linked."""
    link = rpc().call(SERVICE, "link", str(ticket_id), payload["other_id"], payload["kind"], actor=current_actor())
    return success(link, "Tickets linked.")


@blp.route("/<uuid:ticket_id>/links/<uuid:other_id>", methods=["DELETE"])
@require_auth(roles=STAFF)
@blp.response(200, MessageEnvelopeSchema)
@_errors(403, 404)
def unlink_ticket(ticket_id, other_id):
    """Remove the link between two tickets (agents), whichever side it was made from."""
    rpc().call(SERVICE, "unlink", str(ticket_id), str(other_id), actor=current_actor())
    return success(None, "Tickets unlinked.")
