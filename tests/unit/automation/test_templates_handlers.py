"""Response templates through the handlers on a real migrated database (SQLite, or PostgreSQL when
HELPDESK_TEST_POSTGRES_URL is set): create, list, read, change, delete and render; names unique ignoring
case in full Unicode (the unique index holds it too); who may do what; the events in the outbox."""

import functools
import uuid

import pytest

from helpdesk_common.clock import FakeClock
from helpdesk_common.resources import SqlAlchemyNamedRepository
from helpdesk_common.testing import HandlerRunner, read_outbox, run_together, separate_runners
from helpdesk_contracts.events import validate_data
from services.automation import handlers
from services.automation.adapters.uow import AutomationUnitOfWork
from services.automation.domain.errors import Conflict, PermissionDenied, TemplateNotFound, ValidationFailed
from services.automation.domain.templates import ONLY_VARIABLES
from tests.unit.automation.fakes import FakeAutomationUnitOfWork


def _actor(role: str, department_id: str | None = None) -> dict:
    return {"id": str(uuid.uuid4()), "role": role, "department_id": department_id}


AGENT = _actor("agent")
OTHER_AGENT = _actor("agent")
SUPERVISOR = _actor("supervisor")
ADMIN = _actor("admin")
CUSTOMER = _actor("customer")
BODY = "Hello {{ requester.name }}, about {{ ticket.number }}: we are on it. {{ agent.name }}"
CONTEXT = {"ticket": {"number": "TKT-000042"}, "requester": {"name": "Rita"}, "agent": {"name": "Alex"}}


@pytest.fixture
def run(engine, clock):
    runner = HandlerRunner(engine, producer="automation", clock=clock, uow_class=AutomationUnitOfWork)
    yield runner
    runner.close()


@pytest.fixture
def outbox(engine):
    return functools.partial(read_outbox, engine)


@pytest.fixture
def create(run):
    def make(actor=AGENT, **overrides) -> dict:
        data = {"name": f"Template {uuid.uuid4().hex[:6]}", "body": BODY, **overrides}
        return run(handlers.create_template, data, actor)

    return make


# -- create, read, list, change, delete --------------------------------------------------------------


def test_create_stores_the_template_with_its_creator_and_emits_created(run, create, outbox, clock):
    created = create(name="  Greeting ", category="Openers")

    assert created == {"id": created["id"], "name": "Greeting", "category": "Openers", "body": BODY,
                       "created_by": AGENT["id"], "created_at": clock.now().isoformat(),
                       "updated_at": clock.now().isoformat()}
    assert run(handlers.get_template, created["id"], SUPERVISOR) == created
    [event] = outbox()
    assert (event["type"], event["producer"]) == ("template.created", "automation")
    assert event["data"] == {"template": created, "actor_id": AGENT["id"]}
    validate_data("template.created", 1, event["data"])


def test_list_is_by_name_and_paginated(run, create):
    for name in ("Zebra", "Alpha", "Mango"):
        create(name=name)

    first = run(handlers.list_templates, OTHER_AGENT, 1, 2)
    second = run(handlers.list_templates, ADMIN, 2, 2)

    assert first["total"] == second["total"] == 3
    assert [t["name"] for t in first["items"] + second["items"]] == ["Alpha", "Mango", "Zebra"]


@pytest.mark.parametrize(("page", "limit"), [(0, 20), (1, 0), (1, 101), ("x", 20)])
def test_a_page_out_of_range_is_refused(run, page, limit):
    with pytest.raises(ValidationFailed):
        run(handlers.list_templates, AGENT, page, limit)


def test_update_by_its_creator_records_the_changes_and_emits_updated(run, create, outbox, clock):
    created = create(name="Greeting")
    clock.advance(minutes=1)

    updated = run(handlers.update_template, created["id"], {"name": "Welcome", "body": "Hi {{ agent.name }}"}, AGENT)

    assert (updated["name"], updated["body"], updated["created_by"]) == ("Welcome", "Hi {{ agent.name }}", AGENT["id"])
    assert updated["updated_at"] == clock.now().isoformat() != updated["created_at"]
    event = outbox("template.updated")[-1]
    assert event["data"]["changes"] == {"name": {"before": "Greeting", "after": "Welcome"},
                                        "body": {"before": BODY, "after": "Hi {{ agent.name }}"}}
    assert event["data"]["actor_id"] == AGENT["id"]
    validate_data("template.updated", 1, event["data"])


