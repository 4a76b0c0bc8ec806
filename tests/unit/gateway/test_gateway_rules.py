"""``/api/v1/automation/rules``, ``/automation/test`` and ``/automation/rule-runs``: automation rules through the
gateway, on the automation service's own handlers (the fake runs them in memory): roles (customers and agents
refused at the gateway, supervisors read, admins write), the caller passed as ``actor``, the envelope,
pagination in run order, 409 on a taken name, 404, the service's 422s naming the path inside the JSON, the
shapes refused before the service, toggling with and without a body, the dry run, the runs list, and the
OpenAPI document (routes, documented roles, vocabulary)."""

from __future__ import annotations

import re
import uuid

import pytest

from gateway.idempotency import HEADER as IDEMPOTENCY_HEADER
from helpdesk_contracts.vocabulary import RULE_ACTIONS, RULE_FIELDS, RULE_OPERATORS, RULE_TRIGGERS

AUTOMATION = "/api/v1/automation"
RULES = f"{AUTOMATION}/rules"
TEST = f"{AUTOMATION}/test"
RUNS = f"{AUTOMATION}/rule-runs"
ROLES = ("customer", "agent", "supervisor", "admin")
URGENT = {"all": [{"field": "priority", "operator": "equals", "value": "urgent"}]}
TAG_VIP = [{"type": "add_tag", "tag": "vip"}]
RULE = {"name": "Tag urgent tickets", "triggers": ["ticket.created"], "conditions": URGENT, "actions": TAG_VIP}


def _actor(user):
    return {"id": user["id"], "role": user["role"], "department_id": user["department_id"],
            "organization_id": user["organization_id"], "via": "gateway"}


def _calls(fake_rpc):
    return [call for call in fake_rpc.calls if call.service == "automation"]


@pytest.fixture
def create(client, auth_headers):
    """Create a rule through the API as an admin; answer its data."""

    def make(**fields):
        payload = {**RULE, "name": f"Rule {uuid.uuid4().hex[:6]}", **fields}
        response = client.post(RULES, json=payload, headers=auth_headers("admin"))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]

    return make


def _routes(rule_id):
    item = f"{RULES}/{rule_id}"
    return [("get", RULES, None), ("post", RULES, RULE), ("get", item, None), ("put", item, {"name": "y"}),
            ("delete", item, None), ("patch", f"{item}/toggle", {}),
            ("post", TEST, {"ticket": {"priority": "urgent"}}), ("get", RUNS, None)]


def _writes(rule_id):
    return [route for route in _routes(rule_id) if route[0] != "get" and route[1] != TEST]


# -- roles ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_every_route_refuses_customers_and_agents_with_403_without_calling_the_service(client, auth_headers,
                                                                                       fake_rpc, role):
    for method, path, payload in _routes(uuid.uuid4()):
        response = getattr(client, method)(path, json=payload, headers=auth_headers(role))

        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["success"] is False
    assert _calls(fake_rpc) == []


def test_every_route_wants_a_token(client, fake_rpc):
    for method, path, payload in _routes(uuid.uuid4()):
        response = getattr(client, method)(path, json=payload)

        assert response.status_code == 401, (method, path)
    assert _calls(fake_rpc) == []


def test_a_supervisor_reads_tries_and_sees_runs(client, auth_headers, accounts, fake_rpc, create):
    created = create()
    headers = auth_headers("supervisor")

    listed = client.get(RULES, headers=headers)
    got = client.get(f"{RULES}/{created['id']}", headers=headers)
    tried = client.post(TEST, json={"ticket": {"priority": "urgent"}}, headers=headers)
    runs = client.get(RUNS, headers=headers)

    assert [r.status_code for r in (listed, got, tried, runs)] == [200, 200, 200, 200]
    assert listed.get_json()["data"]["items"] == [created]
    assert got.get_json()["data"] == created
    assert tried.get_json()["data"]["matched"] == [created["id"]]
    assert runs.get_json()["data"]["items"] == []
    for method in ("list_rules", "get_rule", "test_rules", "list_rule_runs"):
        call = fake_rpc.calls_to("automation", method)[0]
        assert _actor(accounts["supervisor"]) in (*call.args, *call.kwargs.values()), method


