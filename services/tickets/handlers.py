"""Commands and queries of the tickets service: one function each, given a unit of work.

Every change writes the ticket, its history lines and its events in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime
from typing import Any

from helpdesk_common.payloads import page_args
from helpdesk_common.uow import UnitOfWork
from helpdesk_contracts.envelope import Envelope
from services.tickets import schemas
from services.tickets.adapters import search
from services.tickets.adapters.attachments import SqlAlchemyAttachmentRepository
from services.tickets.adapters.categories import SqlAlchemyCategoryRepository, name_taken
from services.tickets.adapters.links import SqlAlchemyLinkRepository
from services.tickets.adapters.organizations import SqlAlchemyOrganizationRepository
from services.tickets.adapters.repository import SORTABLE, SqlAlchemyTicketRepository
from services.tickets.adapters.search.metrics import observe_indexed
from services.tickets.adapters.storage import AttachmentStorage, relative_path
from services.tickets.domain import attachments as attachment_rules
from services.tickets.domain import rules
from services.tickets.domain.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    StaleTicket,
    TicketNotFound,
    ValidationFailed,
)
from services.tickets.domain.model import Comment, Ticket
from services.tickets.references import (
    Directory,
    check_assignee,
    check_department,
    check_organization,
    file_under_category,
)

log = logging.getLogger(__name__)


def actor_from(raw: dict[str, Any] | None) -> rules.Actor:
    """Read the caller the gateway (or another service) passes with every call."""
    if not isinstance(raw, dict) or raw.get("role") not in (*rules.STAFF_ROLES, "customer", "system"):
        raise ValidationFailed("A valid actor is required.", {"actor": ["Must carry id and role."]})
    if raw["role"] != "system" and not raw.get("id"):
        raise ValidationFailed("A valid actor is required.", {"actor": ["Only the system may act without an id."]})
    return rules.Actor(
        id=raw.get("id"),
        role=raw["role"],
        department_id=raw.get("department_id"),
        organization_id=raw.get("organization_id"),
        via=str(raw.get("via") or "api")[:100],
    )


def _repo(uow: UnitOfWork) -> SqlAlchemyTicketRepository:
    return SqlAlchemyTicketRepository(uow.session)


def _visible(uow: UnitOfWork, ticket_id: str, actor: rules.Actor, *, for_update: bool = False) -> Ticket:
    ticket = _repo(uow).get(ticket_id, for_update=for_update)
    if not rules.can_view(actor, requester_id=ticket.requester_id, department_id=ticket.department_id,
                          assignee_id=ticket.assignee_id, organization_id=ticket.organization_id,
                          organization_shared=_shares(uow, actor, ticket)):
        raise TicketNotFound()  # no existence oracle for tickets one may not see
    return ticket


def _shares(uow: UnitOfWork, actor: rules.Actor, ticket: Ticket) -> bool:
    """Tell whether ``ticket`` is shared with ``actor`` through their organization (asked only when it matters)."""
    if actor.id == ticket.requester_id or not rules.is_shared_with(
            actor, organization_id=ticket.organization_id, organization_shared=True):
        return False
    return SqlAlchemyOrganizationRepository(uow.session).shares_tickets(ticket.organization_id)


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is None:
        return
    try:
        expected_version = int(expected_version)
    except (TypeError, ValueError):
        raise ValidationFailed("expected_version must be an integer.", {"expected_version": ["Must be an integer."]}) from None
    if expected_version != ticket.version:
        raise StaleTicket(
            f"The ticket changed since you read it (you had version {expected_version}, it is now {ticket.version}).",
            {"version": [str(ticket.version)]},
        )


def _staff(actor: rules.Actor) -> None:
    if not actor.is_staff and actor.role != "system":
        raise PermissionDenied("Only agents can do this.")


def _snapshot(ticket: Ticket) -> dict[str, Any]:
    return schemas.ticket_snapshot(ticket)


def _answer(ticket: Ticket, actor: rules.Actor) -> dict[str, Any]:
    side = rules.reader_side(actor, requester_id=ticket.requester_id)
    return schemas.ticket_view(ticket, staff=actor.is_staff or actor.role == "system",
                               unread=ticket.unread_for(side) if side else None)


def _index(uow: UnitOfWork, ticket: Ticket, comments: list[Comment] | None = None) -> None:
    """Rewrite the ticket's row in the embedded search index, in this transaction."""
    if comments is None:
        comments = _repo(uow).comments(ticket.id, include_internal=True)
    search.embedded_index(uow.session).index(search.document_for(ticket, comments))


# commands ---------------------------------------------------------------------------------------

