"""The generated event catalogue (docs/events/): current, reproducible, and consistent with the contract."""

from __future__ import annotations

import ast
from pathlib import Path

import jsonschema
import pytest
import yaml

from helpdesk_contracts import catalogue
from helpdesk_contracts.events import EVENT_TYPES, EventType, validate_envelope

from .conftest import COMMITTED_CATALOGUE, every_event_type, json_blocks, python_blocks

USER_CREATED_V2 = EventType(
    "user.created",
    2,
    "users",
    "A user account was created.",
    {"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "string", "format": "uuid"}}},
)


def _section(readme: str, name: str, version: int) -> str:
    return readme.split(f"### `{name}` v{version}\n", 1)[1].split("\n### ", 1)[0]


@pytest.mark.parametrize("name", [catalogue.ASYNCAPI_FILE, catalogue.README_FILE])
def test_committed_file_matches_generator_when_contract_unchanged(name: str) -> None:
    committed = (COMMITTED_CATALOGUE / name).read_text(encoding="utf-8")

    assert committed == catalogue.render()[name], (
        f"docs/events/{name} is stale: run `python -m helpdesk_contracts.catalogue` and commit the result"
    )


def test_render_is_identical_when_called_twice() -> None:
    assert catalogue.render() == catalogue.render()


def test_check_exits_zero_when_files_are_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalogue.write(tmp_path)

    assert catalogue.main(["--check", "--out", str(tmp_path)]) == 0


def test_check_exits_one_and_names_the_file_when_a_file_is_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue.write(tmp_path)
    readme = tmp_path / catalogue.README_FILE
    readme.write_text(readme.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")

    status = catalogue.main(["--check", "--out", str(tmp_path)])

    assert status == 1
    assert catalogue.README_FILE in capsys.readouterr().err


def test_check_exits_one_when_a_file_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalogue.write(tmp_path)
    (tmp_path / catalogue.ASYNCAPI_FILE).unlink()

    assert catalogue.main(["--check", "--out", str(tmp_path)]) == 1


def test_generate_writes_every_file_when_out_dir_is_new(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs" / "events"

    catalogue.main(["--out", str(out)])

    assert sorted(p.name for p in out.iterdir()) == sorted(catalogue.render())


def test_example_of_a_new_type_validates_when_it_is_registered() -> None:
    spec = EventType(
        "widget.published",
        2,
        "tickets",
        "A test-only type using every schema feature the generator supports.",
        {
            "type": "object",
            "required": ["widget", "tags", "at", "on", "contact", "link", "score", "kind", "note", "gone"],
            "properties": {
                "widget": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}},
                "tags": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}},
                },
                "at": {"type": "string", "format": "date-time"},
                "on": {"type": "string", "format": "date"},
                "contact": {"type": "string", "format": "email"},
                "link": {"type": "string", "format": "uri"},
                "score": {"type": ["number", "null"], "minimum": 0},
                "kind": {"const": "fixed"},
                "note": {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
                "gone": {"type": "null"},
            },
        },
    )
    envelope = catalogue.example_envelope(spec)

    jsonschema.validate(envelope, catalogue.message_schema(spec), format_checker=jsonschema.FormatChecker())


# --- example values --------------------------------------------------------------------------------------------


def test_example_value_is_first_enum_member_when_schema_is_an_enum() -> None:
    assert catalogue.example_value({"enum": ["online", "away"]}) == "online"


def test_example_value_is_a_uuid_when_format_is_uuid() -> None:
    value = catalogue.example_value({"type": "string", "format": "uuid"}, "user/id")

    assert jsonschema.FormatChecker().conforms(value, "uuid")


def test_example_value_is_the_same_uuid_when_field_path_is_the_same() -> None:
    schema = {"type": "string", "format": "uuid"}

    assert catalogue.example_value(schema, "user/id") == catalogue.example_value(schema, "user/id")


def test_example_value_is_an_aware_timestamp_when_format_is_date_time() -> None:
    value = catalogue.example_value({"type": "string", "format": "date-time"})

    assert value.endswith("+00:00")


def test_example_value_is_an_address_when_format_is_email() -> None:
    assert "@" in catalogue.example_value({"type": "string", "format": "email"}, "user/contact")


def test_example_value_is_not_null_when_null_is_only_an_alternative() -> None:
    assert catalogue.example_value({"type": ["string", "null"], "format": "uuid"}, "x/id") is not None


def test_example_value_prefers_schema_examples_when_given() -> None:
    assert catalogue.example_value({"type": "string", "examples": ["billing"]}) == "billing"


def test_example_value_refuses_ref_when_schema_uses_one() -> None:
    with pytest.raises(ValueError, match=r"\$ref"):
        catalogue.example_value({"$ref": "#/definitions/user"}, "data/user")


# --- the readable catalogue ------------------------------------------------------------------------------------


@every_event_type
def test_readme_example_validates_when_read_back(spec: EventType, readme_examples: dict) -> None:
    example = readme_examples[(spec.name, spec.version)]

    validate_envelope(example)


def test_readme_has_one_example_per_registered_type_version(catalogue_readme: str) -> None:
    examples = json_blocks(catalogue_readme)

    assert sorted((e["type"], e["version"]) for e in examples) == sorted((s.name, s.version) for s in EVENT_TYPES)