def test_a_supervisor_may_not_write_403_without_calling_the_service(client, auth_headers, fake_rpc, create):
    created = create()
    before = len(_calls(fake_rpc))

    for method, path, payload in _writes(created["id"]):
        response = getattr(client, method)(path, json=payload, headers=auth_headers("supervisor"))

        assert response.status_code == 403, (method, path, response.get_json())
    assert len(_calls(fake_rpc)) == before


# -- create, read, list -----------------------------------------------------------------------------------


def test_an_admin_creates_a_rule(client, auth_headers, accounts, fake_rpc):
    response = client.post(RULES, json={**RULE, "name": "  VIP tagging ", "description": "Urgent ones."},
                           headers=auth_headers("admin"))

    body = response.get_json()
    assert response.status_code == 201, body
    created = body["data"]
    assert (body["success"], body["message"]) == (True, "Rule created.")
    assert response.headers["Location"].endswith(f"{RULES}/{created['id']}")
    assert {k: created[k] for k in ("name", "description", "triggers", "conditions", "actions", "enabled",
                                    "created_by")} == {
        "name": "VIP tagging", "description": "Urgent ones.", "triggers": ["ticket.created"], "conditions": URGENT,
        "actions": TAG_VIP, "enabled": True, "created_by": accounts["admin"]["id"]}
    assert isinstance(created["position"], int)
    call = fake_rpc.calls_to("automation", "create_rule")[0]
    assert call.args == ({**RULE, "name": "VIP tagging", "description": "Urgent ones."},)
    assert call.kwargs == {"actor": _actor(accounts["admin"])}


def test_a_rule_without_conditions_always_matches(client, auth_headers):
    response = client.post(RULES, json={"name": "Everything", "triggers": ["ticket.updated"], "actions": TAG_VIP,
                                        "enabled": False, "position": 5}, headers=auth_headers("admin"))

    created = response.get_json()["data"]
    assert response.status_code == 201, response.get_json()
    assert (created["conditions"], created["enabled"], created["position"]) == ({"all": []}, False, 5)


def test_the_list_is_in_run_order_and_paginated(client, auth_headers, fake_rpc, create):
    for name, position in (("Zebra", 1), ("Alpha", 30), ("Mango", 20)):
        create(name=name, position=position)

    first = client.get(f"{RULES}?limit=2", headers=auth_headers("supervisor"))
    second = client.get(f"{RULES}?page=2&limit=2", headers=auth_headers("supervisor"))

    assert [r["name"] for r in first.get_json()["data"]["items"]] == ["Zebra", "Mango"]
    assert [r["name"] for r in second.get_json()["data"]["items"]] == ["Alpha"]
    assert second.get_json()["data"]["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2,
                                                       "total_exact": True}
    assert fake_rpc.calls_to("automation", "list_rules")[-1].kwargs["page"] == 2


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "page=0", "page=x"])
def test_a_bad_page_is_422_before_the_service(client, auth_headers, fake_rpc, query):
    for path in (RULES, RUNS):
        response = client.get(f"{path}?{query}", headers=auth_headers("supervisor"))

        assert response.status_code == 422, path
    assert _calls(fake_rpc) == []


def test_a_name_taken_in_other_capitals_is_409(client, auth_headers, create):
    create(name="Escalate VIPs")
    other = create(name="Other")

    created = client.post(RULES, json={**RULE, "name": "ESCALATE vips"}, headers=auth_headers("admin"))
    renamed = client.put(f"{RULES}/{other['id']}", json={"name": "escalate VIPS"}, headers=auth_headers("admin"))

    assert (created.status_code, renamed.status_code) == (409, 409)
    assert created.get_json()["errors"] == {"name": ["Already taken."]}


# -- change, delete ---------------------------------------------------------------------------------------


def test_an_admin_changes_part_of_a_rule(client, auth_headers, accounts, fake_rpc, create):
    created = create()
    changes = {"actions": [{"type": "set_priority", "priority": "high"}], "description": None}

    response = client.put(f"{RULES}/{created['id']}", json=changes, headers=auth_headers("admin"))

    body = response.get_json()
    assert response.status_code == 200, body
    assert body["message"] == "Rule updated."
    assert body["data"]["actions"] == changes["actions"]
    assert (body["data"]["name"], body["data"]["conditions"]) == (created["name"], URGENT)
    call = fake_rpc.calls_to("automation", "update_rule")[0]
    assert call.args == (created["id"], changes)
    assert call.kwargs == {"actor": _actor(accounts["admin"])}


