"""The OpenAPI states what the request validation enforces: every input string has a maximum length, every
id a uuid format, every closed set an enum, every non-blank string a minimum length, and rules on a whole
body are in the document too. (`make fuzz` then checks the gateway against it with generated requests.)"""

from __future__ import annotations

import pytest
from marshmallow import validate

from gateway.schemas import common
from gateway.schemas.tickets import AssignSchema, CreateTicketSchema, UpdateTicketSchema


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _alternatives(schema):
    # a documented empty-filter alternative (`anyOf: [{maxLength: 0}, rules]`) carries its rules second
    return [s for s in schema.get("anyOf", [schema]) if s.get("maxLength") != 0] or [schema]


def _inputs(spec):
    """Yield (where, name, schema) for every request-body property and query parameter."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    yield where, parameter["name"], parameter["schema"]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                for name, prop in _resolve(spec, body["schema"]).get("properties", {}).items():
                    yield where, name, prop


def _strings(schema):
    for alternative in _alternatives(schema):
        if alternative.get("type") == "array":
            yield from _strings(alternative.get("items", {}))
        elif alternative.get("type") == "string" or "anyOf" in alternative:
            yield alternative


def test_every_input_string_has_a_bound_a_format_or_an_enum(spec):
    loose = [
        f"{where} {name}"
        for where, name, schema in _inputs(spec)
        for string in _strings(schema)
        if not ({"maxLength", "enum", "format", "pattern", "anyOf"} & set(string))
    ]

    assert loose == []


def test_every_id_input_is_a_uuid(spec):
    not_uuid = [
        f"{where} {name}"
        for where, name, schema in _inputs(spec)
        if name.endswith(("_id", "_ids"))
        for string in _strings(schema)
        if string.get("format") != "uuid" and "[0-9a-fA-F]{8}" not in string.get("pattern", "")
    ]

    assert not_uuid == []


def test_non_blank_strings_document_min_length_and_a_non_space_character(spec):
    name = _resolve(spec, spec["components"]["schemas"]["CreateTicket"])["properties"]["title"]

    assert (name["minLength"], name["pattern"], name["maxLength"]) == (1, r"\S", 200)


def test_every_one_of_validator_is_an_enum_in_the_document(spec):
    for schema_cls, field_name in ((CreateTicketSchema, "priority"), (CreateTicketSchema, "source")):
        choices = next(v.choices for v in schema_cls().fields[field_name].validators if isinstance(v, validate.OneOf))
        documented = spec["components"]["schemas"][schema_cls.__name__.removesuffix("Schema")]["properties"][field_name]

        assert documented["enum"] == list(choices)


def test_rules_on_a_whole_body_are_documented(spec):
    schemas = spec["components"]["schemas"]

    assert schemas[UpdateTicketSchema.__name__.removesuffix("Schema")]["minProperties"] == 1
    assert schemas[AssignSchema.__name__.removesuffix("Schema")]["anyOf"] == [
        {"required": ["assignee_id"]}, {"required": ["department_id"]}
    ]


def test_exclusive_minimum_is_documented(spec):
    hours = spec["components"]["schemas"]["CreateDepartment"]["properties"]["default_sla_hours"]

    assert (hours["minimum"], hours["exclusiveMinimum"]) == (0, True)


def test_request_and_answer_share_one_email_rule(spec):
    schemas = spec["components"]["schemas"]

    assert schemas["Register"]["properties"]["email"]["pattern"] == common.EMAIL_PATTERN
    assert schemas["User"]["properties"]["email"]["pattern"] == common.EMAIL_PATTERN


@pytest.mark.parametrize("email", ["ü@example.com", "a@exämple.com", "x" * 65 + "@example.com", "a@localhost"])
def test_an_email_our_answers_could_not_describe_is_422(client, email):
    response = client.post("/api/v1/auth/register", json={"email": email, "name": "A", "password": "Secret-123"})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"email": ["Not a valid email address."]}


@pytest.mark.parametrize("value", ["3", 3.0, True])
def test_a_json_number_given_as_another_type_is_422(client, auth_headers, value):
    response = client.post("/api/v1/users", json={"email": "new@example.com", "name": "N", "password": "Secret-123",
                                                 "max_concurrent_tickets": value}, headers=auth_headers("admin"))

    assert response.status_code == 422
    assert "max_concurrent_tickets" in response.get_json()["errors"]


def test_a_uuid_without_hyphens_is_422(client, auth_headers):
    response = client.get("/api/v1/tickets?requester_id=" + "a" * 32, headers=auth_headers("agent"))

    assert response.status_code == 422
    assert "requester_id" in response.get_json()["errors"]


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield f"{method.upper()} {path}", path, operation


def test_no_operation_has_a_catch_all_answer(spec):
    assert [where for where, _, operation in _operations(spec) if "default" in operation["responses"]] == []


def test_every_operation_documents_the_errors_its_shape_implies(spec):
    missing = []
    for where, path, operation in _operations(spec):
        expected = {"400", "422", "503", "504"}
        expected |= {"401", "403"} if operation.get("security") else set()
        expected |= {"404"} if "{" in path else set()
        expected |= {"413", "415"} if operation.get("requestBody") else set()
        missing += [f"{where} {status}" for status in sorted(expected - set(operation["responses"]))]

    assert missing == []


def test_rate_limited_operations_document_429(spec):
    login = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    me = spec["paths"]["/api/v1/auth/me"]["get"]["responses"]

    assert ("429" in login, "429" in me) == (True, False)


def test_a_name_longer_than_documented_is_422_even_when_its_padding_would_fit(client):
    name = " " * 5 + "n" * common.NAME_MAX

    response = client.post("/api/v1/auth/register", json={"email": "pad@example.com", "name": name,
                                                           "password": "Secret-123"})

    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]
