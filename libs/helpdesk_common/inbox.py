"""Inbox: the ids of events a consumer has already handled, written in the handler's own transaction.

Reliable event handlers never call it themselves: the first unit of work their worker opens claims the
event under ``<service>.<method>`` (see ``nameko_ext.Database``), so idempotency cannot be forgotten.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from helpdesk_common.db import inbox_table


class EventAlreadyHandled(Exception):
    """The event was handled before by this consumer (or by a twin delivery that committed first)."""


def consumer_name(service: str, method: str) -> str:
    """Return the inbox consumer name of a service's event handler method."""
    return f"{service}.{method}"


_CLAIM = {
    "postgresql": postgresql.insert(inbox_table).on_conflict_do_nothing().returning(inbox_table.c.event_id),
    "sqlite": sqlite.insert(inbox_table).on_conflict_do_nothing().returning(inbox_table.c.event_id),
}


def claim_event(session: Session, *, event_id: str, event_type: str, consumer: str, now: datetime) -> bool:
    """Record that ``consumer`` handles ``event_id`` now; return False if it already did.

    One ``INSERT … ON CONFLICT DO NOTHING``: a twin delivery racing on another replica waits on the
    primary key until the winner's transaction ends, then inserts nothing (False) if the winner
    committed, or claims the event if it rolled back.
    """
    values = {"event_id": event_id, "consumer": consumer, "event_type": event_type, "processed_at": now}
    statement = _CLAIM.get(session.get_bind().dialect.name)
    if statement is not None:
        return session.execute(statement, values).first() is not None  # a row back: this claim inserted it
    seen = session.execute(  # other databases: a check, and the primary key fails a racing twin
        select(inbox_table.c.event_id).where(inbox_table.c.event_id == event_id, inbox_table.c.consumer == consumer)
    ).first()
    if seen:
        return False
    session.execute(insert(inbox_table), values)
    return True


class _QuietDuplicates(logging.Filter):
    """Drop nameko's "(expected) error handling worker" warning for a skipped duplicate: it is no error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], EventAlreadyHandled))


def quiet_duplicates() -> None:
    """Keep skipped duplicate deliveries out of nameko's container log (idempotent)."""
    logger = logging.getLogger("nameko.containers")
    if not any(isinstance(f, _QuietDuplicates) for f in logger.filters):
        logger.addFilter(_QuietDuplicates())