def test_an_empty_change_is_422_before_the_service(client, auth_headers, fake_rpc, create):
    created = create()

    response = client.put(f"{RULES}/{created['id']}", json={}, headers=auth_headers("admin"))

    assert response.status_code == 422
    assert not fake_rpc.calls_to("automation", "update_rule")


def test_an_admin_deletes_a_rule(client, auth_headers, fake_rpc, create):
    created = create()

    response = client.delete(f"{RULES}/{created['id']}", headers=auth_headers("admin"))

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": None, "message": "Rule deleted."}
    assert fake_rpc.calls_to("automation", "delete_rule")[0].args == (created["id"],)
    assert client.get(f"{RULES}/{created['id']}", headers=auth_headers("admin")).status_code == 404


# -- not found --------------------------------------------------------------------------------------------


def test_an_unknown_rule_is_404(client, auth_headers):
    for method, path, payload in _routes(uuid.uuid4())[2:6]:
        response = getattr(client, method)(path, json=payload, headers=auth_headers("admin"))

        assert response.status_code == 404, (method, path, response.get_json())
        assert response.get_json()["message"] == "Automation rule not found."


def test_a_malformed_rule_id_is_404_before_the_service(client, auth_headers, fake_rpc):
    for method in ("get", "put", "delete"):
        response = getattr(client, method)(f"{RULES}/not-a-uuid", json={"name": "x"}, headers=auth_headers("admin"))

        assert response.status_code == 404
    assert client.patch(f"{RULES}/not-a-uuid/toggle", headers=auth_headers("admin")).status_code == 404
    assert _calls(fake_rpc) == []


# -- what the service checks: 422 naming the path inside the JSON --------------------------------------------


@pytest.mark.parametrize(("changes", "errors"), [
    ({"conditions": {"all": [URGENT["all"][0], {"field": "priority", "operator": "sounds_like", "value": "x"}]}},
     ["conditions.all.1.operator"]),
    ({"conditions": {"any": [{"field": "colour", "operator": "equals", "value": "red"}]}}, ["conditions.any.0.field"]),
    ({"conditions": {"all": [{"field": "priority", "operator": "equals", "value": "soon"}]}},
     ["conditions.all.0.value"]),
    ({"actions": [{"type": "assign_agent", "agent_id": str(uuid.uuid4())}]}, ["actions.0.agent_id"]),
    ({"actions": [TAG_VIP[0], {"type": "launch_rocket"}]}, ["actions.1.type"]),
    ({"actions": [{"type": "set_priority"}]}, ["actions.0.priority"]),
    ({"actions": [{"type": "assign_department", "department_id": str(uuid.uuid4())}]}, ["actions.0.department_id"]),
])
def test_the_services_422_names_the_path_of_each_problem(client, auth_headers, create, changes, errors):
    created = create()
    headers = auth_headers("admin")

    on_create = client.post(RULES, json={**RULE, "name": "Bad", **changes}, headers=headers)
    on_update = client.put(f"{RULES}/{created['id']}", json=changes, headers=headers)

    for response in (on_create, on_update):
        body = response.get_json()
        assert response.status_code == 422, body
        assert body["success"] is False
        assert list(body["errors"]) == errors
        assert body["message"].startswith(f"{errors[0]}: ")


def test_an_action_naming_an_active_agent_is_taken(client, auth_headers, accounts):
    actions = [{"type": "assign_agent", "agent_id": accounts["agent"]["id"]}]

    response = client.post(RULES, json={**RULE, "actions": actions}, headers=auth_headers("admin"))

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["data"]["actions"] == actions