def test_an_update_changing_nothing_emits_nothing(run, create, outbox):
    created = create(name="Greeting")

    assert run(handlers.update_template, created["id"], {"name": "Greeting"}, AGENT)["name"] == "Greeting"
    assert [e["type"] for e in outbox()] == ["template.created"]


def test_delete_by_a_manager_removes_it_and_emits_deleted(run, create, outbox):
    created = create()

    run(handlers.delete_template, created["id"], SUPERVISOR)

    with pytest.raises(TemplateNotFound):
        run(handlers.get_template, created["id"], AGENT)
    event = outbox("template.deleted")[-1]
    assert event["data"] == {"template": created, "actor_id": SUPERVISOR["id"]}
    validate_data("template.deleted", 1, event["data"])


@pytest.mark.parametrize("handler", ["get", "update", "delete", "render"])
def test_an_unknown_template_is_not_found(run, handler):
    missing = str(uuid.uuid4())
    calls = {"get": (handlers.get_template, missing, AGENT),
             "update": (handlers.update_template, missing, {"name": "x"}, ADMIN),
             "delete": (handlers.delete_template, missing, ADMIN),
             "render": (handlers.render_template, missing, CONTEXT, AGENT)}

    with pytest.raises(TemplateNotFound):
        run(*calls[handler])


# -- the body's rules, at create and at update --------------------------------------------------------


@pytest.mark.parametrize(("body", "message"), [
    ("Dear {{ ticket.foo }}", "Unknown variable ticket.foo; allowed: ticket.number, "),
    ("{{ ticket.number|upper }}", ONLY_VARIABLES),
    ("{% if ticket.title %}x{% endif %}", ONLY_VARIABLES),
    ("{{ ticket.number ", "The template does not parse: Line 1: "),
])
def test_a_body_with_anything_but_text_and_allowed_variables_is_refused_at_create_and_update(run, create, outbox,
                                                                                             body, message):
    with pytest.raises(ValidationFailed) as raised:
        create(body=body)
    assert raised.value.message.startswith(message)
    assert list(raised.value.errors) == ["body"]

    created = create()
    with pytest.raises(ValidationFailed) as raised:
        run(handlers.update_template, created["id"], {"body": body}, AGENT)
    assert list(raised.value.errors) == ["body"]
    assert run(handlers.get_template, created["id"], AGENT)["body"] == BODY
    assert [e["type"] for e in outbox()] == ["template.created"]


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "x", "body": "   "}, "body"),
    ({"name": " ", "body": "x"}, "name"),
    ({"name": "x", "body": "x", "category": " "}, "category"),
    ({"name": "x", "body": "x" * 20001}, "body"),
    ({"name": "x" * 201, "body": "x"}, "name"),
    ({"name": "x", "body": "x", "category": "c" * 101}, "category"),
    ({"name": "x"}, "body"),
    ({"name": "x", "body": "x", "created_by": str(uuid.uuid4())}, "created_by"),
])
def test_invalid_input_is_refused_naming_the_field(run, data, field):
    with pytest.raises(ValidationFailed) as raised:
        run(handlers.create_template, data, AGENT)

    assert field in raised.value.errors


# -- unique names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [("Écho rapide", "écho RAPIDE"), ("STRASSE", "straße"),
                                              ("Ｒｅｐｌｙ  one", "reply one")])
def test_a_name_differing_only_in_unicode_case_or_width_is_taken(run, create, outbox, first, second):
    create(name=first)

    with pytest.raises(Conflict) as raised:
        create(name=second, actor=ADMIN)

    assert raised.value.errors == {"name": ["Already taken."]}
    assert len(outbox()) == 1


def test_renaming_onto_another_name_in_other_capitals_is_a_conflict(run, create):
    create(name="Équipe")
    other = create(name="Other")

    with pytest.raises(Conflict):
        run(handlers.update_template, other["id"], {"name": "ÉQUIPE"}, AGENT)

    assert run(handlers.get_template, other["id"], AGENT)["name"] == "Other"


def test_two_concurrent_creates_of_one_name_give_one_row_and_one_conflict(automation_unit_db_url, engine, monkeypatch):
    with separate_runners(automation_unit_db_url, producer="automation", clock=FakeClock(),
                          uow_class=AutomationUnitOfWork) as runners:
        outcomes = run_together(
            [lambda r=r, n=n: r(handlers.create_template, {"name": n, "body": BODY}, AGENT)
             for r, n in zip(runners, ["Écho", "ÉCHO"], strict=True)],
            meet_after=(SqlAlchemyNamedRepository, "find_by_name"), monkeypatch=monkeypatch)

    [created] = [o for o in outcomes if isinstance(o, dict)]
    [refused] = [o for o in outcomes if isinstance(o, Conflict)]
    assert refused.errors == {"name": ["Already taken."]}
    runner = HandlerRunner(engine, producer="automation", clock=FakeClock(), uow_class=AutomationUnitOfWork)
    listed = runner(handlers.list_templates, AGENT, 1, 100)
    runner.close()
    assert [item["name"] for item in listed["items"]] == [created["name"]]


