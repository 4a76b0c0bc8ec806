"""Tickets about each other: merging a duplicate into its target, and links (related, parent, child)."""

from __future__ import annotations

import uuid
from typing import Any

from services.tickets import schemas
from services.tickets.domain import rules
from services.tickets.domain.errors import Conflict, NotFound, ValidationFailed
from services.tickets.domain.model import Comment, Ticket
from services.tickets.handlers.common import actor_from, answer, index_ticket, require_staff, snapshot, visible
from services.tickets.handlers.ports import TicketsUnitOfWork


def merge_tickets(ticket_id: str, target_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork,
                  confirm_different_requesters: bool = False) -> dict[str, Any]:
    """Merge a duplicate into a target (agents): its thread and attachments move there and it is closed.

    Tickets of different requesters merge only with ``confirm_different_requesters`` (a Conflict otherwise),
    and the confirmation is recorded in both histories (staff lines). Answers ``{"ticket": <the closed
    duplicate>, "target": <the target>}``.
    """
    actor = actor_from(actor_raw)
    require_staff(actor)
    if not isinstance(confirm_different_requesters, bool):
        raise ValidationFailed("confirm_different_requesters must be true or false.",
                               {"confirm_different_requesters": ["Not a boolean."]})
    if ticket_id == target_id:
        raise Conflict("A ticket cannot be merged into itself.", {"target_id": ["Same ticket."]})
    # lock both rows in one order, so two merges of the same pair cannot deadlock
    locked = {tid: visible(uow, tid, actor, for_update=True) for tid in sorted((ticket_id, target_id))}
    duplicate, target = locked[ticket_id], locked[target_id]
    now = uow.clock.now()
    closed = duplicate.merge_into(target, actor=actor, now=now,
                                  different_requesters_confirmed=confirm_different_requesters)
    absorbed = target.absorb(duplicate, now=now)
    repo = uow.tickets
    moved = uow.comments.move(duplicate.id, target.id)
    files = uow.attachments.move(duplicate.id, target.id)
    for on, body in ((duplicate, f"Merged into {target.number}; the conversation continues there."),
                     (target, f"{duplicate.number} was merged into this ticket ({moved} comments moved here).")):
        uow.comments.add(Comment(id=str(uuid.uuid4()), ticket_id=on.id, author_id=actor.id or rules.SYSTEM_AUTHOR, author_role="system",
                         body=body, internal=False, mentions=[], now=now))
    uow.flush()
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
    index_ticket(uow, duplicate)
    index_ticket(uow, target)
    # consumers that follow the lifecycle (SLA timers, notifications) learn of the closing as of any other
    uow.emit("ticket.status_changed", {"ticket": snapshot(duplicate, uow=uow), "from": closed["status"]["before"],
                                       "to": duplicate.status, "resolution": duplicate.resolution,
                                       "actor": actor.to_dict()})
    uow.emit("ticket.merged", {"ticket": snapshot(duplicate, uow=uow), "target": snapshot(target, uow=uow),
                               "actor": actor.to_dict()})
    uow.commit()
    return {"ticket": answer(duplicate, actor, uow=uow), "target": answer(target, actor, uow=uow)}


def _link_pair(uow: TicketsUnitOfWork, ticket_id: str, other_id: str, actor: rules.Actor) -> tuple[Ticket, Ticket]:
    if ticket_id == other_id:
        # a conflict, like merging a ticket into itself: the request is well-formed, the pair is not a pair
        raise Conflict("A ticket cannot be linked to itself.", {"other_id": ["Same ticket."]})
    locked = {tid: visible(uow, tid, actor, for_update=True) for tid in sorted((ticket_id, other_id))}
    return locked[ticket_id], locked[other_id]


def link_tickets(ticket_id: str, other_id: str, kind: str, actor_raw: dict[str, Any], *,
                 uow: TicketsUnitOfWork) -> dict[str, Any]:
    """Link two tickets (agents); ``kind`` is what the other ticket is to this one: related, parent or child."""
    actor = actor_from(actor_raw)
    require_staff(actor)
    payload = schemas.load(schemas.LinkInput, {"other_id": other_id, "kind": kind})
    ticket, other = _link_pair(uow, ticket_id, payload["other_id"], actor)
    stored_ticket, stored_linked, stored_kind = rules.stored_link(ticket.id, other.id, payload["kind"])
    existing = uow.links.find(stored_ticket, stored_linked)
    if existing is not None:
        current = rules.link_kind_from(ticket.id, existing["ticket_id"], existing["kind"])
        raise Conflict(f"{ticket.number} and {other.number} are already linked ({other.number} is its {current}); "
                       "unlink them first.", {"other_id": ["Already linked."]})
    now = uow.clock.now()
    uow.links.add(id=str(uuid.uuid4()), ticket_id=stored_ticket, linked_id=stored_linked, kind=stored_kind, now=now,
                    created_by=actor.id)
    _record_link(uow, "linked", ticket, other, payload["kind"], actor=actor, now=now)
    uow.commit()
    return schemas.link_view(ticket.id, other, kind=payload["kind"], created_at=now, created_by=actor.id)


def unlink_tickets(ticket_id: str, other_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> None:
    """Remove the link between two tickets (agents), whichever side it was made from."""
    actor = actor_from(actor_raw)
    require_staff(actor)
    if ticket_id == other_id:
        raise NotFound("A ticket is never linked to itself.")
    ticket, other = _link_pair(uow, ticket_id, other_id, actor)
    stored_ticket, stored_linked, _ = rules.stored_link(ticket.id, other.id, "related")
    existing = uow.links.find(stored_ticket, stored_linked)
    if existing is None:
        raise NotFound(f"{ticket.number} and {other.number} are not linked.")
    uow.links.remove(existing["id"])
    kind = rules.link_kind_from(ticket.id, existing["ticket_id"], existing["kind"])
    _record_link(uow, "unlinked", ticket, other, kind, actor=actor, now=uow.clock.now())
    uow.commit()


def list_links(ticket_id: str, actor_raw: dict[str, Any], *, uow: TicketsUnitOfWork) -> list[dict[str, Any]]:
    """Return a ticket's links to the tickets the caller may see, oldest first."""
    actor = actor_from(actor_raw)
    ticket = visible(uow, ticket_id, actor)
    rows = uow.links.of(ticket.id)
    if not rows:
        return []
    others = {row["linked_id"] if row["ticket_id"] == ticket.id else row["ticket_id"] for row in rows}
    by_id = {t.id: t for t in uow.tickets.visible_by_ids(actor, {}, sorted(others))}
    answer = []
    for row in rows:
        other_id = row["linked_id"] if row["ticket_id"] == ticket.id else row["ticket_id"]
        if other_id in by_id:
            answer.append(schemas.link_view(ticket.id, by_id[other_id],
                                            kind=rules.link_kind_from(ticket.id, row["ticket_id"], row["kind"]),
                                            created_at=row["created_at"], created_by=row["created_by"]))
    return answer


def _record_link(uow: TicketsUnitOfWork, action: str, ticket: Ticket, other: Ticket, kind: str, *, actor: rules.Actor,
                 now: Any) -> None:
    # staff-only lines: the other ticket may be one the requester may not see
    for this, that, seen_as in ((ticket, other, kind), (other, ticket, rules.inverse_kind(kind))):
        link = {"number": that.number, "kind": seen_as}
        change = {"before": None, "after": link} if action == "linked" else {"before": link, "after": None}
        uow.tickets.record_history(this.id, actor=actor, action=action, changes={"link": change}, now=now, public=False)