# -- shapes refused before the service ----------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": " "}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"description": "d" * 2001}, "description"),
    ({"triggers": []}, "triggers"),
    ({"triggers": "ticket.created"}, "triggers"),
    ({"triggers": ["ticket.exploded"]}, "triggers.0"),
    ({"triggers": [3]}, "triggers.0"),
    ({"conditions": [URGENT]}, "conditions"),
    ({"conditions": "priority = urgent"}, "conditions"),
    ({"actions": []}, "actions"),
    ({"actions": TAG_VIP * 21}, "actions"),
    ({"actions": ["add_tag"]}, "actions.0"),
    ({"actions": None}, "actions"),
    ({"enabled": "yes"}, "enabled"),
    ({"enabled": 1}, "enabled"),
    ({"position": -1}, "position"),
    ({"position": 1_000_001}, "position"),
    ({"position": "3"}, "position"),
    ({"position": 2.5}, "position"),
    ({"created_by": str(uuid.uuid4())}, "created_by"),
])
def test_a_malformed_rule_is_422_before_the_service(client, auth_headers, fake_rpc, changes, field):
    headers = auth_headers("admin")
    rule_id = uuid.uuid4()

    on_create = client.post(RULES, json={**RULE, **changes}, headers=headers)
    on_update = client.put(f"{RULES}/{rule_id}", json=changes, headers=headers)

    for response in (on_create, on_update):
        assert response.status_code == 422, response.get_json()
        assert field in response.get_json()["errors"], response.get_json()
    assert _calls(fake_rpc) == []


@pytest.mark.parametrize("missing", ["name", "triggers", "actions"])
def test_a_rule_without_a_required_field_is_422_before_the_service(client, auth_headers, fake_rpc, missing):
    payload = {key: value for key, value in RULE.items() if key != missing}

    response = client.post(RULES, json=payload, headers=auth_headers("admin"))

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [missing]
    assert _calls(fake_rpc) == []


# -- toggle ---------------------------------------------------------------------------------------------------


def test_toggling_without_a_body_flips_the_rule(client, auth_headers, accounts, fake_rpc, create):
    created = create()
    headers = auth_headers("admin")

    off = client.patch(f"{RULES}/{created['id']}/toggle", headers=headers)
    on = client.patch(f"{RULES}/{created['id']}/toggle", json={}, headers=headers)

    assert (off.status_code, on.status_code) == (200, 200)
    assert (off.get_json()["data"]["enabled"], off.get_json()["message"]) == (False, "Rule disabled.")
    assert (on.get_json()["data"]["enabled"], on.get_json()["message"]) == (True, "Rule enabled.")
    calls = fake_rpc.calls_to("automation", "toggle_rule")
    assert [call.args for call in calls] == [(created["id"],), (created["id"],)]
    assert [call.kwargs for call in calls] == [{"actor": _actor(accounts["admin"]), "enabled": None}] * 2


@pytest.mark.parametrize("enabled", [True, False])
def test_toggling_with_enabled_sets_it_whatever_it_was(client, auth_headers, fake_rpc, create, enabled):
    created = create(enabled=enabled)

    response = client.patch(f"{RULES}/{created['id']}/toggle", json={"enabled": enabled}, headers=auth_headers("admin"))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["enabled"] is enabled
    assert fake_rpc.calls_to("automation", "toggle_rule")[0].kwargs["enabled"] is enabled


@pytest.mark.parametrize("payload", [{"enabled": "yes"}, {"enabled": None}, {"enabled": 0}, {"on": True}, [True]])
def test_a_malformed_toggle_is_422_before_the_service(client, auth_headers, fake_rpc, payload):
    response = client.patch(f"{RULES}/{uuid.uuid4()}/toggle", json=payload, headers=auth_headers("admin"))

    assert response.status_code == 422, response.get_json()
    assert _calls(fake_rpc) == []


def test_a_disabled_rule_is_not_tried_unless_named(client, auth_headers, create):
    created = create()
    client.patch(f"{RULES}/{created['id']}/toggle", json={"enabled": False}, headers=auth_headers("admin"))
    headers = auth_headers("supervisor")

    all_enabled = client.post(TEST, json={"ticket": {"priority": "urgent"}}, headers=headers)
    named = client.post(TEST, json={"ticket": {"priority": "urgent"}, "rule_id": created["id"]}, headers=headers)

    assert all_enabled.get_json()["data"]["rules"] == []
    assert named.get_json()["data"]["rules"][0]["enabled"] is False
    assert named.get_json()["data"]["matched"] == [created["id"]]


