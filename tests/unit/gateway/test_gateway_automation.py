"""``/api/v1/automation`` and ``/api/v1/users/{id}/workload``: the ticket router's decisions, backlog, strategies
and agents' workload; roles, validation, pagination, the envelope and status mapping, and the actor passed on."""

from __future__ import annotations

import uuid

import pytest

from gateway.app import create_app
from gateway.errors import ServiceUnavailable
from gateway.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway.rpc import Command, RpcPool
from helpdesk_contracts import limits
from helpdesk_contracts.vocabulary import ROUTING_OUTCOMES, ROUTING_STRATEGIES

AUTOMATION = "/api/v1/automation"
DECISIONS = f"{AUTOMATION}/decisions"
QUEUE = f"{AUTOMATION}/queue"
STRATEGIES = f"{AUTOMATION}/strategies"
STAFF = ("agent", "supervisor", "admin")


def _workload(user_id):
    return f"/api/v1/users/{user_id}/workload"


def _actor(user):
    return {"id": user["id"], "role": user["role"], "department_id": user["department_id"],
            "organization_id": user["organization_id"], "via": "gateway"}


def _automation_calls(fake_rpc):
    return [call for call in fake_rpc.calls if call.service == "automation"]


@pytest.fixture
def department(users_service):
    return users_service.create_department({"name": "Network"})


@pytest.fixture
def other_department(users_service):
    return users_service.create_department({"name": "Billing"})


@pytest.fixture
def agent_in(accounts, users_service, auth_headers):
    """An agent of ``department`` (as the users service and the access token say): their user and headers."""

    def make(department):
        users_service.users[accounts["agent"]["id"]]["department_id"] = department["id"]
        user = {**accounts["agent"], "department_id": department["id"]}
        return user, auth_headers(user)

    return make


# -- roles ------------------------------------------------------------------------------------------------

def _staff_reads(accounts):
    return [("get", DECISIONS), ("get", QUEUE), ("get", STRATEGIES), ("get", _workload(accounts["agent"]["id"]))]


def test_every_route_refuses_a_customer_with_403_without_calling_the_service(client, auth_headers, accounts,
                                                                             fake_rpc, department):
    routes = [*_staff_reads(accounts), ("put", f"{STRATEGIES}/{department['id']}")]

    for method, path in routes:
        response = getattr(client, method)(path, headers=auth_headers("customer"),
                                           **({"json": {"strategy": "round_robin"}} if method == "put" else {}))

        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["success"] is False
    assert _automation_calls(fake_rpc) == []


def test_every_route_wants_a_token(client, accounts, fake_rpc, department):
    routes = [*_staff_reads(accounts), ("put", f"{STRATEGIES}/{department['id']}")]

    for method, path in routes:
        response = getattr(client, method)(path, json={"strategy": "round_robin"} if method == "put" else None)

        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _automation_calls(fake_rpc) == []


@pytest.mark.parametrize("role", STAFF)
def test_staff_read_the_decisions_the_queue_and_the_strategies(client, auth_headers, role):
    for path in (DECISIONS, QUEUE, STRATEGIES):
        response = client.get(path, headers=auth_headers(role))

        body = response.get_json()
        assert response.status_code == 200, (path, body)
        assert body["success"] is True
        assert body["data"]["items"] == [] and body["data"]["pagination"]["total"] == 0


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_admins_set_a_strategy(client, auth_headers, fake_rpc, department, role):
    response = client.put(f"{STRATEGIES}/{department['id']}", json={"strategy": "round_robin"},
                          headers=auth_headers(role))

    assert response.status_code == 403
    assert response.get_json()["success"] is False
    assert _automation_calls(fake_rpc) == []


# -- decisions --------------------------------------------------------------------------------------------

def test_decisions_pass_the_actor_and_the_page_and_answer_a_page(client, auth_headers, accounts, fake_rpc,
                                                                automation_service):
    ticket = automation_service.track_ticket()
    decision = automation_service.add_decision(ticket, agent_id=accounts["agent"]["id"], candidates=[
        {"agent_id": accounts["agent"]["id"], "name": "Agent Person", "load": 0, "max_concurrent_tickets": 10,
         "passed_over": None}])

    response = client.get(DECISIONS, headers=auth_headers("supervisor"))

    body = response.get_json()
    assert response.status_code == 200, body
    assert body["data"]["items"] == [decision]
    assert body["data"]["pagination"] == {"page": 1, "limit": 20, "total": 1, "total_pages": 1, "total_exact": True}
    call = fake_rpc.calls_to("automation", "list_decisions")[0]
    assert call.args == (_actor(accounts["supervisor"]),)
    assert call.kwargs == {"ticket_id": None, "page": 1, "limit": 20}