# -- who may do what -------------------------------------------------------------------------------


def test_customers_may_do_nothing(run, create):
    created = create()
    calls = [(handlers.create_template, {"name": "x", "body": "x"}, CUSTOMER),
             (handlers.get_template, created["id"], CUSTOMER),
             (handlers.list_templates, CUSTOMER, 1, 20),
             (handlers.update_template, created["id"], {"name": "y"}, CUSTOMER),
             (handlers.delete_template, created["id"], CUSTOMER),
             (handlers.render_template, created["id"], CONTEXT, CUSTOMER)]

    for call in calls:
        with pytest.raises(PermissionDenied):
            run(*call)


@pytest.mark.parametrize("actor", [AGENT, SUPERVISOR, ADMIN], ids=lambda a: a["role"])
def test_any_member_of_staff_creates_reads_lists_and_renders(run, actor):
    created = run(handlers.create_template, {"name": "Mine", "body": BODY}, actor)

    assert created["created_by"] == actor["id"]
    assert run(handlers.get_template, created["id"], OTHER_AGENT)["id"] == created["id"]
    assert run(handlers.list_templates, OTHER_AGENT, 1, 20)["total"] == 1
    assert run(handlers.render_template, created["id"], CONTEXT, OTHER_AGENT) == {
        "body": "Hello Rita, about TKT-000042: we are on it. Alex"}


def test_another_agent_may_not_change_or_delete_it(run, create, outbox):
    created = create(actor=AGENT)

    with pytest.raises(PermissionDenied):
        run(handlers.update_template, created["id"], {"name": "Taken over"}, OTHER_AGENT)
    with pytest.raises(PermissionDenied):
        run(handlers.delete_template, created["id"], OTHER_AGENT)

    assert run(handlers.get_template, created["id"], AGENT)["name"] == created["name"]
    assert [e["type"] for e in outbox()] == ["template.created"]


@pytest.mark.parametrize("manager", [SUPERVISOR, ADMIN], ids=lambda a: a["role"])
def test_managers_change_and_delete_anyones_template(run, create, manager):
    created = create(actor=AGENT)

    updated = run(handlers.update_template, created["id"], {"category": "Billing"}, manager)
    run(handlers.delete_template, created["id"], manager)

    assert (updated["category"], updated["created_by"]) == ("Billing", AGENT["id"])


def test_the_creator_deletes_their_own(run, create):
    created = create(actor=OTHER_AGENT)

    run(handlers.delete_template, created["id"], OTHER_AGENT)

    assert run(handlers.list_templates, AGENT, 1, 20)["total"] == 0


@pytest.mark.parametrize("actor", [None, {"role": "agent"}, {"id": str(uuid.uuid4()), "role": "robot"}])
def test_a_call_without_a_valid_actor_is_refused(run, actor):
    with pytest.raises(ValidationFailed) as raised:
        run(handlers.list_templates, actor, 1, 20)

    assert raised.value.errors == {"actor": ["Must carry id and role."]}


# -- rendering -------------------------------------------------------------------------------------


def test_render_names_a_variable_the_context_does_not_give(run, create):
    created = create()

    with pytest.raises(ValidationFailed) as raised:
        run(handlers.render_template, created["id"], {"ticket": {"number": "TKT-1"}, "agent": {"name": "A"}}, AGENT)

    assert raised.value.errors == {"context": ["No value for requester.name."]}


# -- the in-memory unit of work answers as the database does ------------------------------------------


def test_the_fake_unit_of_work_keeps_templates_and_events_as_the_database_does(clock):
    uow = FakeAutomationUnitOfWork(clock)
    created = handlers.create_template({"name": "Écho", "body": BODY}, AGENT, uow=uow)

    with pytest.raises(Conflict):
        handlers.create_template({"name": "ÉCHO", "body": BODY}, ADMIN, uow=uow)
    uow.rollback()

    assert handlers.list_templates(AGENT, 1, 20, uow=uow)["items"] == [created]
    assert [kind for kind, _ in uow.emitted] == ["template.created"]