# -- the dry run ----------------------------------------------------------------------------------------------


def test_the_dry_run_says_which_rules_match_and_what_they_would_change(client, auth_headers, accounts, fake_rpc,
                                                                      create):
    tagging = create(name="Tag", position=1)
    lowering = create(name="Low only", position=2, actions=[{"type": "set_priority", "priority": "high"}],
                      conditions={"all": [{"field": "priority", "operator": "equals", "value": "low"}]})
    payload = {"ticket": {"priority": "urgent", "tags": ["billing"]}}

    response = client.post(TEST, json=payload, headers=auth_headers("admin"))

    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["success"], body["message"]) == (True, "OK")
    assert body["data"] == {
        "trigger": "ticket.created", "ticket_id": None, "matched": [tagging["id"]],
        "rules": [
            {"rule_id": tagging["id"], "name": "Tag", "enabled": True, "matched": True,
             "steps": [{"type": "add_tag", "action": TAG_VIP[0], "field": "tags", "before": ["billing"],
                        "after": ["billing", "vip"]}]},
            {"rule_id": lowering["id"], "name": "Low only", "enabled": True, "matched": False, "steps": []},
        ],
    }
    call = fake_rpc.calls_to("automation", "test_rules")[0]
    assert call.args == (payload,)
    assert call.kwargs == {"actor": _actor(accounts["admin"])}


def test_the_dry_run_of_a_stored_ticket_changes_nothing(client, auth_headers, accounts, tickets_service, create):
    create()
    ticket = tickets_service.add_ticket(accounts["customer"]["id"], priority="urgent", tags=["vip"])

    response = client.post(TEST, json={"ticket_id": ticket["id"], "trigger": "ticket.updated"},
                           headers=auth_headers("supervisor"))

    data = response.get_json()["data"]
    assert response.status_code == 200, response.get_json()
    assert (data["trigger"], data["ticket_id"], data["matched"]) == ("ticket.updated", ticket["id"], [])
    assert data["rules"][0]["matched"] is False  # it runs on ticket.created only
    assert tickets_service.tickets[ticket["id"]]["tags"] == ["vip"]


def test_the_dry_run_of_an_unsaved_rule(client, auth_headers, fake_rpc):
    rule = {**RULE, "actions": [{"type": "add_tag", "tag": "vip"}, {"type": "escalate"}]}

    response = client.post(TEST, json={"ticket": {"priority": "high", "tags": ["vip"]}, "rule": rule},
                           headers=auth_headers("supervisor"))

    data = response.get_json()["data"]
    assert response.status_code == 200, response.get_json()
    assert [r["name"] for r in data["rules"]] == [RULE["name"]]
    assert data["matched"] == []
    assert not fake_rpc.calls_to("automation", "create_rule")


def test_a_dry_run_with_a_skipped_step_says_why(client, auth_headers):
    response = client.post(TEST, json={"ticket": {"priority": "urgent", "tags": ["VIP"]}, "rule": RULE},
                           headers=auth_headers("admin"))

    step = response.get_json()["data"]["rules"][0]["steps"][0]
    assert response.status_code == 200
    assert step["skipped"] == "Already so."


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "ticket_id"),
    ({"ticket_id": str(uuid.uuid4()), "ticket": {}}, "ticket_id"),
    ({"ticket": {}, "rule_id": str(uuid.uuid4()), "rule": RULE}, "rule"),
    ({"ticket_id": "TKT-000001"}, "ticket_id"),
    ({"ticket": "urgent"}, "ticket"),
    ({"ticket": {}, "trigger": "ticket.exploded"}, "trigger"),
    ({"ticket": {}, "rule": {**RULE, "triggers": []}}, "rule.triggers"),
    ({"ticket": {}, "rule": {"name": "x"}}, "rule.actions"),
    ({"ticket": {}, "rules": []}, "rules"),
])
def test_a_malformed_dry_run_is_422_before_the_service(client, auth_headers, fake_rpc, payload, field):
    response = client.post(TEST, json=payload, headers=auth_headers("supervisor"))

    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"], response.get_json()
    assert _calls(fake_rpc) == []