def test_decisions_are_paginated_newest_first(client, auth_headers, fake_rpc, automation_service):
    tickets = [automation_service.track_ticket() for _ in range(3)]
    made = [automation_service.add_decision(ticket) for ticket in tickets]

    response = client.get(f"{DECISIONS}?page=2&limit=2", headers=auth_headers("admin"))

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert [d["id"] for d in data["items"]] == [made[0]["id"]]  # the oldest, on the second page
    assert data["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2, "total_exact": True}
    assert fake_rpc.calls_to("automation", "list_decisions")[0].kwargs == {"ticket_id": None, "page": 2, "limit": 2}


def test_decisions_of_one_ticket(client, auth_headers, fake_rpc, automation_service):
    mine, other = automation_service.track_ticket(), automation_service.track_ticket()
    queued = automation_service.add_decision(mine)
    automation_service.add_decision(other)

    response = client.get(f"{DECISIONS}?ticket_id={mine.id}", headers=auth_headers("agent"))

    items = response.get_json()["data"]["items"]
    assert response.status_code == 200
    assert items == [queued]
    assert (items[0]["outcome"], items[0]["agent_id"]) == ("queued", None)
    assert fake_rpc.calls_to("automation", "list_decisions")[0].kwargs["ticket_id"] == mine.id


def test_decisions_of_an_unknown_ticket_are_404(client, auth_headers):
    response = client.get(f"{DECISIONS}?ticket_id={uuid.uuid4()}", headers=auth_headers("admin"))

    body = response.get_json()
    assert response.status_code == 404
    assert body["success"] is False and body["message"]


def test_an_agent_sees_the_decisions_of_their_department_and_of_unrouted_tickets_only(
        client, agent_in, automation_service, department, other_department):
    _, headers = agent_in(department)
    ours = automation_service.add_decision(automation_service.track_ticket(department_id=department["id"]))
    unrouted = automation_service.add_decision(automation_service.track_ticket())
    theirs_ticket = automation_service.track_ticket(department_id=other_department["id"])
    automation_service.add_decision(theirs_ticket)

    listed = client.get(DECISIONS, headers=headers).get_json()["data"]["items"]
    one = client.get(f"{DECISIONS}?ticket_id={theirs_ticket.id}", headers=headers)

    assert {d["id"] for d in listed} == {ours["id"], unrouted["id"]}
    assert one.status_code == 404  # not one they may see: as if it did not exist


# -- the queue ------------------------------------------------------------------------------------------------

def test_the_queue_lists_waiting_tickets_in_order_with_their_positions(client, auth_headers, accounts, fake_rpc,
                                                                      automation_service):
    low = automation_service.track_ticket(priority="low")
    urgent = automation_service.track_ticket(priority="urgent")
    automation_service.track_ticket(assignee_id=accounts["agent"]["id"], status="open")  # not waiting

    response = client.get(f"{QUEUE}?limit=1&page=2", headers=auth_headers("agent"))

    data = response.get_json()["data"]
    assert response.status_code == 200
    assert [(item["position"], item["ticket_id"]) for item in data["items"]] == [(2, low.id)]
    assert data["pagination"]["total"] == 2
    first = client.get(QUEUE, headers=auth_headers("agent")).get_json()["data"]["items"][0]
    assert (first["position"], first["ticket_id"], first["number"]) == (1, urgent.id, urgent.number)
    call = fake_rpc.calls_to("automation", "backlog")[0]
    assert call.args == (_actor(accounts["agent"]),)
    assert call.kwargs == {"department_id": None, "page": 2, "limit": 1}


def test_the_queue_of_one_department(client, auth_headers, fake_rpc, automation_service, department,
                                     other_department):
    ours = automation_service.track_ticket(department_id=department["id"])
    automation_service.track_ticket(department_id=other_department["id"])

    response = client.get(f"{QUEUE}?department_id={department['id']}", headers=auth_headers("supervisor"))

    assert [item["ticket_id"] for item in response.get_json()["data"]["items"]] == [ours.id]
    assert fake_rpc.calls_to("automation", "backlog")[0].kwargs["department_id"] == department["id"]


def test_an_agent_asking_for_another_departments_queue_gets_an_empty_page(client, agent_in, automation_service,
                                                                         department, other_department):
    _, headers = agent_in(department)
    automation_service.track_ticket(department_id=other_department["id"])

    response = client.get(f"{QUEUE}?department_id={other_department['id']}", headers=headers)

    assert response.status_code == 200
    assert response.get_json()["data"]["items"] == []


def test_a_manual_only_department_leaves_the_queue(client, auth_headers, automation_service, department):
    automation_service.track_ticket(department_id=department["id"])

    client.put(f"{STRATEGIES}/{department['id']}", json={"strategy": "manual_only"}, headers=auth_headers("admin"))

    assert client.get(QUEUE, headers=auth_headers("admin")).get_json()["data"]["items"] == []


# -- strategies --------------------------------------------------------------------------------------------

def test_an_admin_sets_a_strategy_and_staff_read_it(client, auth_headers, accounts, fake_rpc, department):
    response = client.put(f"{STRATEGIES}/{department['id']}", json={"strategy": "round_robin"},
                          headers=auth_headers("admin"))

    body = response.get_json()
    assert response.status_code == 200, body
    assert body["success"] is True and body["message"] == "Strategy updated."
    assert (body["data"]["department_id"], body["data"]["strategy"]) == (department["id"], "round_robin")
    assert body["data"]["updated_by"] == accounts["admin"]["id"]
    call = fake_rpc.calls_to("automation", "set_strategy")[0]
    assert call.args == (department["id"], "round_robin")
    assert call.kwargs == {"actor": _actor(accounts["admin"])}

    listed = client.get(STRATEGIES, headers=auth_headers("agent")).get_json()["data"]
    assert listed["items"] == [body["data"]]
    assert listed["pagination"]["total"] == 1
    assert fake_rpc.calls_to("automation", "list_strategies")[0].args == (_actor(accounts["agent"]),)


def test_a_strategy_for_an_unknown_department_is_404(client, auth_headers):
    response = client.put(f"{STRATEGIES}/{uuid.uuid4()}", json={"strategy": "least_loaded"},
                          headers=auth_headers("admin"))

    assert response.status_code == 404
    assert response.get_json()["success"] is False


@pytest.mark.parametrize(("body", "field"), [
    ({"strategy": "fastest"}, "strategy"),
    ({"strategy": "Round_Robin"}, "strategy"),
    ({"strategy": 1}, "strategy"),
    ({"strategy": None}, "strategy"),
    ({}, "strategy"),
    ({"strategy": "round_robin", "department_id": str(uuid.uuid4())}, "department_id"),
])
def test_a_bad_strategy_body_is_422_in_the_envelope_without_calling_the_service(client, auth_headers, fake_rpc,
                                                                                department, body, field):
    response = client.put(f"{STRATEGIES}/{department['id']}", json=body, headers=auth_headers("admin"))

    payload = response.get_json()
    assert response.status_code == 422, payload
    assert payload["success"] is False and payload["message"] == "Validation failed."
    assert field in payload["errors"]
    assert _automation_calls(fake_rpc) == []


def test_an_unknown_strategy_names_the_choices(client, auth_headers, department):
    response = client.put(f"{STRATEGIES}/{department['id']}", json={"strategy": "fastest"},
                          headers=auth_headers("admin"))

    message = response.get_json()["errors"]["strategy"][0]
    assert all(strategy in message for strategy in ROUTING_STRATEGIES)


def test_a_strategy_body_not_in_json_is_415(client, auth_headers, fake_rpc, department):
    response = client.put(f"{STRATEGIES}/{department['id']}", data="strategy=round_robin",
                          content_type="application/x-www-form-urlencoded", headers=auth_headers("admin"))

    assert response.status_code == 415
    assert _automation_calls(fake_rpc) == []


def test_a_department_that_is_no_uuid_is_404(client, auth_headers, fake_rpc):
    response = client.put(f"{STRATEGIES}/network", json={"strategy": "round_robin"}, headers=auth_headers("admin"))

    assert response.status_code == 404
    assert _automation_calls(fake_rpc) == []


# -- query validation ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [
    ("ticket_id=42", "ticket_id"),
    ("ticket_id=" + "a" * 32, "ticket_id"),  # a uuid without its hyphens is not the documented format
    ("ticket_id=", "ticket_id"),
    ("page=0", "page"),
    ("page=x", "page"),
    (f"page={limits.PAGE_MAX + 1}", "page"),
    ("limit=0", "limit"),
    (f"limit={limits.PAGE_LIMIT_MAX + 1}", "limit"),
])
def test_bad_decision_queries_are_422_in_the_envelope(client, auth_headers, fake_rpc, query, field):
    response = client.get(f"{DECISIONS}?{query}", headers=auth_headers("admin"))

    body = response.get_json()
    assert response.status_code == 422, body
    assert body["success"] is False and field in body["errors"]
    assert _automation_calls(fake_rpc) == []


