"""The input guard: deep JSON, lone surrogates, NUL, huge integers, page offsets and dates out of range are
refused with 400/422 in the envelope on every route, signed in or not, and never reach a service."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from helpdesk_contracts import limits

DEEP = "[" * 1000 + "]" * 1000
TICKETS = "/api/v1/tickets"


@pytest.fixture
def ticket(tickets_service, accounts):
    return tickets_service.add_ticket(accounts["customer"]["id"])


def post_raw(client, path, raw, headers=None, method="post"):
    return getattr(client, method)(path, data=raw, content_type="application/json", headers=headers or {})


def assert_refused(response, status, fake_rpc, field=None):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["success"] is False and body["message"]
    if field is not None:
        assert field in body["errors"], body
    assert [call for call in fake_rpc.calls if call.method != "ping"] == []


# JSON nested too deep: 400 on any JSON route, before authentication ----------------------------------

@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("post", "/api/v1/auth/login", None),
        ("post", "/api/v1/auth/register", None),
        ("post", TICKETS, None),
        ("post", TICKETS, "customer"),
        ("put", "/api/v1/auth/update-profile", "agent"),
        ("post", "/api/v1/categories", "admin"),
        ("post", "/api/v1/tickets/bulk-status", "agent"),
    ],
)
def test_deep_json_is_400_signed_in_or_not(client, auth_headers, fake_rpc, method, path, role):
    headers = auth_headers(role) if role else {}

    response = post_raw(client, path, '{"title": ' + DEEP + "}", headers, method)

    assert_refused(response, 400, fake_rpc)
    assert response.get_json()["message"] == "The request body is nested too deeply (at most 32 levels)."


def test_json_just_past_the_depth_limit_is_400_naming_the_body(client, auth_headers, fake_rpc):
    metadata = "[" * limits.MAX_DEPTH + "]" * limits.MAX_DEPTH  # with the body object: one level too many
    body = '{"title": "t", "description": "d", "metadata": {"k": ' + metadata + "}}"

    response = post_raw(client, TICKETS, body, auth_headers("customer"))

    assert_refused(response, 400, fake_rpc)
    assert next(iter(response.get_json()["errors"])).startswith("metadata.k")


def test_deep_json_on_a_ticket_update_is_400(client, auth_headers, fake_rpc, ticket):
    response = post_raw(client, f"{TICKETS}/{ticket['id']}", DEEP, auth_headers("agent"), "put")

    assert_refused(response, 400, fake_rpc)


def test_json_within_the_depth_limit_reaches_the_service(client, auth_headers, fake_rpc):
    metadata = {"k": [[[1]]]}

    response = client.post(TICKETS, json={"title": "t", "description": "d", "metadata": metadata},
                           headers=auth_headers("agent"))

    assert response.status_code == 201, response.get_json()
    assert fake_rpc.calls_to("tickets", "create")[0].args[0]["metadata"] == metadata


def test_body_that_is_not_json_is_still_400(client, fake_rpc):
    response = post_raw(client, "/api/v1/auth/login", b'{"email": \xff')

    assert_refused(response, 400, fake_rpc)
    assert response.get_json() == {"success": False, "message": "The request body is not valid JSON.", "errors": {}}


# a field's value: 422 naming the field ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "raw", "field", "role"),
    [
        (TICKETS, '{"title": "a\\ud800", "description": "d"}', "title", "customer"),
        (TICKETS, '{"title": "a", "description": "\\udfff"}', "description", "agent"),
        (TICKETS, '{"title": "a\\u0000b", "description": "d"}', "title", "customer"),
        (TICKETS, '{"title": "a", "description": "d", "tags": ["ok", "x\\u0000"]}', "tags.1", "agent"),
        ("/api/v1/auth/login", '{"email": "a\\ud800@example.com", "password": "x"}', "email", None),
        ("/api/v1/auth/register", '{"email": "a@example.com", "name": "N\\u0000", "password": "x"}', "name", None),
        ("/api/v1/categories", '{"name": "\\ud83d"}', "name", "admin"),
    ],
    ids=["surrogate-title", "surrogate-description", "nul-title", "nul-tag", "surrogate-login", "nul-register",
         "surrogate-category"],
)
def test_surrogate_or_nul_in_json_text_is_422_naming_the_field(client, auth_headers, fake_rpc, path, raw, field, role):
    response = post_raw(client, path, raw, auth_headers(role) if role else {})

    assert_refused(response, 422, fake_rpc, field)


def test_nul_in_a_comment_is_422(client, auth_headers, fake_rpc, ticket):
    response = client.post(f"{TICKETS}/{ticket['id']}/comments", json={"body": "hola\x00"},
                           headers=auth_headers("agent"))

    assert_refused(response, 422, fake_rpc, "body")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"title": "a", "description": "d", "metadata": {"n": 9223372036854775808}}', "metadata.n"),
        ('{"title": "a", "description": "d", "metadata": {"n": -9223372036854775809}}', "metadata.n"),
        ('{"title": "a", "description": "d", "metadata": {"n": NaN}}', "metadata.n"),
        ('{"title": "a", "description": "d", "metadata": {"n": 1e999}}', "metadata.n"),
    ],
    ids=["int64-max+1", "int64-min-1", "nan", "infinity"],
)
def test_numbers_a_database_cannot_hold_are_422(client, auth_headers, fake_rpc, raw, field):
    response = post_raw(client, TICKETS, raw, auth_headers("agent"))

    assert_refused(response, 422, fake_rpc, field)


def test_huge_integer_for_a_capacity_is_422(client, auth_headers, fake_rpc, accounts):
    raw = '{"max_concurrent_tickets": ' + "9" * 40 + "}"

    response = post_raw(client, f"/api/v1/users/{accounts['agent']['id']}", raw, auth_headers("admin"), "put")

    assert_refused(response, 422, fake_rpc, "max_concurrent_tickets")


# query strings and forms ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [None, "customer"])
def test_nul_in_a_query_string_is_422_signed_in_or_not(client, auth_headers, fake_rpc, role):
    response = client.get(f"{TICKETS}?q=printer%00", headers=auth_headers(role) if role else {})

    assert_refused(response, 422, fake_rpc, "q")


def test_nul_in_a_search_is_422(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}/search?q=%00", headers=auth_headers("agent"))

    assert_refused(response, 422, fake_rpc, "q")


def _upload(client, headers, ticket_id, filename="screen.png", **form):
    return client.post(
        f"{TICKETS}/{ticket_id}/attachments",
        headers=headers,
        data={"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n"), filename), **form},
        content_type="multipart/form-data",
    )


def test_nul_in_an_upload_file_name_is_422(client, auth_headers, fake_rpc, ticket):
    response = _upload(client, auth_headers("customer"), ticket["id"], filename="screen\x00.png")

    assert_refused(response, 422, fake_rpc, "file")


def test_nul_in_a_form_field_is_422(client, auth_headers, fake_rpc, ticket):
    response = _upload(client, auth_headers("customer"), ticket["id"], comment_id="x\x00")

    assert_refused(response, 422, fake_rpc, "comment_id")


# pages ------------------------------------------------------------------------------------------------

def _single_valued_query_parameters(client):
    """Every (path, parameter) of a GET whose OpenAPI query parameter is not an array."""
    spec = client.get("/api/v1/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if not operation or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"].get("type") != "array":
                found.append((path, parameter["name"]))
    return found


def test_a_single_valued_query_parameter_sent_twice_is_422_on_every_list(client, auth_headers, fake_rpc):
    # werkzeug keeps the first of ?q=a&q=b; the OpenAPI's form style makes it an array the schema refuses
    cases = _single_valued_query_parameters(client)
    assert len(cases) > 20 and (f"{TICKETS}/export", "q") in cases and ("/api/v1/users", "page") in cases

    for path, name in cases:
        response = client.get(f"{path}?{name}=1&{name}=2", headers=auth_headers("admin"))

        assert response.status_code == 422, (path, name, response.get_json())
        assert response.get_json()["errors"][name] == ["Give this parameter once."], (path, name)
    assert [call for call in fake_rpc.calls if call.method != "ping"] == []


def test_list_parameters_may_repeat(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}/export?status=new&status=open&priority=high", headers=auth_headers("agent"))

    assert response.status_code == 200


def test_a_form_field_sent_twice_is_422(client, auth_headers, fake_rpc, ticket):
    response = client.post(
        f"{TICKETS}/{ticket['id']}/attachments",
        headers=auth_headers("customer"),
        data=MultiDict([("file", (io.BytesIO(b"x"), "a.txt")), ("internal", "false"), ("internal", "true")]),
        content_type="multipart/form-data",
    )

    assert_refused(response, 422, fake_rpc, "internal")


@pytest.mark.parametrize("path", [TICKETS, f"{TICKETS}/search?q=vpn&", "/api/v1/users", "/api/v1/departments",
                                  "/api/v1/organizations"])
@pytest.mark.parametrize("page", [limits.PAGE_MAX + 1, 10**30])
def test_page_whose_offset_overflows_64_bits_is_422(client, auth_headers, fake_rpc, path, page):
    separator = "" if path.endswith("&") else "?"

    response = client.get(f"{path}{separator}page={page}&limit=100", headers=auth_headers("admin"))

    assert_refused(response, 422, fake_rpc, "page")


def test_the_last_page_is_served(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}?page={limits.PAGE_MAX}&limit=100", headers=auth_headers("admin"))

    assert response.status_code == 200, response.get_json()
    assert fake_rpc.calls_to("tickets", "list")[0].kwargs["page"] == limits.PAGE_MAX


def test_openapi_declares_the_page_maximum(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    # the list takes an empty value for none (`anyOf: [{maxLength: 0}, rules]`): the rules are the second
    page, limit = (parameters[name]["schema"]["anyOf"][1] for name in ("page", "limit"))

    assert page["maximum"] == limits.PAGE_MAX
    assert limit["maximum"] == limits.PAGE_LIMIT_MAX


# dates ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [TICKETS, f"{TICKETS}/stats", f"{TICKETS}/export", f"{TICKETS}/search"])
@pytest.mark.parametrize(
    ("field", "value"),
    [("created_from", "0001-01-01T00:00:00%2B01:00"), ("created_to", "9999-12-31T23:00:00-05:00")],
    ids=["before-year-1", "after-year-9999"],
)
def test_date_filter_leaving_years_1_to_9999_in_utc_is_422(client, auth_headers, fake_rpc, path, field, value):
    response = client.get(f"{path}?q=vpn&{field}={value}", headers=auth_headers("agent"))

    assert_refused(response, 422, fake_rpc, field)
    assert response.get_json()["errors"][field] == [limits.MOMENT_RANGE]


def test_date_filters_at_the_edges_of_the_range_pass(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}?created_from=0001-01-01&created_to=9999-12-31", headers=auth_headers("agent"))

    assert response.status_code == 200, response.get_json()
    filters = fake_rpc.calls_to("tickets", "list")[0].kwargs["filters"]
    assert filters["created_from"].startswith("0001-01-01") and filters["created_to"].startswith("9999-12-31")


# the hot path -----------------------------------------------------------------------------------------

def test_a_body_is_parsed_once(client, auth_headers, fake_rpc, monkeypatch):
    from webargs import core

    def second_parse(*args, **kwargs):
        raise AssertionError("the body was parsed a second time")

    monkeypatch.setattr(core, "parse_json", second_parse)

    response = client.post(TICKETS, json={"title": "t", "description": "d"}, headers=auth_headers("customer"))

    assert response.status_code == 201, response.get_json()


def test_stats_pass_q_to_the_service(client, auth_headers, fake_rpc):
    response = client.get(f"{TICKETS}/stats?q=vpn", headers=auth_headers("agent"))

    assert response.status_code == 200, response.get_json()
    assert fake_rpc.calls_to("tickets", "stats")[0].kwargs["filters"] == {"q": "vpn"}


def test_valid_unicode_reaches_the_service_unchanged(client, auth_headers, fake_rpc):
    title = "Ñandú 😀 日本語"

    response = client.post(TICKETS, json={"title": title, "description": "d"}, headers=auth_headers("customer"))

    assert response.status_code == 201
    assert fake_rpc.calls_to("tickets", "create")[0].args[0]["title"] == title
    assert uuid.UUID(response.get_json()["data"]["id"])


# any body, any route: never a 500 ---------------------------------------------------------------------

_any_text = st.text(st.characters(exclude_categories=()), max_size=20)  # NUL and lone surrogates included
_any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_any_text, inner, max_size=3),
    max_leaves=20,
)
_ticket_like = st.fixed_dictionaries({"title": _any_text, "description": _any_text},
                                     optional={"metadata": _any_json, "tags": st.lists(_any_text, max_size=3)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_any_json | _ticket_like, route=st.sampled_from(["/api/v1/tickets", "/api/v1/auth/login",
                                                             "/api/v1/categories"]))
def test_any_json_body_is_answered_without_a_500(client, auth_headers, body, route):
    raw = json.dumps(body)  # escapes NUL and lone surrogates as \u0000 and \ud800, as a client would send them

    response = post_raw(client, route, raw, auth_headers("admin"))

    assert response.status_code < 500, response.get_json()
    assert response.get_json()["success"] is (response.status_code < 400)
