"""The event envelope every service publishes: ``{id, type, version, occurred_at, producer,
correlation_id, data}``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Event envelope",
    "type": "object",
    "required": ["id", "type", "version", "occurred_at", "producer", "correlation_id", "data"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "Unique per event; consumers dedupe on it."},
        "type": {"type": "string", "pattern": r"^[a-z_]+(\.[a-z_]+)+$", "description": "e.g. `user.created`; also the routing key."},
        "version": {"type": "integer", "minimum": 1, "description": "Schema version of `data` for this type."},
        "occurred_at": {"type": "string", "format": "date-time", "description": "When the fact happened (UTC, ISO 8601)."},
        "producer": {"type": "string", "description": "The service that owns the fact; the exchange is `<producer>.events`."},
        "correlation_id": {"type": ["string", "null"], "description": "Follows one request through every RPC and event."},
        "data": {"type": "object", "description": "The payload; its schema depends on `type` and `version`."},
    },
}


@dataclass(frozen=True)
class Envelope:
    """One event as it travels on the wire."""

    type: str
    data: dict[str, Any]
    producer: str
    occurred_at: str
    version: int = 1
    correlation_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def new(
        cls,
        type: str,
        data: dict[str, Any],
        *,
        producer: str,
        occurred_at: datetime,
        version: int = 1,
        correlation_id: str | None = None,
    ) -> Envelope:
        """Build an envelope with a fresh id for a fact that just happened."""
        if occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        return cls(
            type=type,
            data=data,
            producer=producer,
            occurred_at=occurred_at.astimezone(UTC).isoformat(),
            version=version,
            correlation_id=correlation_id,
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Envelope:
        """Read an envelope received from the broker."""
        return cls(
            id=raw["id"],
            type=raw["type"],
            version=raw["version"],
            occurred_at=raw["occurred_at"],
            producer=raw["producer"],
            correlation_id=raw.get("correlation_id"),
            data=raw["data"],
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the wire form (``data`` itself, not a copy: ``asdict`` deep-copied every payload)."""
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at,
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "data": self.data,
        }