@pytest.mark.parametrize(("query", "field"), [
    ("department_id=network", "department_id"),
    ("department_id=" + str(uuid.uuid4()).upper().replace("-", ""), "department_id"),
    ("limit=101", "limit"),
])
def test_bad_queue_queries_are_422_in_the_envelope(client, auth_headers, fake_rpc, query, field):
    response = client.get(f"{QUEUE}?{query}", headers=auth_headers("supervisor"))

    body = response.get_json()
    assert response.status_code == 422, body
    assert field in body["errors"]
    assert _automation_calls(fake_rpc) == []


def test_a_query_parameter_given_twice_is_422(client, auth_headers, fake_rpc):
    response = client.get(f"{DECISIONS}?ticket_id={uuid.uuid4()}&ticket_id={uuid.uuid4()}",
                          headers=auth_headers("admin"))

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"ticket_id": ["Give this parameter once."]}
    assert _automation_calls(fake_rpc) == []


# -- workload ----------------------------------------------------------------------------------------------

def test_an_agent_reads_their_own_workload(client, auth_headers, accounts, fake_rpc, automation_service):
    agent = accounts["agent"]
    for status in ("open", "in_progress", "waiting"):
        automation_service.track_ticket(assignee_id=agent["id"], status=status)

    response = client.get(_workload(agent["id"]), headers=auth_headers("agent"))

    body = response.get_json()
    assert response.status_code == 200, body
    data = body["data"]
    assert (data["user_id"], data["working_tickets"], data["capacity_left"], data["at_capacity"]) == (
        agent["id"], 2, 8, False)
    assert data["by_status"] == {"in_progress": 1, "open": 1, "waiting": 1}
    call = fake_rpc.calls_to("automation", "workload")[0]
    assert call.args == (agent["id"],)
    assert call.kwargs == {"actor": _actor(agent)}


