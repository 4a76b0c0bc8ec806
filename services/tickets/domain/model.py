"""Entities of the tickets domain: plain classes, mapped to tables in ``adapters.orm``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.tickets.domain import rules
from services.tickets.domain.errors import Conflict, IllegalTransition, PermissionDenied, ValidationFailed

Changes = dict[str, dict[str, Any]]


class Ticket:
    """A support request and its lifecycle."""

    EDITABLE = ("title", "description", "category", "tags", "metadata", "urgency", "impact", "priority")
    REQUESTER_EDITABLE = ("title", "description")

    def __init__(
        self,
        *,
        id: str,
        number: str,
        title: str,
        description: str,
        requester_id: str,
        now: datetime,
        priority: str = "medium",
        urgency: str | None = None,
        impact: str | None = None,
        category: str | None = None,
        tags: list[str] | None = None,
        department_id: str | None = None,
        organization_id: str | None = None,
        source: str = "web",
        metadata: dict[str, Any] | None = None,
        created_by: str | None = None,
    ):
        if urgency is not None and impact is not None:
            priority = rules.priority_from(urgency, impact)
        self.id = id
        self.number = number
        self.title = title.strip()
        self.description = description
        self.status = "new"
        self.priority = priority
        self.urgency = urgency
        self.impact = impact
        self.category = category
        self.tags = normalize_tags(tags or [])
        self.requester_id = requester_id
        self.assignee_id: str | None = None
        self.department_id = department_id
        self.organization_id = organization_id
        self.source = source
        self.metadata = dict(metadata or {})
        self.created_by = created_by or requester_id
        self.created_at = now
        self.updated_at = now
        self.first_response_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.resolution: str | None = None
        self.reopen_count = 0
        self.deleted_at: datetime | None = None
        self.version = 1
        # read positions of the public thread, one per side (rules.THREAD_SIDES); not versioned: reading is no change
        self.requester_unread = 0
        self.agents_unread = 0
        self.requester_read_at: datetime | None = None
        self.agents_read_at: datetime | None = None

    # ---- edits
    def edit(self, changes: dict[str, Any], *, actor: rules.Actor, now: datetime) -> Changes:
        """Change editable fields; the requester may only retitle or redescribe a ticket that is still new."""
        if not actor.is_staff and actor.role != "system":
            forbidden = set(changes) - set(self.REQUESTER_EDITABLE)
            # a colleague who sees the ticket through a shared organization may read and reply, not edit
            if forbidden or self.status != "new" or actor.id != self.requester_id:
                raise PermissionDenied("Only agents can change this ticket now.")
        applied: Changes = {}
        for field, value in changes.items():
            if field not in self.EDITABLE:
                raise ValidationFailed(f"{field} cannot be changed.", {field: ["Unknown or read-only field."]})
            if field == "tags":
                value = normalize_tags(value)
            if field == "title":
                value = value.strip()
            self._set(field, value, applied)
        if {"urgency", "impact"} & set(changes) and self.urgency and self.impact and "priority" not in changes:
            self._set("priority", rules.priority_from(self.urgency, self.impact), applied)
        if applied:
            self._touch(now)
        return applied

    def change_status(self, to: str, *, actor: rules.Actor, now: datetime, resolution: str | None = None) -> Changes:
        """Move the ticket through its lifecycle; illegal moves raise with the legal ones in the message."""
        if to not in rules.STATUSES:
            raise ValidationFailed(f"Unknown status {to!r}.", {"status": [f"Must be one of: {', '.join(rules.STATUSES)}."]})
        if not actor.is_staff and actor.role != "system":
            if actor.id != self.requester_id:
                raise PermissionDenied("Only agents can change this ticket's status.")
            if to not in ("closed", "open") or (to == "open" and self.status not in rules.REOPEN_FROM):
                raise PermissionDenied("Customers can only close or reopen their own tickets.")
        legal = rules.legal_next(self.status)
        if to not in legal:
            raise IllegalTransition(
                f"Cannot move a ticket from {self.status} to {to}; allowed: {', '.join(legal) or 'none'}.",
                {"status": [f"Allowed from {self.status}: {', '.join(legal)}."]},
            )
        applied: Changes = {}
        reopening = self.status in rules.REOPEN_FROM and to == "open"
        self._set("status", to, applied)
        if reopening:
            self._set("reopen_count", self.reopen_count + 1, applied)
            self._set("resolved_at", None, applied)
            self._set("closed_at", None, applied)
            self._set("resolution", None, applied)
        if to == "resolved":
            self._set("resolved_at", now, applied)
        if to == "closed":
            if self.resolved_at is None:
                self._set("resolved_at", now, applied)
            self._set("closed_at", now, applied)
        if resolution is not None and to in ("resolved", "closed"):
            self._set("resolution", resolution, applied)
        self._touch(now)
        return applied

    def assign(self, *, assignee_id: str | None, department_id: str | None, set_department: bool,
               now: datetime) -> Changes:
        """Give the ticket to an agent and/or a department (None unassigns the agent)."""
        applied: Changes = {}
        self._set("assignee_id", assignee_id, applied)
        if set_department:
            self._set("department_id", department_id, applied)
        if applied:
            if assignee_id and self.status == "new":
                self._set("status", "open", applied)
            self._touch(now)
        return applied

    def record_reply(self, *, actor: rules.Actor, internal: bool, now: datetime) -> Changes:
        """Note a comment: the first public reply from an agent sets first_response_at."""
        applied: Changes = {}
        if actor.is_staff and not internal and self.first_response_at is None:
            self._set("first_response_at", now, applied)
        if not internal:
            self._note_public_message(actor=actor, now=now)
        self._touch(now)
        return applied

    # ---- read positions of the public thread
    def unread_for(self, side: str) -> int:
        """Return how many public messages of the other side ``side`` has not read."""
        return int(getattr(self, f"{side}_unread") or 0)

    def mark_read(self, side: str, *, now: datetime) -> bool:
        """Note that ``side`` has read the thread; tell whether it had anything unread."""
        if side not in rules.THREAD_SIDES:
            raise ValueError(f"unknown thread side {side!r}")
        if not self.unread_for(side):
            return False
        setattr(self, f"{side}_unread", 0)
        setattr(self, f"{side}_read_at", now)
        return True

    def _note_public_message(self, *, actor: rules.Actor, now: datetime) -> None:
        written_by = rules.writer_side(actor)
        if written_by is None:
            return
        other = rules.other_side(written_by)
        setattr(self, f"{other}_unread", self.unread_for(other) + 1)
        # whoever replies has read what they reply to
        if rules.reader_side(actor, requester_id=self.requester_id) == written_by:
            self.mark_read(written_by, now=now)

    def soft_delete(self, *, now: datetime) -> None:
        self.deleted_at = now
        self._touch(now)

    # ---- merging duplicates
    @property
    def merged_into(self) -> str | None:
        """The id of the ticket this one was merged into, if it was."""
        return (self.metadata or {}).get("merged_into")

    def merge_into(self, target: Ticket, *, actor: rules.Actor, now: datetime,
                   different_requesters_confirmed: bool = False) -> Changes:
        """Close this ticket as a duplicate of ``target`` (its thread moves there; the handler does that).

        Tickets of two requesters merge only when the caller confirms it: the duplicate's public replies and
        attachments become readable by the target's requester.
        """
        if target.id == self.id:
            raise Conflict("A ticket cannot be merged into itself.", {"target_id": ["Same ticket."]})
        if self.merged_into:
            raise Conflict(f"{self.number} was already merged into another ticket.", {"ticket_id": ["Already merged."]})
        if target.merged_into:
            raise Conflict(f"Cannot merge into {target.number}: it was itself merged into another ticket; "
                           "merge into that one.", {"target_id": ["Merged ticket."]})
        if target.status == "closed":
            raise Conflict(f"Cannot merge into {target.number}: it is closed; reopen it first.",
                           {"target_id": ["Closed ticket."]})
        if self.status == "closed":
            raise Conflict(f"Cannot merge {self.number}: it is already closed; reopen it first.",
                           {"ticket_id": ["Closed ticket."]})
        if self.requester_id != target.requester_id and not different_requesters_confirmed:
            raise Conflict(
                f"{self.number} and {target.number} have different requesters: merging shows {self.number}'s public "
                f"replies and attachments to {target.number}'s requester. To merge anyway, send "
                "confirm_different_requesters: true.",
                {"confirm_different_requesters": ["Required when the requesters differ."]})
        applied = self.change_status("closed", actor=actor, now=now, resolution=rules.merge_resolution(target.number))
        self._set("metadata", {**(self.metadata or {}), "merged_into": target.id}, applied)
        return applied

    def absorb(self, duplicate: Ticket, *, now: datetime) -> Changes:
        """Note that ``duplicate`` was merged into this ticket."""
        merged_from = [*(self.metadata or {}).get("merged_from", []), duplicate.id]
        applied: Changes = {}
        self._set("metadata", {**(self.metadata or {}), "merged_from": merged_from}, applied)
        for side in rules.THREAD_SIDES:  # the duplicate's unread messages are in this thread now
            setattr(self, f"{side}_unread", self.unread_for(side) + duplicate.unread_for(side))
            setattr(duplicate, f"{side}_unread", 0)
        self._touch(now)
        return applied

    def _set(self, field: str, value: Any, applied: Changes) -> None:
        before = getattr(self, field)
        if before != value:
            setattr(self, field, value)
            applied[field] = {"before": _plain(before), "after": _plain(value)}

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1


class Comment:
    """A public reply or an internal note on a ticket."""

    def __init__(self, *, id: str, ticket_id: str, author_id: str, author_role: str, body: str, internal: bool,
                 mentions: list[str], now: datetime):
        self.id = id
        self.ticket_id = ticket_id
        self.author_id = author_id
        self.author_role = author_role
        self.body = body
        self.internal = internal
        self.mentions = list(mentions)
        self.created_at = now


def normalize_tags(tags: list[str]) -> list[str]:
    """Return tags lower-cased, trimmed, unique and sorted."""
    return sorted({t.strip().lower() for t in tags if t and t.strip()})


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
