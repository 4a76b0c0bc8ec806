"""Response templates on the real broker and database: created, listed and rendered over RPC, a bad body
refused with the field named, a name taken in other capitals refused, and ``template.*`` events published."""

import uuid

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

pytestmark = pytest.mark.integration

AGENT = {"id": str(uuid.uuid4()), "role": "agent", "department_id": None, "organization_id": None}


@pytest.fixture
def templates_rpc(service_container, amqp_uri):
    service_container("automation")
    with ServiceRpcProxy("automation", {"AMQP_URI": amqp_uri}, timeout=15) as proxy:
        yield proxy


def test_a_template_is_saved_listed_rendered_and_announced(templates_rpc, event_probe):
    probe = event_probe("automation", "template.created")
    body = "Hola {{ requester.name }}, su ticket {{ ticket.number }} está en curso."

    created = templates_rpc.create_template({"name": f"En curso {uuid.uuid4().hex[:6]}", "body": body}, AGENT)

    assert created["created_by"] == AGENT["id"]
    event = probe.wait("template.created", where=lambda e: e["data"]["template"]["id"] == created["id"], timeout=15)
    assert event["data"]["actor_id"] == AGENT["id"]
    listed = templates_rpc.list_templates(AGENT)
    assert [t["id"] for t in listed["items"]] == [created["id"]]
    rendered = templates_rpc.render_template(
        created["id"], {"ticket": {"number": "TKT-000123"}, "requester": {"name": "Ana"}}, AGENT)
    assert rendered == {"body": "Hola Ana, su ticket TKT-000123 está en curso."}


def test_unknown_variables_template_code_and_taken_names_are_refused(templates_rpc):
    name = f"Érase {uuid.uuid4().hex[:6]}"
    templates_rpc.create_template({"name": name, "body": "Hola"}, AGENT)

    with pytest.raises(RemoteError) as unknown:
        templates_rpc.create_template({"name": "Otra", "body": "{{ ticket.secret }}"}, AGENT)
    with pytest.raises(RemoteError) as code:
        templates_rpc.create_template({"name": "Otra", "body": "{% for x in y %}{% endfor %}"}, AGENT)
    with pytest.raises(RemoteError) as taken:
        templates_rpc.create_template({"name": name.lower(), "body": "Hola"}, AGENT)

    assert unknown.value.exc_type == "ValidationFailed" and "ticket.secret" in unknown.value.value
    assert code.value.exc_type == "ValidationFailed" and "Only variables" in code.value.value
    assert taken.value.exc_type == "Conflict"
    assert templates_rpc.list_templates(AGENT)["total"] == 1