def test_a_dry_run_of_an_unknown_ticket_or_rule_is_404(client, auth_headers):
    headers = auth_headers("supervisor")

    no_ticket = client.post(TEST, json={"ticket_id": str(uuid.uuid4())}, headers=headers)
    no_rule = client.post(TEST, json={"ticket": {}, "rule_id": str(uuid.uuid4())}, headers=headers)

    assert (no_ticket.status_code, no_rule.status_code) == (404, 404)
    assert no_rule.get_json()["message"] == "Automation rule not found."


def test_a_dry_run_with_a_problem_in_its_rule_or_ticket_is_the_services_422(client, auth_headers):
    headers = auth_headers("supervisor")
    bad_rule = {**RULE, "conditions": {"all": [{"field": "priority", "operator": "sounds_like", "value": "x"}]}}

    rule = client.post(TEST, json={"ticket": {}, "rule": bad_rule}, headers=headers)
    ticket = client.post(TEST, json={"ticket": {"colour": "red"}}, headers=headers)

    assert (rule.status_code, ticket.status_code) == (422, 422)
    assert any(path.endswith("conditions.all.0.operator") for path in rule.get_json()["errors"])
    assert ticket.get_json()["errors"] == {"ticket.colour": ["Unknown field."]}


# -- what the rules did ---------------------------------------------------------------------------------------


def test_the_runs_are_listed_newest_first_with_their_steps(client, auth_headers, accounts, fake_rpc,
                                                           automation_service, create):
    rule = create()
    ticket_id = str(uuid.uuid4())
    steps = [{"type": "add_tag", "action": TAG_VIP[0], "field": "tags", "before": [], "after": ["vip"]}]
    first = automation_service.add_rule_run(rule, ticket_id, steps=steps)
    second = automation_service.add_rule_run(rule, ticket_id, outcome="loop_protected",
                                             error="Fired 10 times on this ticket in the last hour.")

    response = client.get(RUNS, headers=auth_headers("supervisor"))

    body = response.get_json()
    assert response.status_code == 200, body
    assert body["data"]["items"] == [second, first]
    assert body["data"]["pagination"]["total"] == 2
    call = fake_rpc.calls_to("automation", "list_rule_runs")[0]
    assert call.args == (_actor(accounts["supervisor"]),)
    assert call.kwargs == {"ticket_id": None, "rule_id": None, "page": 1, "limit": 20}


def test_the_runs_of_one_ticket_or_one_rule(client, auth_headers, fake_rpc, automation_service, create):
    rule, other = create(), create()
    ticket_id, other_ticket = str(uuid.uuid4()), str(uuid.uuid4())
    mine = automation_service.add_rule_run(rule, ticket_id)
    automation_service.add_rule_run(other, ticket_id)
    automation_service.add_rule_run(rule, other_ticket, outcome="gone", error="The ticket no longer exists.")
    headers = auth_headers("admin")

    by_both = client.get(f"{RUNS}?ticket_id={ticket_id}&rule_id={rule['id']}", headers=headers)
    by_ticket = client.get(f"{RUNS}?ticket_id={ticket_id}&limit=1", headers=headers)

    assert by_both.get_json()["data"]["items"] == [mine]
    assert by_ticket.get_json()["data"]["pagination"] == {"page": 1, "limit": 1, "total": 2, "total_pages": 2,
                                                          "total_exact": True}
    assert fake_rpc.calls_to("automation", "list_rule_runs")[0].kwargs == {
        "ticket_id": ticket_id, "rule_id": rule["id"], "page": 1, "limit": 20}


@pytest.mark.parametrize(("query", "field"), [("ticket_id=TKT-1", "ticket_id"), ("rule_id=x", "rule_id"),
                                              ("rule_id=" + "a" * 32, "rule_id"), ("page=1&page=2", "page")])
def test_bad_run_queries_are_422_before_the_service(client, auth_headers, fake_rpc, query, field):
    response = client.get(f"{RUNS}?{query}", headers=auth_headers("supervisor"))

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert _calls(fake_rpc) == []


# -- the document ---------------------------------------------------------------------------------------------


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


