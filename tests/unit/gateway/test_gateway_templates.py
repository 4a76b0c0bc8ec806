"""``/api/v1/automation/templates``: response templates through the gateway, on the automation service's own
handlers (the fake runs them in memory): roles, the caller passed as ``actor``, the envelope, pagination,
409 on a name taken in other capitals, 422 on a body with an unknown variable, template code or a syntax
error, 404, the creator-or-manager rule on changes, and rendering."""

from __future__ import annotations

import uuid

import pytest

TEMPLATES = "/api/v1/automation/templates"
STAFF = ("agent", "supervisor", "admin")
BODY = "Hello {{ requester.name }}, about {{ ticket.number }}. {{ agent.name }}"
CONTEXT = {"ticket": {"number": "TKT-000042"}, "requester": {"name": "Rita"}, "agent": {"name": "Alex"}}


def _actor(user):
    return {"id": user["id"], "role": user["role"], "department_id": user["department_id"],
            "organization_id": user["organization_id"], "via": "gateway"}


def _calls(fake_rpc):
    return [call for call in fake_rpc.calls if call.service == "automation"]


@pytest.fixture
def create(client, auth_headers):
    """Create a template through the API as ``role``; answer its data."""

    def make(role="agent", **fields):
        payload = {"name": f"Template {uuid.uuid4().hex[:6]}", "body": BODY, **fields}
        response = client.post(TEMPLATES, json=payload, headers=auth_headers(role))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]

    return make


def _routes(template_id):
    item = f"{TEMPLATES}/{template_id}"
    return [("get", TEMPLATES, None), ("post", TEMPLATES, {"name": "x", "body": "x"}), ("get", item, None),
            ("put", item, {"name": "y"}), ("delete", item, None), ("post", f"{item}/render", {"context": CONTEXT})]


# -- roles ------------------------------------------------------------------------------------------------


def test_every_route_refuses_a_customer_with_403_without_calling_the_service(client, auth_headers, fake_rpc):
    for method, path, payload in _routes(uuid.uuid4()):
        response = getattr(client, method)(path, json=payload, headers=auth_headers("customer"))

        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["success"] is False
    assert _calls(fake_rpc) == []


def test_every_route_wants_a_token(client, fake_rpc):
    for method, path, payload in _routes(uuid.uuid4()):
        response = getattr(client, method)(path, json=payload)

        assert response.status_code == 401, (method, path)
    assert _calls(fake_rpc) == []


@pytest.mark.parametrize("role", STAFF)
def test_staff_create_read_list_and_render(client, auth_headers, accounts, fake_rpc, role):
    headers = auth_headers(role)

    response = client.post(TEMPLATES, json={"name": " Greeting ", "category": "Openers", "body": BODY},
                           headers=headers)

    body = response.get_json()
    assert response.status_code == 201, body
    created = body["data"]
    assert (body["success"], body["message"]) == (True, "Template created.")
    assert response.headers["Location"].endswith(f"{TEMPLATES}/{created['id']}")
    assert {k: created[k] for k in ("name", "category", "body", "created_by")} == {
        "name": "Greeting", "category": "Openers", "body": BODY, "created_by": accounts[role]["id"]}
    call = fake_rpc.calls_to("automation", "create_template")[0]
    assert call.args == ({"name": "Greeting", "category": "Openers", "body": BODY},)
    assert call.kwargs == {"actor": _actor(accounts[role])}

    got = client.get(f"{TEMPLATES}/{created['id']}", headers=headers)
    listed = client.get(TEMPLATES, headers=headers)
    rendered = client.post(f"{TEMPLATES}/{created['id']}/render", json={"context": CONTEXT}, headers=headers)

    assert got.status_code == 200 and got.get_json()["data"] == created
    assert listed.get_json()["data"]["items"] == [created]
    assert rendered.status_code == 200, rendered.get_json()
    assert rendered.get_json()["data"] == {"body": "Hello Rita, about TKT-000042. Alex"}
    assert fake_rpc.calls_to("automation", "get_template")[0].args == (created["id"],)
    assert fake_rpc.calls_to("automation", "get_template")[0].kwargs == {"actor": _actor(accounts[role])}
    assert fake_rpc.calls_to("automation", "list_templates")[0].kwargs == {
        "actor": _actor(accounts[role]), "page": 1, "limit": 20}
    assert fake_rpc.calls_to("automation", "render_template")[0].args == (created["id"], CONTEXT)