@every_event_type
def test_readme_section_names_exchange_and_routing_key(spec: EventType, catalogue_readme: str) -> None:
    section = _section(catalogue_readme, spec.name, spec.version)

    assert f"| exchange | `{spec.exchange}` (topic, durable) |" in section
    assert f"| routing key | `{spec.name}` |" in section


def test_readme_marks_old_version_superseded_when_a_newer_one_exists() -> None:
    readme = catalogue.render_readme([*EVENT_TYPES, USER_CREATED_V2])

    assert "Superseded by v2" in _section(readme, "user.created", 1)
    assert "Superseded" not in _section(readme, "user.created", 2)


def test_readme_field_table_lists_nested_fields_with_dotted_paths(catalogue_readme: str) -> None:
    assert "| `user.email` | string (email) | yes |" in catalogue_readme


def test_readme_python_examples_compile(catalogue_readme: str) -> None:
    blocks = python_blocks(catalogue_readme)

    assert len(blocks) == 2  # kombu and nameko
    for source in blocks:
        ast.parse(source)


def test_data_fields_marks_optional_field_when_not_required() -> None:
    rows = catalogue.data_fields({"type": "object", "required": ["a"], "properties": {"a": {}, "b": {}}})

    assert [(row.path, row.required) for row in rows] == [("a", True), ("b", False)]


def test_describe_type_lists_alternatives_when_nullable() -> None:
    assert catalogue.describe_type({"type": ["string", "null"], "format": "uuid"}) == "string (uuid) or null"


# --- the AsyncAPI document -------------------------------------------------------------------------------------


def test_asyncapi_declares_version_3(asyncapi: dict) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"


def test_asyncapi_declares_local_rabbitmq_server(asyncapi: dict) -> None:
    server = asyncapi["servers"]["rabbitmq"]

    assert (server["protocol"], server["host"]) == ("amqp", "localhost:5672")
    assert "amqp://localhost:5672" in server["description"]


def test_asyncapi_has_one_channel_per_event_type(asyncapi: dict) -> None:
    assert set(asyncapi["channels"]) == {spec.name for spec in EVENT_TYPES}


def test_asyncapi_has_one_message_per_type_version(asyncapi: dict) -> None:
    assert set(asyncapi["components"]["messages"]) == {f"{s.name}.v{s.version}" for s in EVENT_TYPES}


@every_event_type
def test_asyncapi_channel_binds_producer_topic_exchange(spec: EventType, asyncapi: dict) -> None:
    binding = asyncapi["channels"][spec.name]["bindings"]["amqp"]

    assert binding["is"] == "routingKey"
    assert binding["exchange"] == {
        "name": spec.exchange,
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": "/",
    }


@every_event_type
def test_asyncapi_channel_address_is_the_routing_key(spec: EventType, asyncapi: dict) -> None:
    assert asyncapi["channels"][spec.name]["address"] == spec.name


@every_event_type
def test_asyncapi_receive_operation_references_the_message(spec: EventType, asyncapi: dict) -> None:
    operation = asyncapi["operations"][catalogue.operation_id(spec.name)]

    assert operation["action"] == "receive"
    assert operation["channel"] == {"$ref": f"#/channels/{spec.name}"}
    assert {"$ref": f"#/channels/{spec.name}/messages/{spec.name}.v{spec.version}"} in operation["messages"]


@every_event_type
def test_asyncapi_payload_fixes_type_and_version(spec: EventType, asyncapi: dict) -> None:
    properties = asyncapi["components"]["messages"][f"{spec.name}.v{spec.version}"]["payload"]["properties"]

    assert (properties["type"]["const"], properties["version"]["const"]) == (spec.name, spec.version)


@every_event_type
def test_asyncapi_payload_data_is_the_registered_schema(spec: EventType, asyncapi: dict) -> None:
    data = asyncapi["components"]["messages"][f"{spec.name}.v{spec.version}"]["payload"]["properties"]["data"]

    assert data["properties"] == spec.data_schema["properties"]
    assert data["required"] == spec.data_schema["required"]


@every_event_type
def test_asyncapi_example_validates_against_payload_and_contract(spec: EventType, asyncapi: dict) -> None:
    message = asyncapi["components"]["messages"][f"{spec.name}.v{spec.version}"]
    example = message["examples"][0]["payload"]

    jsonschema.validate(example, message["payload"], format_checker=jsonschema.FormatChecker())
    validate_envelope(example)


def test_asyncapi_channel_lists_every_version_when_a_type_has_two() -> None:
    document = catalogue.asyncapi_document([*EVENT_TYPES, USER_CREATED_V2])

    assert set(document["channels"]["user.created"]["messages"]) == {"user.created.v1", "user.created.v2"}


def test_asyncapi_payload_rejects_envelope_of_another_type(asyncapi: dict, valid_envelope: dict) -> None:
    other = next(s for s in EVENT_TYPES if s.name != valid_envelope["type"])
    payload = asyncapi["components"]["messages"][f"{other.name}.v{other.version}"]["payload"]

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(valid_envelope, payload)


def test_asyncapi_yaml_writes_shared_schemas_without_aliases() -> None:
    # the contract reuses sub-schema objects; YAML anchors would make the file hard to read and diff
    text = catalogue.render_asyncapi()

    assert yaml.safe_load(text) == catalogue.asyncapi_document()
    assert "&id" not in text and "*id" not in text
