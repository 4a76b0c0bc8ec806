"""``gateway.idempotency``: command ids on the RPCs of writes, ``Idempotency-Key`` on creates (no broker)."""

from __future__ import annotations

import uuid

import pytest

from gateway.app import create_app
from gateway.idempotency import HEADER, IDEMPOTENT_ATTR, REPLAYED_HEADER
from gateway.rpc import AmqpProxy, Command, RpcPool

CREATES = {
    "tickets.create_ticket", "tickets.add_comment", "tickets.add_comment_singular", "tickets.link_ticket",
    "attachments.upload", "attachments.upload_singular", "categories.create_category",
    "departments.create_department", "organizations.create_organization", "users.create_user", "auth.register",
    "templates.create_template", "rules.create_rule",
}


def _category(name="Redes"):
    return {"id": str(uuid.uuid4()), "name": name, "description": None, "default_department_id": None,
            "created_at": "2026-12-04T10:00:00+00:00", "updated_at": "2026-12-04T10:00:00+00:00"}


@pytest.fixture
def scripted(fakes, accounts):
    """An app over a real RpcPool whose one proxy answers from a script; ``admin`` headers."""
    proxy = fakes.ScriptedProxy()
    pool = RpcPool("amqp://guest:guest@127.0.0.1:5672/", size=1, timeout=1.0,
                   proxy_factory=fakes.ProxyFactory(proxy))
    app = create_app({"TESTING": True, "JWT_SECRET": "unit-test-secret-that-is-long-enough-for-hs256"}, rpc=pool)
    token = app.extensions["gateway.tokens"].issue_access_token(accounts["admin"])
    return app.test_client(), proxy, {"Authorization": f"Bearer {token}"}


def _create(client, headers, body, key=None):
    extra = {HEADER: key} if key is not None else {}
    return client.post("/api/v1/categories", json=body, headers={**headers, **extra})


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é-accented"])
def test_malformed_idempotency_key_is_refused_with_400(client, auth_headers, fake_rpc, key):
    response = client.post("/api/v1/tickets", json={"title": "Printer", "description": "Jammed"},
                           headers={**auth_headers("customer"), HEADER: key})

    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False and HEADER in body["errors"]
    assert fake_rpc.calls_to("tickets", "create") == []


def test_every_create_honours_the_key(app):
    honoured = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, IDEMPOTENT_ATTR, False)}

    assert honoured == CREATES


def test_openapi_documents_the_key_on_creates_only(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    def names(operation):
        return {p.get("name") for p in operation.get("parameters", [])}

    assert HEADER in names(paths["/api/v1/tickets"]["post"])
    assert HEADER in names(paths["/api/v1/auth/register"]["post"])
    assert HEADER not in names(paths["/api/v1/tickets"]["get"])
    assert HEADER not in names(paths["/api/v1/auth/login"]["post"])


def test_same_key_and_body_send_the_same_command(scripted):
    client, proxy, headers = scripted
    proxy.script = [_category(), _category()]

    _create(client, headers, {"name": "Redes"}, key="k-1")
    _create(client, headers, {"name": "Redes"}, key="k-1")

    first, second = (call["command"] for call in proxy.calls)
    assert first == second
    assert len(first.id) == 32 and first.fingerprint


def test_same_key_with_another_body_sends_the_same_id_with_another_fingerprint(scripted):
    client, proxy, headers = scripted
    proxy.script = [_category(), _category()]

    _create(client, headers, {"name": "Redes"}, key="k-1")
    _create(client, headers, {"name": "Hardware"}, key="k-1")

    first, second = (call["command"] for call in proxy.calls)
    assert first.id == second.id and first.fingerprint != second.fingerprint


def test_body_key_order_does_not_change_the_fingerprint(scripted):
    client, proxy, headers = scripted
    proxy.script = [_category(), _category()]

    _create(client, headers, {"name": "Redes", "description": "LAN"}, key="k-1")
    _create(client, headers, {"description": "LAN", "name": "Redes"}, key="k-1")

    first, second = (call["command"] for call in proxy.calls)
    assert first == second


def test_writes_without_a_key_get_a_fresh_command_each(scripted):
    client, proxy, headers = scripted
    proxy.script = [_category(), _category()]

    _create(client, headers, {"name": "Redes"})
    _create(client, headers, {"name": "Redes"})

    first, second = (call["command"] for call in proxy.calls)
    assert isinstance(first, Command) and first.id != second.id and first.fingerprint == ""


def test_queries_carry_no_command(scripted):
    client, proxy, headers = scripted
    proxy.script = [{"items": []}]

    client.get("/api/v1/categories", headers=headers)

    assert proxy.calls[0]["command"] is None


def test_replayed_answer_is_marked_and_keeps_its_status(scripted):
    client, proxy, headers = scripted
    category = _category()
    proxy.script = [category]
    proxy.replayed = True

    response = _create(client, headers, {"name": "Redes"}, key="k-1")

    assert response.status_code == 201
    assert response.headers[REPLAYED_HEADER] == "true"
    assert response.get_json()["data"]["id"] == category["id"]


def test_fresh_answer_is_not_marked(scripted):
    client, proxy, headers = scripted
    proxy.script = [_category()]

    response = _create(client, headers, {"name": "Redes"}, key="k-1")

    assert response.status_code == 201 and REPLAYED_HEADER not in response.headers


def test_proxy_sends_the_command_in_nameko_context_headers():
    proxy = AmqpProxy("amqp://guest:guest@127.0.0.1:5672/")

    proxy.bind_context("corr-1", Command("c" * 32, "f" * 64))

    assert proxy.context_headers() == {"nameko.correlation_id": "corr-1", "nameko.command_id": "c" * 32,
                                       "nameko.command_fingerprint": "f" * 64}
