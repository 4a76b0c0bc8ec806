"""The event envelope: what ``Envelope`` builds and what ``validate_envelope`` lets through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import ValidationError

from helpdesk_contracts.envelope import ENVELOPE_SCHEMA, Envelope
from helpdesk_contracts.events import UnknownEventType, validate_envelope

NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def test_valid_envelope_passes_validation(valid_envelope: dict) -> None:
    validate_envelope(valid_envelope)  # the baseline every rejection below departs from


@pytest.mark.parametrize("field", ENVELOPE_SCHEMA["required"])
def test_envelope_is_rejected_when_a_field_is_missing(field: str, valid_envelope: dict) -> None:
    del valid_envelope[field]

    with pytest.raises(ValidationError):
        validate_envelope(valid_envelope)


def test_envelope_is_rejected_when_it_has_an_extra_top_level_field(valid_envelope: dict) -> None:
    valid_envelope["tenant"] = "acme"

    with pytest.raises(ValidationError):
        validate_envelope(valid_envelope)


def test_envelope_is_rejected_when_type_is_unknown(valid_envelope: dict) -> None:
    valid_envelope["type"] = "user.teleported"

    with pytest.raises(UnknownEventType):
        validate_envelope(valid_envelope)


def test_envelope_is_rejected_when_version_is_not_registered(valid_envelope: dict) -> None:
    valid_envelope["version"] = 99

    with pytest.raises(UnknownEventType):
        validate_envelope(valid_envelope)


def test_envelope_is_rejected_when_id_is_not_a_uuid(valid_envelope: dict) -> None:
    valid_envelope["id"] = "event-1"

    with pytest.raises(ValidationError):
        validate_envelope(valid_envelope)


def test_envelope_is_rejected_when_data_breaks_its_schema(valid_envelope: dict) -> None:
    del valid_envelope["data"]["user"]["email"]

    with pytest.raises(ValidationError):
        validate_envelope(valid_envelope)


def test_envelope_is_rejected_when_data_enum_value_is_unknown(valid_envelope: dict) -> None:
    valid_envelope["data"]["user"]["role"] = "superuser"

    with pytest.raises(ValidationError):
        validate_envelope(valid_envelope)


def test_envelope_is_rejected_when_occurred_at_has_no_offset(valid_envelope: dict) -> None:
    valid_envelope["occurred_at"] = "2025-01-15T09:30:00"

    with pytest.raises(ValidationError):
        validate_envelope(valid_envelope)


def test_envelope_new_refuses_a_naive_timestamp() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Envelope.new("user.password_changed", {}, producer="users", occurred_at=datetime(2025, 1, 15, 9, 30))


def test_envelope_new_writes_the_offset_when_timestamp_is_aware() -> None:
    envelope = Envelope.new("user.password_changed", {}, producer="users", occurred_at=NOW)

    assert envelope.occurred_at == "2025-01-15T09:30:00+00:00"


def test_envelope_new_gives_each_event_its_own_id() -> None:
    first = Envelope.new("user.password_changed", {}, producer="users", occurred_at=NOW)
    second = Envelope.new("user.password_changed", {}, producer="users", occurred_at=NOW)

    assert first.id != second.id


def test_envelope_survives_the_wire_when_converted_back_and_forth() -> None:
    envelope = Envelope.new(
        "user.password_changed",
        {"user_id": "0f8b8a4e-6a2a-4f0e-9d8e-2b1f3c4d5e6f", "email": "a@example.com"},
        producer="users",
        occurred_at=NOW + timedelta(seconds=1),
        correlation_id="abc",
    )

    assert Envelope.from_dict(envelope.to_dict()) == envelope


def test_envelope_built_by_new_passes_validation() -> None:
    envelope = Envelope.new(
        "user.password_changed",
        {"user_id": "0f8b8a4e-6a2a-4f0e-9d8e-2b1f3c4d5e6f", "email": "a@example.com"},
        producer="users",
        occurred_at=NOW,
    )

    validate_envelope(envelope.to_dict())