def open_ticket(data: dict[str, Any], actor_raw: dict[str, Any], *, uow: UnitOfWork,
                directory: Directory | None = None) -> dict[str, Any]:
    """Open a ticket; agents may open one on behalf of a requester."""
    actor = actor_from(actor_raw)
    payload = schemas.load(schemas.OpenTicket, data)
    requester_id = payload.pop("requester_id", None)
    check_department(uow, payload.get("department_id"), directory=directory)
    if payload.get("organization_id") and (actor.is_staff or actor.role == "system"):
        check_organization(payload["organization_id"], directory=directory)
    if requester_id and requester_id != actor.id:
        _staff(actor)
        requester = directory.get_user(requester_id) if directory is not None else None
        if directory is not None and requester is None:
            raise ValidationFailed("Unknown requester.", {"requester_id": ["No such user."]})
        if requester and requester.get("role") == "customer" and not payload.get("organization_id"):
            payload["organization_id"] = requester.get("organization_id")  # shared with their colleagues too
    requester_id = requester_id or actor.id
    if requester_id is None:
        raise ValidationFailed("A requester is required.", {"requester_id": ["Missing."]})
    if not actor.is_staff and actor.role != "system":
        payload["organization_id"] = actor.organization_id
    file_under_category(uow, payload, route=True)
    repo = _repo(uow)
    number = rules.format_number(repo.next_number())
    ticket = Ticket(id=str(uuid.uuid4()), number=number, requester_id=requester_id, now=uow.clock.now(),
                    created_by=actor.id, **payload)
    repo.insert_new(ticket)
    repo.record_history(ticket.id, actor=actor, action="created", changes=None, now=uow.clock.now())
    _index(uow, ticket, [])
    uow.emit("ticket.created", {"ticket": _snapshot(ticket), "actor": actor.to_dict()})
    uow.commit()
    return _answer(ticket, actor)


def update_ticket(ticket_id: str, changes: dict[str, Any], actor_raw: dict[str, Any], *, uow: UnitOfWork,
                  expected_version: int | None = None) -> dict[str, Any]:
    """Edit a ticket's fields (agents; requesters only title/description while new)."""
    actor = actor_from(actor_raw)
    payload = schemas.load(schemas.EditTicket, changes)
    ticket = _visible(uow, ticket_id, actor, for_update=True)
    _check_version(ticket, expected_version)
    if payload.get("category") != ticket.category:  # a client sending back what it read is no change to check
        file_under_category(uow, payload, route=False)
    applied = ticket.edit(payload, actor=actor, now=uow.clock.now())
    if applied:
        _repo(uow).record_history(ticket.id, actor=actor, action="updated", changes=applied, now=uow.clock.now())
        if search.INDEXED_FIELDS & applied.keys():
            _index(uow, ticket)
        uow.emit("ticket.updated", {"ticket": _snapshot(ticket), "changes": applied, "actor": actor.to_dict()})
    uow.commit()
    return _answer(ticket, actor)


def change_status(ticket_id: str, status: str, actor_raw: dict[str, Any], *, uow: UnitOfWork,
                  resolution: str | None = None, expected_version: int | None = None) -> dict[str, Any]:
    """Move a ticket through its lifecycle."""
    actor = actor_from(actor_raw)
    if resolution is not None and (not isinstance(resolution, str) or len(resolution) > schemas.COMMENT_MAX):
        raise ValidationFailed("Invalid resolution.", {"resolution": [f"At most {schemas.COMMENT_MAX} characters."]})
    ticket = _visible(uow, ticket_id, actor, for_update=True)
    _check_version(ticket, expected_version)
    previous = ticket.status
    applied = ticket.change_status(status, actor=actor, now=uow.clock.now(), resolution=resolution)
    _repo(uow).record_history(ticket.id, actor=actor, action="status_changed", changes=applied, now=uow.clock.now())
    uow.emit("ticket.status_changed", {"ticket": _snapshot(ticket), "from": previous, "to": ticket.status,
                                       "resolution": ticket.resolution, "actor": actor.to_dict()})
    uow.commit()
    return _answer(ticket, actor)


def close_ticket(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork, resolution: str | None = None,
                 expected_version: int | None = None) -> dict[str, Any]:
    """Close a ticket with an optional resolution."""
    return change_status(ticket_id, "closed", actor_raw, uow=uow, resolution=resolution,
                         expected_version=expected_version)


def assign_ticket(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork, assignee_id: str | None = None,
                  department_id: str | None = None, set_department: bool = False, set_assignee: bool = True,
                  directory: Directory | None = None, expected_version: int | None = None) -> dict[str, Any]:
    """Give a ticket to an agent and/or a department.

    ``set_assignee``/``set_department`` say which of the two the caller means to change, so that moving a
    ticket to another department keeps its agent; ``assignee_id=None`` with ``set_assignee`` unassigns.
    """
    actor = actor_from(actor_raw)
    _staff(actor)
    if not set_assignee and not set_department:
        raise ValidationFailed("Give an assignee, a department, or both.", {"assignee_id": ["Missing."]})
    if set_assignee:
        check_assignee(assignee_id, directory=directory)
    if set_department:
        check_department(uow, department_id, directory=directory)
    ticket = _visible(uow, ticket_id, actor, for_update=True)
    _check_version(ticket, expected_version)
    previous_assignee, previous_department = ticket.assignee_id, ticket.department_id
    applied = ticket.assign(assignee_id=assignee_id if set_assignee else ticket.assignee_id,
                            department_id=department_id, set_department=set_department, now=uow.clock.now())
    if applied:
        _repo(uow).record_history(ticket.id, actor=actor, action="assigned", changes=applied, now=uow.clock.now())
        if "status" in applied:
            uow.emit("ticket.status_changed", {"ticket": _snapshot(ticket), "from": applied["status"]["before"],
                                               "to": ticket.status, "resolution": ticket.resolution,
                                               "actor": actor.to_dict()})
        if ticket.assignee_id is None and previous_assignee is not None and set_assignee and not set_department:
            uow.emit("ticket.unassigned", {"ticket": _snapshot(ticket), "previous_assignee_id": previous_assignee,
                                           "actor": actor.to_dict()})
        else:
            uow.emit("ticket.assigned", {"ticket": _snapshot(ticket), "assignee_id": ticket.assignee_id,
                                         "previous_assignee_id": previous_assignee,
                                         "department_id": ticket.department_id,
                                         "previous_department_id": previous_department, "actor": actor.to_dict()})
    uow.commit()
    return _answer(ticket, actor)


