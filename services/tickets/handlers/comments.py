"""A ticket's thread: replies, internal notes, mentions, and where each side has read to."""

from __future__ import annotations

import uuid
from typing import Any

from services.tickets import schemas
from services.tickets.domain import rules
from services.tickets.domain.errors import PermissionDenied, ValidationFailed
from services.tickets.domain.model import Comment
from services.tickets.handlers.common import actor_from, answer, index_ticket, snapshot, visible
from services.tickets.handlers.ports import TicketsUnitOfWork
from services.tickets.handlers.references import Directory


def add_comment(ticket_id: str, data: dict[str, Any], actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                directory: Directory | None = None) -> dict[str, Any]:
    """Add a public reply or (agents only) an internal note.

    Agents mention colleagues by id (``mentions``) or in the text (``@carlos``, ``@carlos@example.com``,
    resolved with ``directory``; unknown or ambiguous handles stay plain text). Customers mention nobody:
    their ``mentions`` and ``@`` words are kept as text only.
    """
    actor = actor_from(actor_raw)
    payload = schemas.load(schemas.AddComment, data)
    if actor.id is None and actor.role != "system":
        raise ValidationFailed("A comment needs a person as its author.", {"actor": ["Missing id."]})
    if payload["internal"] and not (actor.is_staff or actor.role == "system"):
        raise PermissionDenied("Only agents can write internal notes.")
    ticket = visible(uow, ticket_id, actor, for_update=True)
    mentions = _mentions(payload, actor, directory)
    now = uow.clock.now()
    comment = Comment(id=str(uuid.uuid4()), ticket_id=ticket.id, author_id=actor.id or rules.SYSTEM_AUTHOR, author_role=actor.role,
                      body=payload["body"], internal=payload["internal"], mentions=mentions, now=now)
    uow.comments.add(comment)
    if not uow.search.append_comment(ticket.id, comment.body, internal=comment.internal):
        index_ticket(uow, ticket)
    applied = ticket.record_reply(actor=actor, internal=comment.internal, now=now)
    uow.tickets.record_history(ticket.id, actor=actor, action="internal_note" if comment.internal else "replied",
                              changes=applied, now=now, public=not comment.internal)
    uow.emit("ticket.commented", {"ticket": snapshot(ticket, uow=uow), "comment": _comment_event(comment),
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


def list_comments(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> list[dict[str, Any]]:
    """Return a ticket's thread (internal notes only for agents) and mark it read for the caller's side."""
    actor = actor_from(actor_raw)
    ticket = visible(uow, ticket_id, actor)
    side = rules.reader_side(actor, requester_id=ticket.requester_id)
    # marked before reading: a message committed meanwhile is either in this answer or still unread
    marked = side is not None and uow.tickets.mark_read(ticket.id, side, now=uow.clock.now())
    thread = uow.comments.of(ticket.id, include_internal=actor.is_staff or actor.role == "system")
    if marked:
        uow.commit()
    return [schemas.comment_view(c) for c in thread]


def mark_read(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> dict[str, Any]:
    """Mark a ticket's public thread read for the caller's side; answer the ticket (``unread`` 0).

    Callers who keep no read position on the ticket (the system, a colleague on a shared ticket) change nothing.
    """
    actor = actor_from(actor_raw)
    ticket = visible(uow, ticket_id, actor, for_update=True)
    side = rules.reader_side(actor, requester_id=ticket.requester_id)
    if side is not None and ticket.mark_read(side, now=uow.clock.now()):
        uow.commit()
    return answer(ticket, actor, uow=uow)
