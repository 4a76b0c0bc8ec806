"""Category names are unique ignoring case in full Unicode, enforced by the database: two concurrent creates of
one name give one category and one Conflict (never a 500), on SQLite as on PostgreSQL."""

import pytest

from helpdesk_common.clock import FakeClock
from helpdesk_common.testing import run_together, separate_runners
from helpdesk_contracts.errors import Conflict
from services.tickets import handlers
from services.tickets.adapters.categories import SqlAlchemyCategoryRepository
from services.tickets.adapters.uow import TicketsUnitOfWork


@pytest.mark.parametrize(("first", "second"), [("Éclairage", "éclairage"), ("Éclairage", "Éclairage"),
                                              ("Straße", "STRASSE"), ("Ｒｅｄｅｓ", "redes")])
def test_a_category_name_differing_only_in_unicode_case_or_width_is_taken(run, admin, first, second):
    run(handlers.create_category, {"name": first}, admin)

    with pytest.raises(Conflict) as raised:
        run(handlers.create_category, {"name": second}, admin)

    assert raised.value.errors == {"name": ["Already taken."]}
    assert run(handlers.list_categories, admin)["total"] == 1


def test_a_ticket_filed_under_a_category_in_other_capitals_is_routed_by_it(run, admin, create_ticket, agent):
    run(handlers.create_category, {"name": "Électricité", "default_department_id": None}, admin)

    ticket = create_ticket(category="ÉLECTRICITÉ")

    assert ticket["category"] == "Électricité"  # filed under the category's own spelling


def test_a_lost_race_on_update_is_a_conflict(run, admin, monkeypatch):
    run(handlers.create_category, {"name": "Redes"}, admin)
    other = run(handlers.create_category, {"name": "Otra"}, admin)
    monkeypatch.setattr(SqlAlchemyCategoryRepository, "find_by_name", lambda self, name: None)

    with pytest.raises(Conflict):
        run(handlers.update_category, other["id"], {"name": "REDES"}, admin)

    assert sorted(c["name"] for c in run(handlers.list_categories, admin)["items"]) == ["Otra", "Redes"]


def test_two_concurrent_creates_of_one_name_give_one_category_and_one_conflict(tickets_unit_db_url, run, engine, admin,
                                                                               monkeypatch):
    with separate_runners(tickets_unit_db_url, producer="tickets", clock=FakeClock(), uow_class=TicketsUnitOfWork) as runners:
        outcomes = run_together(
            [lambda r=r, n=n: r(handlers.create_category, {"name": n}, admin)
             for r, n in zip(runners, ["Impresoras", "IMPRESORAS"], strict=True)],
            meet_after=(SqlAlchemyCategoryRepository, "find_by_name"), monkeypatch=monkeypatch)

    [created] = [o for o in outcomes if isinstance(o, dict)]
    [refused] = [o for o in outcomes if isinstance(o, Conflict)]
    assert refused.errors == {"name": ["Already taken."]}
    assert [c["name"] for c in run(handlers.list_categories, admin)["items"]] == [created["name"]]