def test_an_agent_asking_for_someone_elses_workload_gets_404(client, auth_headers, accounts):
    response = client.get(_workload(accounts["supervisor"]["id"]), headers=auth_headers("agent"))

    assert response.status_code == 404
    assert response.get_json()["success"] is False


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_managers_read_any_agents_workload(client, auth_headers, accounts, role):
    response = client.get(_workload(accounts["agent"]["id"]), headers=auth_headers(role))

    assert response.status_code == 200
    assert response.get_json()["data"]["user_id"] == accounts["agent"]["id"]


@pytest.mark.parametrize("who", ["customer", "nobody"])
def test_the_workload_of_a_user_the_router_does_not_follow_is_404(client, auth_headers, accounts, who):
    user_id = accounts["customer"]["id"] if who == "customer" else str(uuid.uuid4())

    response = client.get(_workload(user_id), headers=auth_headers("admin"))

    assert response.status_code == 404


# -- the service away; commands ---------------------------------------------------------------------------------

def test_the_router_away_is_503_in_the_envelope(client, auth_headers, fake_rpc):
    fake_rpc.failures["automation"] = ServiceUnavailable.for_service("automation")

    response = client.get(DECISIONS, headers=auth_headers("admin"))

    body = response.get_json()
    assert response.status_code == 503
    assert body["success"] is False and "automation" in body["message"]


