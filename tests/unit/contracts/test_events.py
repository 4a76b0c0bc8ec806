"""The event registry (``EVENT_TYPES``): well-formed schemas, names and producers."""

from __future__ import annotations

import re
from collections import Counter

import jsonschema
import pytest

from helpdesk_contracts.envelope import ENVELOPE_SCHEMA
from helpdesk_contracts.events import EVENT_TYPES, EventType, UnknownEventType, event_type, latest_version

from .conftest import every_event_type

KNOWN_PRODUCERS = {"users", "tickets", "automation", "sla", "notifications", "conversations"}

_NAME = re.compile(r"^(?P<noun>[a-z]+(?:_[a-z]+)*)\.(?P<fact>[a-z]+(?:_[a-z]+)*)$")
# A fact is past tense (`created`, `password_reset_requested`) or, rarely, a state (`sla.warning`).
# Extend these sets deliberately, never to make an imperative name (`user.create`) pass.
_IRREGULAR_PAST = {"sent", "read", "paid", "lost", "won", "held", "begun", "done"}
_STATES = {"warning"}


def _is_fact(word: str) -> bool:
    return word.endswith("ed") or word in _IRREGULAR_PAST or word in _STATES


@every_event_type
def test_data_schema_is_a_valid_json_schema(spec: EventType) -> None:
    jsonschema.validators.validator_for(spec.data_schema).check_schema(spec.data_schema)


@every_event_type
def test_data_schema_describes_an_object(spec: EventType) -> None:
    assert spec.data_schema.get("type") == "object"


@every_event_type
def test_event_name_is_noun_dot_past_tense_or_state(spec: EventType) -> None:
    match = _NAME.match(spec.name)

    assert match, f"{spec.name} is not <noun>.<fact> in snake_case"
    assert _is_fact(match["fact"].rsplit("_", 1)[-1]), f"{spec.name} does not end in a past tense or a state"


@every_event_type
def test_event_name_matches_the_envelope_type_pattern(spec: EventType) -> None:
    assert re.match(ENVELOPE_SCHEMA["properties"]["type"]["pattern"], spec.name)


@every_event_type
def test_producer_is_a_known_service(spec: EventType) -> None:
    assert spec.producer in KNOWN_PRODUCERS


@every_event_type
def test_summary_is_a_sentence(spec: EventType) -> None:
    assert spec.summary[:1].isupper() and spec.summary.endswith(".")


@pytest.mark.parametrize("name", ["user.create", "User.created", "user", "user.created.now", "user-created"])
def test_event_name_rule_rejects_names_that_are_not_facts(name: str) -> None:
    match = _NAME.match(name)

    assert not (match and _is_fact(match["fact"].rsplit("_", 1)[-1]))


def test_type_versions_are_registered_once() -> None:
    counts = Counter((spec.name, spec.version) for spec in EVENT_TYPES)

    assert [key for key, n in counts.items() if n > 1] == []


def test_versions_of_a_type_have_no_gaps() -> None:
    # a retired version may leave the front of the range, never the middle
    versions: dict[str, list[int]] = {}
    for spec in EVENT_TYPES:
        versions.setdefault(spec.name, []).append(spec.version)

    assert {name: sorted(v) for name, v in versions.items()} == {
        name: list(range(min(v), max(v) + 1)) for name, v in versions.items()
    }


def test_versions_of_a_type_share_one_producer() -> None:
    producers: dict[str, set[str]] = {}
    for spec in EVENT_TYPES:
        producers.setdefault(spec.name, set()).add(spec.producer)

    assert {name: p for name, p in producers.items() if len(p) > 1} == {}


def test_exchange_is_named_after_the_producer() -> None:
    assert EventType("user.created", 1, "users", "A user was created.", {}).exchange == "users.events"


def test_event_type_raises_when_version_is_not_registered() -> None:
    with pytest.raises(UnknownEventType):
        event_type("user.created", 99)


def test_latest_version_raises_when_type_is_unknown() -> None:
    with pytest.raises(UnknownEventType):
        latest_version("user.teleported")


def test_a_ticket_snapshot_may_name_its_categorys_required_skills_or_leave_them_out() -> None:
    from helpdesk_contracts.events import TICKET_SNAPSHOT, validate_data

    ticket = {"id": "6f1c1e8e-8a52-4c1b-9a57-0d5f0b7b1a11", "number": "TKT-000001", "title": "VPN down",
              "status": "new", "priority": "medium", "requester_id": "0b8f5e2c-3c53-4f43-8f0e-6d7a5f3f9b22",
              "assignee_id": None, "department_id": None, "source": "web", "created_at": "2026-01-01T09:00:00+00:00",
              "updated_at": "2026-01-01T09:00:00+00:00", "version": 1}
    actor = {"id": None, "role": "system"}

    validate_data("ticket.created", 1, {"ticket": {**ticket, "required_skills": ["vpn"]}, "actor": actor})
    validate_data("ticket.created", 1, {"ticket": ticket, "actor": actor})  # older producers send none
    with pytest.raises(jsonschema.ValidationError):
        validate_data("ticket.created", 1, {"ticket": {**ticket, "required_skills": "vpn"}, "actor": actor})
    assert "required_skills" not in TICKET_SNAPSHOT["required"]