def change_priority(ticket_id: str, priority: str, actor_raw: dict[str, Any], *, uow: UnitOfWork,
                    expected_version: int | None = None) -> dict[str, Any]:
    """Set a ticket's priority (agents)."""
    actor = actor_from(actor_raw)
    _staff(actor)
    return update_ticket(ticket_id, {"priority": priority}, actor_raw, uow=uow, expected_version=expected_version)


def add_comment(ticket_id: str, data: dict[str, Any], actor_raw: dict[str, Any], *, uow: UnitOfWork,
                directory: Directory | None = None) -> dict[str, Any]:
    """Add a public reply or (agents only) an internal note.

    Agents mention colleagues by id (``mentions``) or in the text (``@carlos``, ``@carlos@example.com``,
    resolved with ``directory``; unknown or ambiguous handles stay plain text). Customers mention nobody:
    their ``mentions`` and ``@`` words are kept as text only.
    """
    actor = actor_from(actor_raw)
    payload = schemas.load(schemas.AddComment, data)
    if actor.id is None:
        raise ValidationFailed("A comment needs a person as its author.", {"actor": ["Missing id."]})
    if payload["internal"] and not actor.is_staff:
        raise PermissionDenied("Only agents can write internal notes.")
    ticket = _visible(uow, ticket_id, actor, for_update=True)
    mentions = _mentions(payload, actor, directory)
    now = uow.clock.now()
    comment = Comment(id=str(uuid.uuid4()), ticket_id=ticket.id, author_id=actor.id, author_role=actor.role,
                      body=payload["body"], internal=payload["internal"], mentions=mentions, now=now)
    _repo(uow).add(comment)
    if not search.embedded_index(uow.session).append_comment(ticket.id, comment.body, internal=comment.internal):
        _index(uow, ticket)
    applied = ticket.record_reply(actor=actor, internal=comment.internal, now=now)
    _repo(uow).record_history(ticket.id, actor=actor, action="internal_note" if comment.internal else "replied",
                              changes=applied, now=now, public=not comment.internal)
    uow.emit("ticket.commented", {"ticket": _snapshot(ticket), "comment": _comment_event(comment),
                                  "actor": actor.to_dict()})
    uow.commit()
    return schemas.comment_view(comment)


def _mentions(payload: dict[str, Any], actor: rules.Actor, directory: Directory | None) -> list[str]:
    if not actor.is_staff:
        return []
    handles = rules.mention_handles(payload["body"])
    found = rules.resolve_mentions(handles, directory.find_users(handles)) if handles and directory else []
    return rules.merge_mentions(payload.get("mentions", []), found)


def _comment_event(comment: Comment) -> dict[str, Any]:
    view = schemas.comment_view(comment)
    view.pop("ticket_id")
    return view