def test_the_list_is_paginated_by_name(client, auth_headers, create):
    for name in ("Zebra", "Alpha", "Mango"):
        create(name=name)

    response = client.get(f"{TEMPLATES}?page=2&limit=2", headers=auth_headers("supervisor"))

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert [t["name"] for t in data["items"]] == ["Zebra"]
    assert data["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2, "total_exact": True}


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "page=0", "page=x"])
def test_a_bad_page_is_422_before_the_service(client, auth_headers, fake_rpc, query):
    response = client.get(f"{TEMPLATES}?{query}", headers=auth_headers("agent"))

    assert response.status_code == 422
    assert _calls(fake_rpc) == []


# -- who changes and deletes ------------------------------------------------------------------------------


def test_another_agent_may_not_change_or_delete_a_template_403(client, auth_headers, accounts, users_service,
                                                                create):
    created = create("agent")
    other = users_service.add_user(email="other@example.com", password="Corr3ct-horse", role="agent",
                                   name="Other Agent")
    headers = auth_headers(other)

    changed = client.put(f"{TEMPLATES}/{created['id']}", json={"name": "Mine now"}, headers=headers)
    deleted = client.delete(f"{TEMPLATES}/{created['id']}", headers=headers)

    assert (changed.status_code, deleted.status_code) == (403, 403)
    assert changed.get_json()["success"] is False
    assert client.get(f"{TEMPLATES}/{created['id']}", headers=headers).get_json()["data"]["name"] == created["name"]


def test_its_creator_changes_it(client, auth_headers, accounts, fake_rpc, create):
    created = create("agent")

    response = client.put(f"{TEMPLATES}/{created['id']}", json={"body": "Hi {{ agent.name }}", "category": None},
                          headers=auth_headers("agent"))

    body = response.get_json()
    assert response.status_code == 200, body
    assert body["message"] == "Template updated."
    assert (body["data"]["body"], body["data"]["category"]) == ("Hi {{ agent.name }}", None)
    call = fake_rpc.calls_to("automation", "update_template")[0]
    assert call.args == (created["id"], {"body": "Hi {{ agent.name }}", "category": None})
    assert call.kwargs == {"actor": _actor(accounts["agent"])}


@pytest.mark.parametrize("manager", ["supervisor", "admin"])
def test_managers_change_and_delete_an_agents_template(client, auth_headers, create, manager):
    created = create("agent")
    headers = auth_headers(manager)

    changed = client.put(f"{TEMPLATES}/{created['id']}", json={"name": "Renamed"}, headers=headers)
    deleted = client.delete(f"{TEMPLATES}/{created['id']}", headers=headers)

    assert changed.status_code == 200 and changed.get_json()["data"]["name"] == "Renamed"
    assert deleted.status_code == 200 and deleted.get_json() == {"success": True, "data": None,
                                                                  "message": "Template deleted."}
    assert client.get(f"{TEMPLATES}/{created['id']}", headers=headers).status_code == 404


# -- unique names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [("Écho rapide", "écho RAPIDE"), ("Refund", "REFUND")])
def test_a_name_taken_in_other_capitals_is_409(client, auth_headers, create, first, second):
    create(name=first)

    response = client.post(TEMPLATES, json={"name": second, "body": "x"}, headers=auth_headers("admin"))

    body = response.get_json()
    assert response.status_code == 409, body
    assert body["errors"] == {"name": ["Already taken."]}


def test_renaming_onto_a_taken_name_is_409(client, auth_headers, create):
    create(name="Équipe")
    other = create(name="Other")

    response = client.put(f"{TEMPLATES}/{other['id']}", json={"name": "ÉQUIPE"}, headers=auth_headers("agent"))

    assert response.status_code == 409


# -- the body's rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "message"), [
    ("Dear {{ ticket.foo }}", "Unknown variable ticket.foo; allowed: ticket.number, ticket.title, "),
    ("{{ requester.name|upper }}", "Only variables like {{ ticket.number }} are allowed."),
    ("{% for t in ticket %}{{ t }}{% endfor %}", "Only variables like {{ ticket.number }} are allowed."),
    ("{{ lipsum() }}", "Only variables like {{ ticket.number }} are allowed."),
    ("{{ ticket.number ", "Line 1: unexpected end of template"),
])
def test_a_body_with_anything_but_text_and_allowed_variables_is_422_naming_body(client, auth_headers, create,
                                                                               template, message):
    created = create()
    headers = auth_headers("agent")

    on_create = client.post(TEMPLATES, json={"name": "Bad", "body": template}, headers=headers)
    on_update = client.put(f"{TEMPLATES}/{created['id']}", json={"body": template}, headers=headers)

    for response in (on_create, on_update):
        body = response.get_json()
        assert response.status_code == 422, body
        assert list(body["errors"]) == ["body"]
        assert body["errors"]["body"][0].startswith(message)


