"""Transactional outbox: events are rows written in the same transaction as the state they describe;
the relay publishes them afterwards (see ``relay``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from helpdesk_common.db import outbox_table
from helpdesk_common.writebehind import defer
from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.events import latest_version, validate_data


def validate_payload(name: str, version: int, data: dict[str, Any]) -> None:
    """Raise if ``data`` breaks the published schema of the event type (contracts are enforced at the source)."""
    validate_data(name, version, data)


# built once (statement construction costs more than its execution); inline: deferred, so no RETURNING of the id
_INSERT = insert(outbox_table).inline()


def record_event(session: Session, envelope: Envelope) -> None:
    """Add an event to the outbox inside the caller's transaction."""
    validate_payload(envelope.type, envelope.version, envelope.data)
    defer(  # sent with the commit (see ``writebehind``): nobody reads an event back in its own transaction
        session,
        _INSERT,
        {
            "event_id": envelope.id,
            "event_type": envelope.type,
            "producer": envelope.producer,
            "envelope": envelope.to_dict(),
            "created_at": datetime.fromisoformat(envelope.occurred_at),
            "attempts": 0,
            "unroutable": 0,
        },
    )


def default_version(name: str) -> int:
    """Return the version a producer emits by default: the newest registered one."""
    return latest_version(name)


