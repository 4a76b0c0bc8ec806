"""Reading tickets: one, a page of them, a full-text search, their history, counts and tags."""

from __future__ import annotations

from typing import Any

from services.tickets import schemas
from services.tickets.domain import rules, search
from services.tickets.domain.errors import ValidationFailed
from services.tickets.domain.model import Ticket
from services.tickets.handlers.common import actor_from, answer, answer_page, list_filters, page_of, visible
from services.tickets.handlers.ports import TicketsUnitOfWork


def get_ticket(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> dict[str, Any]:
    """Return one ticket the caller may see."""
    actor = actor_from(actor_raw)
    return answer(visible(uow, ticket_id, actor), actor, uow=uow)


def list_tickets(actor_raw: dict[str, Any], filters: dict[str, Any] | None = None, page: int = 1, limit: int = 20,
                 sort_by: str = "created_at", sort_order: str = "desc", *, uow: TicketsUnitOfWork,
                 index: search.TicketSearchIndex | None = None) -> dict[str, Any]:
    """Return a page of the tickets the caller may see (``filters["q"]``: only those matching the words)."""
    actor = actor_from(actor_raw)
    page, limit = page_of(page, limit)
    if sort_by not in rules.SORTABLE_FIELDS:
        raise ValidationFailed("Unknown sort field.", {"sort_by": [f"One of: {', '.join(rules.SORTABLE_FIELDS)}."]})
    if sort_order not in ("asc", "desc"):
        raise ValidationFailed("Unknown sort order.", {"sort_order": ["asc or desc."]})
    loaded = list_filters(actor, filters)
    if search.parse(loaded.get("q")):
        found = _search(uow, index, actor, loaded["q"], loaded, page, limit, sort=(sort_by, sort_order), highlight=False)
        return {"items": answer_page(_in_order(uow, actor, loaded, found.ids), actor, uow=uow), "total": found.total,
                "total_exact": found.total_exact}
    items, total = uow.tickets.list(actor, loaded, page=page, limit=limit, sort_by=sort_by, sort_order=sort_order)
    return {"items": answer_page(items, actor, uow=uow), "total": total}


def search_tickets(actor_raw: dict[str, Any], query: str, filters: dict[str, Any] | None = None, page: int = 1,
                   limit: int = 20, *, uow: TicketsUnitOfWork, index: search.TicketSearchIndex | None = None) -> dict[str, Any]:
    """Find the tickets the caller may see by full text: most relevant first, each with a highlight."""
    actor = actor_from(actor_raw)
    page, limit = page_of(page, limit)
    if not isinstance(query, str) or len(query) > search.MAX_QUERY_CHARS or not search.parse(query):
        raise ValidationFailed("Type at least one word to search for.",
                               {"query": [f"At least one word, at most {search.MAX_QUERY_CHARS} characters."]})
    loaded = list_filters(actor, filters)
    found = _search(uow, index, actor, query, loaded, page, limit)
    return {
        "items": [{**view, "highlight": found.highlights.get(view["id"])}
                  for view in answer_page(_in_order(uow, actor, loaded, found.ids), actor, uow=uow)],
        "total": found.total,
        "total_exact": found.total_exact,
    }


def _search(uow: TicketsUnitOfWork, index: search.TicketSearchIndex | None, actor: rules.Actor, query: str,
            filters: dict[str, Any], page: int, limit: int, **options: Any) -> search.SearchResult:
    if page * limit > search.MAX_RESULT_WINDOW:
        raise ValidationFailed(f"Search pages stop at result {search.MAX_RESULT_WINDOW}; narrow the search.",
                               {"page": [f"page × limit must be at most {search.MAX_RESULT_WINDOW}."]})
    if index is None:
        index = uow.search  # reads the organizations projection in SQL
    else:  # Elasticsearch cannot read the projection: the actor brings the sharing flag
        actor = uow.organizations.with_sharing(actor)
    return index.search(query, visibility=actor, filters=filters, page=page, limit=limit, **options)


def _in_order(uow: TicketsUnitOfWork, actor: rules.Actor, filters: dict[str, Any], ids: list[str]) -> list[Ticket]:
    # the database has the last word: a lagging external index may still list a ticket gone from view
    if not ids:
        return []
    by_id = {ticket.id: ticket for ticket in uow.tickets.visible_by_ids(actor, filters, ids)}
    return [by_id[ticket_id] for ticket_id in ids if ticket_id in by_id]


def get_history(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> list[dict[str, Any]]:
    """Return every change of a ticket; requesters see the public part only."""
    actor = actor_from(actor_raw)
    ticket = visible(uow, ticket_id, actor)
    return [schemas.history_view(r) for r in uow.tickets.history(ticket.id, public_only=not actor.is_staff)]


def ticket_stats(actor_raw: dict[str, Any], filters: dict[str, Any] | None = None, *, uow: TicketsUnitOfWork,
                 index: search.TicketSearchIndex | None = None) -> dict[str, Any]:
    """Count the caller's visible tickets by status, priority, agent and department, and their unread messages.

    With ``filters["q"]`` only the tickets the search for those words finds count, as in the list: the
    first ``MAX_RESULT_WINDOW`` matches (``total_exact`` is false when more may match).
    """
    actor = actor_from(actor_raw)
    loaded = list_filters(actor, filters)
    ids, exact = None, True
    if search.parse(loaded.get("q")):
        window = search.MAX_RESULT_WINDOW
        found = _search(uow, index, actor, loaded["q"], loaded, 1, window, sort=("created_at", "desc"),
                        highlight=False)
        ids, exact = found.ids, len(found.ids) < window
    repo = uow.tickets
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


def list_tags(actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> list[dict[str, Any]]:
    """Return the tags on the caller's visible tickets with their counts, most used first."""
    actor = actor_from(actor_raw)
    counts = uow.tickets.tag_counts(actor)
    return [{"tag": t, "count": c} for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