@pytest.mark.parametrize(("payload", "field"), [
    ({"name": "x", "body": "   "}, "body"),
    ({"name": "x", "body": "x" * 20001}, "body"),
    ({"name": "x"}, "body"),
    ({"name": " ", "body": "x"}, "name"),
    ({"name": "x", "body": "x", "category": "c" * 101}, "category"),
    ({"name": "x", "body": "x", "created_by": str(uuid.uuid4())}, "created_by"),
    ({"name": "x", "body": 5}, "body"),
])
def test_a_malformed_template_is_422_before_the_service(client, auth_headers, fake_rpc, payload, field):
    response = client.post(TEMPLATES, json=payload, headers=auth_headers("agent"))

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert _calls(fake_rpc) == []


def test_an_empty_change_is_422(client, auth_headers, fake_rpc, create):
    created = create()

    response = client.put(f"{TEMPLATES}/{created['id']}", json={}, headers=auth_headers("agent"))

    assert response.status_code == 422
    assert not fake_rpc.calls_to("automation", "update_template")


# -- not found --------------------------------------------------------------------------------------------


def test_an_unknown_template_is_404(client, auth_headers):
    for method, path, payload in _routes(uuid.uuid4())[2:]:
        response = getattr(client, method)(path, json=payload, headers=auth_headers("admin"))

        assert response.status_code == 404, (method, path, response.get_json())
        assert response.get_json()["message"] == "Response template not found."


def test_a_malformed_id_is_404_before_the_service(client, auth_headers, fake_rpc):
    response = client.get(f"{TEMPLATES}/not-a-uuid", headers=auth_headers("agent"))

    assert response.status_code == 404
    assert _calls(fake_rpc) == []


# -- rendering --------------------------------------------------------------------------------------------


def test_rendering_without_a_value_the_template_uses_is_422_naming_context(client, auth_headers, create):
    created = create()

    response = client.post(f"{TEMPLATES}/{created['id']}/render",
                           json={"context": {"ticket": {"number": "TKT-1"}, "agent": {"name": "A"}}},
                           headers=auth_headers("agent"))

    body = response.get_json()
    assert response.status_code == 422, body
    assert body["errors"] == {"context": ["No value for requester.name."]}


def test_null_renders_as_nothing_and_other_values_are_ignored(client, auth_headers, create):
    created = create(body="[{{ ticket.category }}]")

    response = client.post(f"{TEMPLATES}/{created['id']}/render",
                           json={"context": {"ticket": {"category": None, "title": "x"}, "extra": {}}},
                           headers=auth_headers("agent"))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"] == {"body": "[]"}


@pytest.mark.parametrize("payload", [{}, {"context": "x"}, {"context": {"ticket": "x"}},
                                     {"context": {"ticket": {"number": 5}}}, {"context": {}, "other": 1}])
def test_a_malformed_render_request_is_422_before_the_service(client, auth_headers, fake_rpc, payload):
    response = client.post(f"{TEMPLATES}/{uuid.uuid4()}/render", json=payload, headers=auth_headers("agent"))

    assert response.status_code == 422, response.get_json()
    assert _calls(fake_rpc) == []


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    assert set(paths[TEMPLATES]) >= {"get", "post"}
    assert set(paths[f"{TEMPLATES}/{{template_id}}"]) >= {"get", "put", "delete"}
    render = paths[f"{TEMPLATES}/{{template_id}}/render"]["post"]
    assert {"200", "401", "403", "404", "422"} <= set(render["responses"])


def test_a_template_renders_for_a_ticket_the_caller_may_see(client, auth_headers, accounts, create, tickets_service):
    created = create(body="{{ ticket.number }} for {{ requester.name }} by {{ agent.name }}")
    customer = accounts["customer"]
    unrouted = tickets_service.add_ticket(customer["id"])
    elsewhere = tickets_service.add_ticket(customer["id"], department_id=str(uuid.uuid4()))

    ok = client.post(f"{TEMPLATES}/{created['id']}/render", json={"ticket_id": unrouted["id"]},
                     headers=auth_headers("agent"))
    hidden = client.post(f"{TEMPLATES}/{created['id']}/render", json={"ticket_id": elsewhere["id"]},
                         headers=auth_headers("agent"))

    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["data"]["body"] == (
        f"{unrouted['number']} for {customer['name']} by {accounts['agent']['name']}")
    assert hidden.status_code == 404, hidden.get_json()  # not the agent's department: not theirs to read
