"""Departments and organizations are unique by name ignoring case in full Unicode, enforced by the database:
two concurrent creates of one name give one department and one Conflict, on SQLite as on PostgreSQL."""

import pytest

from helpdesk_common.clock import FakeClock
from helpdesk_common.resources import SqlAlchemyNamedRepository
from helpdesk_common.testing import HandlerRunner, run_together, separate_runners
from services.users import handlers
from services.users.adapters.uow import UsersUnitOfWork
from services.users.domain.errors import Conflict, ValidationFailed

KINDS = [("department", handlers.create_department, handlers.update_department, "find_by_name"),
         ("organization", handlers.create_organization, handlers.update_organization, "find_by_name")]


@pytest.mark.parametrize(("kind", "create", "update", "finder"), KINDS)
@pytest.mark.parametrize(("first", "second"), [("Équipe Nord", "équipe nord"), ("STRASSE", "straße"),
                                              ("Ｓｅｒｖｉｃｅ  Desk", "service desk")])
def test_a_name_differing_only_in_unicode_case_or_width_is_taken(run, outbox, kind, create, update, finder,
                                                                 first, second):
    run(create, {"name": first})
    before = outbox()

    with pytest.raises(Conflict) as raised:
        run(create, {"name": second})

    assert raised.value.errors == {"name": ["Already taken."]}
    assert outbox() == before


@pytest.mark.parametrize(("kind", "create", "update", "finder"), KINDS)
def test_renaming_onto_another_name_in_other_capitals_is_a_conflict(run, kind, create, update, finder):
    run(create, {"name": "Équipe"})
    other = run(create, {"name": "Other"})

    with pytest.raises(Conflict):
        run(update, other["id"], {"name": "ÉQUIPE"})

    assert run(getattr(handlers, f"get_{kind}"), other["id"])["name"] == "Other"


@pytest.mark.parametrize(("kind", "create", "update", "finder"), KINDS)
def test_a_name_too_long_once_folded_is_refused(run, kind, create, update, finder):
    with pytest.raises(ValidationFailed) as raised:
        run(create, {"name": "\ufdfa" * 30})  # one character folds to 18

    assert "name" in raised.value.errors


@pytest.mark.parametrize(("kind", "create", "update", "finder"), KINDS)
def test_two_concurrent_creates_of_one_name_give_one_row_and_one_conflict(users_unit_db_url, engine, monkeypatch,
                                                                          kind, create, update, finder):
    with separate_runners(users_unit_db_url, producer="users", clock=FakeClock(), uow_class=UsersUnitOfWork) as runners:
        outcomes = run_together(
            [lambda r=r, n=n: r(create, {"name": n}) for r, n in zip(runners, ["Ventas", "VENTAS"], strict=True)],
            meet_after=(SqlAlchemyNamedRepository, finder), monkeypatch=monkeypatch)

    [created] = [o for o in outcomes if isinstance(o, dict)]
    [refused] = [o for o in outcomes if isinstance(o, Conflict)]
    assert refused.errors == {"name": ["Already taken."]}
    runner = HandlerRunner(engine, producer="users", clock=FakeClock(), uow_class=UsersUnitOfWork)
    listed = runner(getattr(handlers, f"list_{kind}s"), 1, 100)
    runner.close()
    assert [item["name"] for item in listed["items"]] == [created["name"]]
