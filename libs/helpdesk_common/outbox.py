"""Transactional outbox: events are rows written in the same transaction as the state they describe;
the relay publishes them afterwards (see ``relay``)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import jsonschema
from sqlalchemy import insert
from sqlalchemy.orm import Session

from helpdesk_common.db import outbox_table
from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.events import event_type, latest_version


@cache
def _validator(name: str, version: int) -> jsonschema.protocols.Validator:
    schema = event_type(name, version).data_schema
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_payload(name: str, version: int, data: dict[str, Any]) -> None:
    """Raise if ``data`` breaks the published schema of the event type (contracts are enforced at the source)."""
    _validator(name, version).validate(data)


_INSERT = insert(outbox_table)  # built once: statement construction costs more than its execution


def record_event(session: Session, envelope: Envelope) -> None:
    """Add an event to the outbox inside the caller's transaction."""
    validate_payload(envelope.type, envelope.version, envelope.data)
    session.execute(
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