def delete_ticket(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> None:
    """Soft-delete a ticket (admins)."""
    actor = actor_from(actor_raw)
    if actor.role not in ("admin", "system"):
        raise PermissionDenied("Only admins can delete tickets.")
    ticket = _visible(uow, ticket_id, actor, for_update=True)
    ticket.soft_delete(now=uow.clock.now())
    search.embedded_index(uow.session).delete(ticket.id)
    _repo(uow).record_history(ticket.id, actor=actor, action="deleted", changes=None, now=uow.clock.now())
    uow.emit("ticket.deleted", {"ticket": _snapshot(ticket), "actor": actor.to_dict()})
    uow.commit()


# queries ----------------------------------------------------------------------------------------

def get_ticket(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Return one ticket the caller may see."""
    actor = actor_from(actor_raw)
    return _answer(_visible(uow, ticket_id, actor), actor)


def list_tickets(actor_raw: dict[str, Any], filters: dict[str, Any] | None = None, page: int = 1, limit: int = 20,
                 sort_by: str = "created_at", sort_order: str = "desc", *, uow: UnitOfWork,
                 index: search.TicketSearchIndex | None = None) -> dict[str, Any]:
    """Return a page of the tickets the caller may see (``filters["q"]``: only those matching the words)."""
    actor = actor_from(actor_raw)
    page, limit = _page(page, limit)
    if sort_by not in SORTABLE:
        raise ValidationFailed("Unknown sort field.", {"sort_by": [f"One of: {', '.join(SORTABLE)}."]})
    if sort_order not in ("asc", "desc"):
        raise ValidationFailed("Unknown sort order.", {"sort_order": ["asc or desc."]})
    loaded = _list_filters(actor, filters)
    if search.parse(loaded.get("q")):
        found = _search(uow, index, actor, loaded["q"], loaded, page, limit, sort=(sort_by, sort_order), highlight=False)
        return {"items": [_answer(t, actor) for t in _in_order(uow, actor, loaded, found.ids)], "total": found.total,
                "total_exact": found.total_exact}
    items, total = _repo(uow).list(actor, loaded, page=page, limit=limit, sort_by=sort_by, sort_order=sort_order)
    return {"items": [_answer(t, actor) for t in items], "total": total}


def search_tickets(actor_raw: dict[str, Any], query: str, filters: dict[str, Any] | None = None, page: int = 1,
                   limit: int = 20, *, uow: UnitOfWork, index: search.TicketSearchIndex | None = None) -> dict[str, Any]:
    """Find the tickets the caller may see by full text: most relevant first, each with a highlight."""
    actor = actor_from(actor_raw)
    page, limit = _page(page, limit)
    if not isinstance(query, str) or len(query) > search.MAX_QUERY_CHARS or not search.parse(query):
        raise ValidationFailed("Type at least one word to search for.",
                               {"query": [f"At least one word, at most {search.MAX_QUERY_CHARS} characters."]})
    loaded = _list_filters(actor, filters)
    found = _search(uow, index, actor, query, loaded, page, limit)
    return {
        "items": [{**_answer(t, actor), "highlight": found.highlights.get(t.id)}
                  for t in _in_order(uow, actor, loaded, found.ids)],
        "total": found.total,
        "total_exact": found.total_exact,
    }


def feed_search_index(envelope: Envelope, *, uow: UnitOfWork, index: search.TicketSearchIndex) -> None:
    """Copy the ticket a ``ticket.*`` event is about, as it is now, into an external search index."""
    search.sync_ticket(uow.session, envelope.data["ticket"]["id"], index=index)
    if envelope.data.get("target"):  # ticket.merged also changed the target's thread
        search.sync_ticket(uow.session, envelope.data["target"]["id"], index=index)
    observe_indexed(envelope.occurred_at, now=uow.clock.now())


def project_organization(envelope: Envelope, *, uow: UnitOfWork) -> bool:
    """Keep the local copy of whether an organization shares tickets, from ``organization.*`` events.

    Once per event id (its reliable handler claims it in the inbox), and never over a newer fact: events are ordered by the organization's
    ``updated_at`` (a deletion by when it happened, and it stops the sharing). Answers whether it changed
    anything.
    """
    organization = envelope.data.get("organization") or {}
    deleted = envelope.type == "organization.deleted"
    stamp = envelope.occurred_at if deleted else organization.get("updated_at") or envelope.occurred_at
    try:
        as_of = datetime.fromisoformat(stamp)
        organization_id = str(organization["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed(f"Unreadable {envelope.type} event: {exc!r}") from None  # retried, then parked
    if as_of.utcoffset() is None:
        raise ValidationFailed(f"Unreadable {envelope.type} event: a time without an offset.")
    applied = SqlAlchemyOrganizationRepository(uow.session).apply(
        organization_id, shared_tickets=bool(organization.get("shared_tickets")) and not deleted, as_of=as_of)
    uow.commit()
    return applied


def sync_organizations(listing: list[dict[str, Any]], *, uow: UnitOfWork, listed_since: datetime,
                       complete: bool) -> dict[str, int]:
    """Reconcile the local copy of organizations with a listing of the users service.

    The events keep the copy current; this is their safety net for the facts no queue of ours received
    (organizations older than the copy, or announced before this service first declared its queues).
    The same newer-fact-wins rule as the events applies, so a listing never undoes a newer event.
    With a ``complete`` listing (nothing was added or removed while it was paged), an organization the
    copy holds as sharing but the users service no longer lists, and that no fact has touched since
    ``listed_since``, was deleted meanwhile: it stops sharing.
    """
    repo = SqlAlchemyOrganizationRepository(uow.session)
    applied = 0
    listed: set[str] = set()
    for organization in listing:
        try:
            organization_id = str(organization["id"])
            as_of = datetime.fromisoformat(organization["updated_at"])
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("skipping an unreadable organization in the listing: %r", exc)
            continue
        listed.add(organization_id)
        known = repo.find(organization_id)
        shared = bool(organization.get("shared_tickets"))
        if known is not None and known["shared_tickets"] == shared and known["updated_at"] >= as_of:
            continue  # the copy already says this, or something newer
        applied += bool(repo.apply(organization_id, shared_tickets=shared, as_of=as_of))
    unshared = 0
    if complete:
        for organization_id in repo.shared_older_than(listed_since):
            if organization_id not in listed:
                unshared += bool(repo.apply(organization_id, shared_tickets=False, as_of=listed_since))
    uow.commit()
    if applied or unshared:
        log.info("organizations reconciled with the users service: %s updated, %s no longer sharing",
                 applied, unshared)
    return {"listed": len(listed), "updated": applied, "unshared": unshared}


def _list_filters(actor: rules.Actor, filters: dict[str, Any] | None) -> dict[str, Any]:
    loaded = schemas.load(schemas.ListFilters, filters or {})
    if loaded.get("assignee_id") == "me":
        loaded["assignee_id"] = actor.id
    return loaded


def _search(uow: UnitOfWork, index: search.TicketSearchIndex | None, actor: rules.Actor, query: str,
            filters: dict[str, Any], page: int, limit: int, **options: Any) -> search.SearchResult:
    if page * limit > search.MAX_RESULT_WINDOW:
        raise ValidationFailed(f"Search pages stop at result {search.MAX_RESULT_WINDOW}; narrow the search.",
                               {"page": [f"page × limit must be at most {search.MAX_RESULT_WINDOW}."]})
    if index is None:
        index = search.embedded_index(uow.session)  # reads the organizations projection in SQL
    else:  # Elasticsearch cannot read the projection: the actor brings the sharing flag
        actor = SqlAlchemyOrganizationRepository(uow.session).with_sharing(actor)
    return index.search(query, visibility=actor, filters=filters, page=page, limit=limit, **options)


def _in_order(uow: UnitOfWork, actor: rules.Actor, filters: dict[str, Any], ids: list[str]) -> list[Ticket]:
    # the database has the last word: a lagging external index may still list a ticket gone from view
    if not ids:
        return []
    by_id = {ticket.id: ticket for ticket in _repo(uow).visible_by_ids(actor, filters, ids)}
    return [by_id[ticket_id] for ticket_id in ids if ticket_id in by_id]


def list_comments(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return a ticket's thread (internal notes only for agents) and mark it read for the caller's side."""
    actor = actor_from(actor_raw)
    ticket = _visible(uow, ticket_id, actor)
    side = rules.reader_side(actor, requester_id=ticket.requester_id)
    # marked before reading: a message committed meanwhile is either in this answer or still unread
    marked = side is not None and _repo(uow).mark_read(ticket.id, side, now=uow.clock.now())
    thread = _repo(uow).comments(ticket.id, include_internal=actor.is_staff or actor.role == "system")
    if marked:
        uow.commit()
    return [schemas.comment_view(c) for c in thread]


def mark_read(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Mark a ticket's public thread read for the caller's side; answer the ticket (``unread`` 0).

    Callers who keep no read position on the ticket (the system, a colleague on a shared ticket) change nothing.
    """
    actor = actor_from(actor_raw)
    ticket = _visible(uow, ticket_id, actor, for_update=True)
    side = rules.reader_side(actor, requester_id=ticket.requester_id)
    if side is not None and ticket.mark_read(side, now=uow.clock.now()):
        uow.commit()
    return _answer(ticket, actor)


def get_history(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return every change of a ticket; requesters see the public part only."""
    actor = actor_from(actor_raw)
    ticket = _visible(uow, ticket_id, actor)
    return [schemas.history_view(r) for r in _repo(uow).history(ticket.id, public_only=not actor.is_staff)]


def ticket_stats(actor_raw: dict[str, Any], filters: dict[str, Any] | None = None, *, uow: UnitOfWork,
                 index: search.TicketSearchIndex | None = None) -> dict[str, Any]:
    """Count the caller's visible tickets by status, priority, agent and department, and their unread messages.

    With ``filters["q"]`` only the tickets the search for those words finds count, as in the list: the
    first ``MAX_RESULT_WINDOW`` matches (``total_exact`` is false when more may match).
    """
    actor = actor_from(actor_raw)
    loaded = _list_filters(actor, filters)
    ids, exact = None, True
    if search.parse(loaded.get("q")):
        window = search.MAX_RESULT_WINDOW
        found = _search(uow, index, actor, loaded["q"], loaded, 1, window, sort=("created_at", "desc"),
                        highlight=False)
        ids, exact = found.ids, len(found.ids) < window
    repo = _repo(uow)
    by_status = repo.counts(actor, loaded, "status", ids=ids)
    stats = {
        "total": sum(by_status.values()),
        "total_exact": exact,
        "by_status": {s: by_status.get(s, 0) for s in rules.STATUSES},
        "by_priority": {p: repo.counts(actor, loaded, "priority", ids=ids).get(p, 0) for p in rules.PRIORITIES},
    }
    side = "agents" if actor.is_staff else "requester" if actor.role == "customer" else None
    if side is not None:
        stats["unread_messages"], stats["unread_tickets"] = repo.unread_totals(actor, loaded, side, ids=ids)
    if actor.is_staff:
        stats["by_assignee"] = {k or "unassigned": v for k, v in
                                repo.counts(actor, loaded, "assignee_id", ids=ids).items()}
        stats["by_department"] = {k or "none": v for k, v in
                                  repo.counts(actor, loaded, "department_id", ids=ids).items()}
    return stats


def list_tags(actor_raw: dict[str, Any], *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return the tags on the caller's visible tickets with their counts, most used first."""
    actor = actor_from(actor_raw)
    counts = _repo(uow).tag_counts(actor)
    return [{"tag": t, "count": c} for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _page(page: Any, limit: Any) -> tuple[int, int]:
    return page_args(page, limit, max_limit=schemas.MAX_PAGE_SIZE)


# attachments ------------------------------------------------------------------------------------
# The bytes are written to the attachment storage first (by the gateway, under a random key); these
# handlers check them, own their metadata and decide who may read them.

def add_attachment(ticket_id: str, meta: dict[str, Any], actor_raw: dict[str, Any], *, uow: UnitOfWork,
                   storage: AttachmentStorage, max_bytes: int = attachment_rules.DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Record an uploaded file on a ticket (or one of its comments); refused uploads are removed from storage."""
    key = meta.get("storage_key") if isinstance(meta, dict) else None
    if not isinstance(key, str) or not _is_storage_key(key):
        raise ValidationFailed("An uploaded file is required.", {"file": ["Missing."]})
    try:
        row = _check_upload(ticket_id, meta, actor_raw, key, uow=uow, storage=storage, max_bytes=max_bytes)
    except Exception:
        storage.delete(key)  # a refused or failed upload leaves nothing behind
        raise
    uow.commit()
    return _attachment_view(row)


def _check_upload(ticket_id: str, meta: dict[str, Any], actor_raw: dict[str, Any], key: str, *, uow: UnitOfWork,
                  storage: AttachmentStorage, max_bytes: int) -> dict[str, Any]:
    actor = actor_from(actor_raw)
    if actor.id is None:
        raise ValidationFailed("An attachment needs a person as its uploader.", {"actor": ["Missing id."]})
    ticket = _visible(uow, ticket_id, actor)
    internal = meta.get("internal") is True
    if internal and not actor.is_staff:
        raise PermissionDenied("Only agents can add internal attachments.")
    comment_id = meta.get("comment_id")
    if comment_id is not None:
        comment = next((c for c in _repo(uow).comments(ticket.id, include_internal=actor.is_staff)
                        if c.id == comment_id), None)
        if comment is None:
            raise ValidationFailed("No such comment on this ticket.", {"comment_id": ["Not a comment of this ticket."]})
        internal = internal or bool(comment.internal)  # an attachment on an internal note is internal
    filename = attachment_rules.sanitize_filename(meta.get("filename") or "")
    content_type = attachment_rules.content_type_for(filename)
    allowed = ", ".join(sorted(attachment_rules.ALLOWED))
    if not filename or content_type is None:
        raise ValidationFailed("This type of file is not accepted.", {"file": [f"Allowed extensions: {allowed}."]})
    try:
        with storage.open(key) as stream:
            head = stream.read(attachment_rules.SNIFF_BYTES)
            if not attachment_rules.content_matches(filename, head):
                raise ValidationFailed("The file's content does not match its extension.",
                                       {"file": [f"Not a valid .{attachment_rules.extension(filename)} file."]})
            size, digest = _measure(head, stream)
    except FileNotFoundError:
        raise ValidationFailed("An uploaded file is required.", {"file": ["Not found in storage."]}) from None
    if size > max_bytes:
        raise ValidationFailed("The file is too large.", {"file": [f"At most {max_bytes} bytes."]})
    now = uow.clock.now()
    row = {"id": str(uuid.uuid4()), "ticket_id": ticket.id, "comment_id": comment_id, "filename": filename,
           "content_type": content_type, "size": size, "sha256": digest, "storage_key": key,
           "uploaded_by": actor.id, "created_at": now, "internal": internal}
    SqlAlchemyAttachmentRepository(uow.session).add(row)
    _repo(uow).record_history(ticket.id, actor=actor, action="attachment_added",
                              changes={"attachment": {"before": None, "after": filename}}, now=now, public=not internal)
    return row


def _measure(head: bytes, stream: Any) -> tuple[int, str]:
    digest, size = hashlib.sha256(head), len(head)
    while chunk := stream.read(64 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _is_storage_key(key: str) -> bool:
    try:
        relative_path(key)
    except ValueError:
        return False
    return True


def list_attachments(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return a ticket's attachments, oldest first; internal ones only for agents."""
    actor = actor_from(actor_raw)
    ticket = _visible(uow, ticket_id, actor)
    rows = SqlAlchemyAttachmentRepository(uow.session).for_ticket(
        ticket.id, include_internal=actor.is_staff or actor.role == "system")
    return [_attachment_view(row) for row in rows]


def _visible_attachment(uow: UnitOfWork, attachment_id: str, actor: rules.Actor) -> dict[str, Any]:
    row = SqlAlchemyAttachmentRepository(uow.session).find(str(attachment_id))
    if row is None:
        raise NotFound("Attachment not found.")
    try:
        _visible(uow, row["ticket_id"], actor)
    except TicketNotFound:
        raise NotFound("Attachment not found.") from None  # no existence oracle, as for tickets
    if row["internal"] and not (actor.is_staff or actor.role == "system"):
        raise NotFound("Attachment not found.")
    return row


def get_attachment(attachment_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Return an attachment's metadata and where its bytes are, if the caller may read it."""
    actor = actor_from(actor_raw)
    row = _visible_attachment(uow, attachment_id, actor)
    return {**_attachment_view(row), "storage_key": row["storage_key"],
            "storage_path": relative_path(row["storage_key"])}


def delete_attachment(attachment_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork,
                      storage: AttachmentStorage) -> None:
    """Remove an attachment (its uploader, or an agent who sees the ticket); the bytes go after the commit."""
    actor = actor_from(actor_raw)
    row = _visible_attachment(uow, attachment_id, actor)
    if row["uploaded_by"] != actor.id and not (actor.is_staff or actor.role == "system"):
        raise PermissionDenied("Only its uploader or an agent can remove an attachment.")
    SqlAlchemyAttachmentRepository(uow.session).remove(row["id"])
    _repo(uow).record_history(row["ticket_id"], actor=actor, action="attachment_removed",
                              changes={"attachment": {"before": row["filename"], "after": None}},
                              now=uow.clock.now(), public=not row["internal"])
    # after the commit (inside a command it follows the handler): a failed commit must not lose the bytes
    # (a failed delete only leaves an orphan file)
    uow.after_commit(lambda: storage.delete(row["storage_key"]))
    uow.commit()


def _attachment_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "ticket_id": row["ticket_id"], "comment_id": row["comment_id"],
        "filename": row["filename"], "content_type": row["content_type"], "size": int(row["size"]),
        "sha256": row["sha256"], "uploaded_by": row["uploaded_by"], "internal": bool(row["internal"]),
        "created_at": schemas.iso(row["created_at"]),
    }


# categories -------------------------------------------------------------------------------------

def _categories(uow: UnitOfWork) -> SqlAlchemyCategoryRepository:
    return SqlAlchemyCategoryRepository(uow.session)


def _admin(actor: rules.Actor) -> None:
    if actor.role not in ("admin", "system"):
        raise PermissionDenied("Only admins can manage categories.")


def _unique_category_name(uow: UnitOfWork, name: str, *, exclude: str | None = None) -> None:
    # checked first for a message naming the existing category; the unique index settles a race (409 too)
    existing = _categories(uow).find_by_name(name)
    if existing is not None and existing["id"] != exclude:
        raise name_taken(existing["name"])


def create_category(data: dict[str, Any], actor_raw: dict[str, Any], *, uow: UnitOfWork,
                    directory: Directory | None = None) -> dict[str, Any]:
    """Create a ticket category (admins)."""
    actor = actor_from(actor_raw)
    _admin(actor)
    payload = schemas.load(schemas.CategoryInput, data)
    check_department(uow, payload.get("default_department_id"), directory=directory, field="default_department_id")
    _unique_category_name(uow, payload["name"])
    now = uow.clock.now()
    row = {"id": str(uuid.uuid4()), "name": payload["name"], "description": payload.get("description"),
           "default_department_id": payload.get("default_department_id"), "created_at": now, "updated_at": now}
    _categories(uow).add(row)
    uow.commit()
    return schemas.category_view(row)


def list_categories(actor_raw: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Return every category, by name (anyone signed in)."""
    actor_from(actor_raw)
    items = [schemas.category_view(row) for row in _categories(uow).list()]
    return {"items": items, "total": len(items)}


def get_category(category_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Return one category."""
    actor_from(actor_raw)
    return schemas.category_view(_categories(uow).get(category_id))


def update_category(category_id: str, changes: dict[str, Any], actor_raw: dict[str, Any], *,
                    uow: UnitOfWork, directory: Directory | None = None) -> dict[str, Any]:
    """Change a category (admins); tickets keep the category name they were filed under."""
    actor = actor_from(actor_raw)
    _admin(actor)
    payload = schemas.load(schemas.CategoryInput, changes, partial=True)
    check_department(uow, payload.get("default_department_id"), directory=directory, field="default_department_id")
    repo = _categories(uow)
    repo.get(category_id, for_update=True)
    if "name" in payload:
        _unique_category_name(uow, payload["name"], exclude=category_id)
    if payload:
        repo.change(category_id, {**payload, "updated_at": uow.clock.now()})
    row = repo.get(category_id)
    uow.commit()
    return schemas.category_view(row)


def delete_category(category_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> None:
    """Delete a category (admins); tickets filed under it keep the name as text."""
    actor = actor_from(actor_raw)
    _admin(actor)
    repo = _categories(uow)
    repo.get(category_id, for_update=True)
    repo.remove(category_id)
    uow.commit()


# merging duplicates -----------------------------------------------------------------------------

def merge_tickets(ticket_id: str, target_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork,
                  confirm_different_requesters: bool = False) -> dict[str, Any]:
    """Merge a duplicate into a target (agents): its thread and attachments move there and it is closed.

    Tickets of different requesters merge only with ``confirm_different_requesters`` (a Conflict otherwise),
    and the confirmation is recorded in both histories (staff lines). Answers ``{"ticket": <the closed
    duplicate>, "target": <the target>}``.
    """
    actor = actor_from(actor_raw)
    _staff(actor)
    if not isinstance(confirm_different_requesters, bool):
        raise ValidationFailed("confirm_different_requesters must be true or false.",
                               {"confirm_different_requesters": ["Not a boolean."]})
    if ticket_id == target_id:
        raise Conflict("A ticket cannot be merged into itself.", {"target_id": ["Same ticket."]})
    # lock both rows in one order, so two merges of the same pair cannot deadlock
    locked = {tid: _visible(uow, tid, actor, for_update=True) for tid in sorted((ticket_id, target_id))}
    duplicate, target = locked[ticket_id], locked[target_id]
    now = uow.clock.now()
    closed = duplicate.merge_into(target, actor=actor, now=now,
                                  different_requesters_confirmed=confirm_different_requesters)
    absorbed = target.absorb(duplicate, now=now)
    repo = _repo(uow)
    moved = repo.move_comments(duplicate.id, target.id)
    files = SqlAlchemyAttachmentRepository(uow.session).move(duplicate.id, target.id)
    for on, body in ((duplicate, f"Merged into {target.number}; the conversation continues there."),
                     (target, f"{duplicate.number} was merged into this ticket ({moved} comments moved here).")):
        repo.add(Comment(id=str(uuid.uuid4()), ticket_id=on.id, author_id=actor.id or "system", author_role="system",
                         body=body, internal=False, mentions=[], now=now))
    uow.session.flush()
    repo.record_history(duplicate.id, actor=actor, action="merged",
                        changes={**closed, "merged_into": {"before": None, "after": target.number}}, now=now)
    repo.record_history(target.id, actor=actor, action="merged",
                        changes={**absorbed, "merged_from": {"before": None, "after": duplicate.number}}, now=now)
    if duplicate.requester_id != target.requester_id:  # only ever confirmed: merge_into refused it otherwise
        for on in (duplicate, target):
            repo.record_history(on.id, actor=actor, action="merge_confirmed", now=now, public=False, changes={
                "requester_id": {"before": duplicate.requester_id, "after": target.requester_id}})
    for row in files:  # one line per file on each side; internal files stay off the requester's history
        for on, change in ((duplicate, {"before": row["filename"], "after": None}),
                           (target, {"before": None, "after": row["filename"]})):
            repo.record_history(on.id, actor=actor, action="attachment_moved", changes={"attachment": change},
                                now=now, public=not row["internal"])
    _index(uow, duplicate)
    _index(uow, target)
    # consumers that follow the lifecycle (SLA timers, notifications) learn of the closing as of any other
    uow.emit("ticket.status_changed", {"ticket": _snapshot(duplicate), "from": closed["status"]["before"],
                                       "to": duplicate.status, "resolution": duplicate.resolution,
                                       "actor": actor.to_dict()})
    uow.emit("ticket.merged", {"ticket": _snapshot(duplicate), "target": _snapshot(target), "actor": actor.to_dict()})
    uow.commit()
    return {"ticket": _answer(duplicate, actor), "target": _answer(target, actor)}


# links ------------------------------------------------------------------------------------------

def _links(uow: UnitOfWork) -> SqlAlchemyLinkRepository:
    return SqlAlchemyLinkRepository(uow.session)


def _link_pair(uow: UnitOfWork, ticket_id: str, other_id: str, actor: rules.Actor) -> tuple[Ticket, Ticket]:
    if ticket_id == other_id:
        raise ValidationFailed("A ticket cannot be linked to itself.", {"other_id": ["Same ticket."]})
    locked = {tid: _visible(uow, tid, actor, for_update=True) for tid in sorted((ticket_id, other_id))}
    return locked[ticket_id], locked[other_id]


def link_tickets(ticket_id: str, other_id: str, kind: str, actor_raw: dict[str, Any], *,
                 uow: UnitOfWork) -> dict[str, Any]:
    """Link two tickets (agents); ``kind`` is what the other ticket is to this one: related, parent or child."""
    actor = actor_from(actor_raw)
    _staff(actor)
    payload = schemas.load(schemas.LinkInput, {"other_id": other_id, "kind": kind})
    ticket, other = _link_pair(uow, ticket_id, payload["other_id"], actor)
    stored_ticket, stored_linked, stored_kind = rules.stored_link(ticket.id, other.id, payload["kind"])
    existing = _links(uow).find(stored_ticket, stored_linked)
    if existing is not None:
        current = rules.link_kind_from(ticket.id, existing["ticket_id"], existing["kind"])
        raise Conflict(f"{ticket.number} and {other.number} are already linked ({other.number} is its {current}); "
                       "unlink them first.", {"other_id": ["Already linked."]})
    now = uow.clock.now()
    _links(uow).add(id=str(uuid.uuid4()), ticket_id=stored_ticket, linked_id=stored_linked, kind=stored_kind, now=now,
                    created_by=actor.id)
    _record_link(uow, "linked", ticket, other, payload["kind"], actor=actor, now=now)
    uow.commit()
    return schemas.link_view(ticket.id, other, kind=payload["kind"], created_at=now, created_by=actor.id)


def unlink_tickets(ticket_id: str, other_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> None:
    """Remove the link between two tickets (agents), whichever side it was made from."""
    actor = actor_from(actor_raw)
    _staff(actor)
    ticket, other = _link_pair(uow, ticket_id, other_id, actor)
    stored_ticket, stored_linked, _ = rules.stored_link(ticket.id, other.id, "related")
    existing = _links(uow).find(stored_ticket, stored_linked)
    if existing is None:
        raise NotFound(f"{ticket.number} and {other.number} are not linked.")
    _links(uow).remove(existing["id"])
    kind = rules.link_kind_from(ticket.id, existing["ticket_id"], existing["kind"])
    _record_link(uow, "unlinked", ticket, other, kind, actor=actor, now=uow.clock.now())
    uow.commit()


def list_links(ticket_id: str, actor_raw: dict[str, Any], *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return a ticket's links to the tickets the caller may see, oldest first."""
    actor = actor_from(actor_raw)
    ticket = _visible(uow, ticket_id, actor)
    rows = _links(uow).of(ticket.id)
    if not rows:
        return []
    others = {row["linked_id"] if row["ticket_id"] == ticket.id else row["ticket_id"] for row in rows}
    by_id = {t.id: t for t in _repo(uow).visible_by_ids(actor, {}, sorted(others))}
    answer = []
    for row in rows:
        other_id = row["linked_id"] if row["ticket_id"] == ticket.id else row["ticket_id"]
        if other_id in by_id:
            answer.append(schemas.link_view(ticket.id, by_id[other_id],
                                            kind=rules.link_kind_from(ticket.id, row["ticket_id"], row["kind"]),
                                            created_at=row["created_at"], created_by=row["created_by"]))
    return answer


def _record_link(uow: UnitOfWork, action: str, ticket: Ticket, other: Ticket, kind: str, *, actor: rules.Actor,
                 now: Any) -> None:
    # staff-only lines: the other ticket may be one the requester may not see
    for this, that, seen_as in ((ticket, other, kind), (other, ticket, rules.inverse_kind(kind))):
        link = {"number": that.number, "kind": seen_as}
        change = {"before": None, "after": link} if action == "linked" else {"before": link, "after": None}
        _repo(uow).record_history(this.id, actor=actor, action=action, changes={"link": change}, now=now, public=False)