OPERATIONS = {
    (RULES, "get"), (RULES, "post"), (f"{RULES}/{{rule_id}}", "get"), (f"{RULES}/{{rule_id}}", "put"),
    (f"{RULES}/{{rule_id}}", "delete"), (f"{RULES}/{{rule_id}}/toggle", "patch"), (TEST, "post"), (RUNS, "get"),
}
# how a summary names who may call an operation
DOCUMENTED_ROLES = {"(admins)": {"admin"}, "(supervisors, admins)": {"supervisor", "admin"}}


def test_the_document_lists_every_route_signed_in(spec):
    for path, method in OPERATIONS:
        assert spec["paths"][path][method]["security"] == [{"bearerAuth": []}], (path, method)
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops
                  if (path.startswith(RULES) or path in (TEST, RUNS)) and method != "parameters"}
    assert documented == OPERATIONS


def _documented_roles(operation):
    found = [roles for words, roles in DOCUMENTED_ROLES.items() if words in operation["summary"]]
    assert len(found) == 1, operation["summary"]
    return found[0]


def test_each_operation_answers_403_exactly_to_the_roles_its_summary_leaves_out(client, spec, auth_headers,
                                                                               create):
    rule_id = create()["id"]
    bodies = {"post": RULE, "put": {"description": "Changed."}, "patch": {}}

    for path, method in sorted(OPERATIONS):
        allowed = _documented_roles(spec["paths"][path][method])
        url = path.replace("{rule_id}", rule_id)
        body = {"ticket": {}} if path == TEST else bodies.get(method)
        for role in ROLES:
            if method == "delete" and role == "admin":
                continue  # the rule must live on for the next operations
            response = getattr(client, method)(url, json=body, headers=auth_headers(role))

            refused = response.status_code == 403
            assert refused is (role not in allowed), (method, path, role, response.get_json())


def test_the_document_states_the_vocabulary_and_the_shapes(spec):
    schemas = spec["components"]["schemas"]
    create_rule, test = schemas["CreateRule"], schemas["RuleTest"]
    described = " ".join(create_rule["properties"][name]["description"] for name in ("conditions", "actions"))

    assert sorted(create_rule["required"]) == ["actions", "name", "triggers"]
    assert create_rule["additionalProperties"] is False
    assert create_rule["properties"]["triggers"]["items"]["enum"] == list(RULE_TRIGGERS)
    assert (create_rule["properties"]["actions"]["minItems"], create_rule["properties"]["actions"]["items"]["type"]) \
        == (1, "object")
    assert create_rule["properties"]["conditions"]["type"] == "object"
    assert create_rule["properties"]["position"]["maximum"] == 1_000_000
    for word in (*RULE_FIELDS, *RULE_OPERATORS, *RULE_ACTIONS):
        assert re.search(rf"`{re.escape(word)}`", described), word
    assert schemas["UpdateRule"]["minProperties"] == 1
    assert test["oneOf"] == [{"required": ["ticket_id"]}, {"required": ["ticket"]}]
    assert test["not"] == {"required": ["rule_id", "rule"]}
    assert schemas["RuleStep"]["properties"]["type"]["enum"] == list(RULE_ACTIONS)


def test_the_documents_examples_are_a_valid_rule_and_dry_run(spec, client, auth_headers):
    properties = spec["components"]["schemas"]["CreateRule"]["properties"]
    rule = {name: prop["example"] for name, prop in properties.items() if "example" in prop}
    dry_run = spec["paths"][TEST]["post"]["requestBody"]["content"]["application/json"]["example"]

    created = client.post(RULES, json=rule, headers=auth_headers("admin"))
    tried = client.post(TEST, json=dry_run, headers=auth_headers("supervisor"))

    assert created.status_code == 201, created.get_json()
    assert tried.status_code == 200, tried.get_json()
    assert tried.get_json()["data"]["rules"][0]["matched"] is True


def test_the_toggle_body_is_optional_and_creates_take_an_idempotency_key(spec):
    toggle = spec["paths"][f"{RULES}/{{rule_id}}/toggle"]["patch"]
    create = spec["paths"][RULES]["post"]

    assert toggle["requestBody"]["required"] is False
    assert IDEMPOTENCY_HEADER in {p["name"] for p in create.get("parameters", [])}
    assert "409" in create["responses"] and "404" in spec["paths"][TEST]["post"]["responses"]
    assert "404" in toggle["responses"]
