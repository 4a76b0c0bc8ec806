"""Inbox: the ids of events a consumer has already handled, written in the handler's own transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from helpdesk_common.db import inbox_table


def claim_event(session: Session, *, event_id: str, event_type: str, consumer: str, now: datetime) -> bool:
    """Record that ``consumer`` handles ``event_id`` now; return False if it already did.

    Two replicas racing on one redelivered event both pass the check, but the primary key lets only one
    commit; the other's transaction fails and its delivery is retried, then sees the row.
    """
    seen = session.execute(
        select(inbox_table.c.event_id).where(inbox_table.c.event_id == event_id, inbox_table.c.consumer == consumer)
    ).first()
    if seen:
        return False
    session.execute(
        insert(inbox_table).values(event_id=event_id, consumer=consumer, event_type=event_type, processed_at=now)
    )
    return True