@pytest.fixture
def scripted(fakes, accounts):
    """An app over a real RpcPool whose one proxy answers from a script, and an admin's headers."""
    proxy = fakes.ScriptedProxy()
    pool = RpcPool("amqp://guest:guest@127.0.0.1:5672/", size=1, timeout=1.0, proxy_factory=fakes.ProxyFactory(proxy))
    app = create_app({"TESTING": True, "JWT_SECRET": "unit-test-secret-that-is-long-enough-for-hs256"}, rpc=pool)
    token = app.extensions["gateway.tokens"].issue_access_token(accounts["admin"])
    return app.test_client(), proxy, {"Authorization": f"Bearer {token}"}


def test_setting_a_strategy_is_a_command_and_reading_them_is_not(scripted, accounts):
    client, proxy, headers = scripted
    department_id = str(uuid.uuid4())
    answer = {"department_id": department_id, "strategy": "round_robin", "updated_at": "2026-12-04T10:00:00+00:00",
              "updated_by": accounts["admin"]["id"]}
    proxy.script = [answer, answer, {"items": [answer], "total": 1}]

    client.put(f"{STRATEGIES}/{department_id}", json={"strategy": "round_robin"}, headers=headers)
    client.put(f"{STRATEGIES}/{department_id}", json={"strategy": "round_robin"},
               headers={**headers, IDEMPOTENCY_HEADER: "k-1"})  # not a create: the key changes nothing
    client.get(STRATEGIES, headers=headers)

    first, second, query = (call["command"] for call in proxy.calls)
    assert [call["method"] for call in proxy.calls] == ["set_strategy", "set_strategy", "list_strategies"]
    assert isinstance(first, Command) and isinstance(second, Command) and first.id != second.id
    assert query is None


# -- the document ---------------------------------------------------------------------------------------------

@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _parameters(operation):
    return {p["name"]: p for p in operation.get("parameters", [])}


def test_the_document_lists_every_route_signed_in(spec):
    routes = {(DECISIONS, "get"), (QUEUE, "get"), (STRATEGIES, "get"), (f"{STRATEGIES}/{{department_id}}", "put"),
              ("/api/v1/users/{user_id}/workload", "get")}

    for path, method in routes:
        assert spec["paths"][path][method]["security"] == [{"bearerAuth": []}], (path, method)


def test_the_document_states_what_is_validated(spec):
    decisions = _parameters(spec["paths"][DECISIONS]["get"])
    queue = _parameters(spec["paths"][QUEUE]["get"])
    put = spec["paths"][f"{STRATEGIES}/{{department_id}}"]["put"]
    body = spec["components"]["schemas"][put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                                         .rsplit("/", 1)[1]]

    assert decisions["ticket_id"]["schema"]["format"] == "uuid"
    assert queue["department_id"]["schema"]["format"] == "uuid"
    assert decisions["page"]["schema"]["maximum"] == limits.PAGE_MAX
    assert queue["limit"]["schema"]["maximum"] == limits.PAGE_LIMIT_MAX
    assert body["properties"]["strategy"]["enum"] == list(ROUTING_STRATEGIES)
    assert body["required"] == ["strategy"] and body["additionalProperties"] is False
    assert spec["paths"][f"{STRATEGIES}/{{department_id}}"]["parameters"][0]["schema"]["format"] == "uuid"
    assert IDEMPOTENCY_HEADER not in _parameters(put)  # a change, not a create


def test_the_document_lists_the_404s_and_describes_the_answers(spec):
    schemas = spec["components"]["schemas"]

    assert "404" in spec["paths"][DECISIONS]["get"]["responses"]  # an unknown ticket_id, though no id in the path
    assert "404" not in spec["paths"][QUEUE]["get"]["responses"]
    assert "404" in spec["paths"]["/api/v1/users/{user_id}/workload"]["get"]["responses"]
    assert schemas["Decision"]["properties"]["outcome"]["enum"] == list(ROUTING_OUTCOMES)
    assert schemas["Decision"]["properties"]["strategy"]["enum"] == list(ROUTING_STRATEGIES)
    assert schemas["Strategy"]["properties"]["strategy"]["enum"] == list(ROUTING_STRATEGIES)
