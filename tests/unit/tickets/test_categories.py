"""Ticket categories on a real database: admin-only writes, unique names, and routing new tickets."""

import uuid

import pytest

from helpdesk_contracts.errors import Conflict, NotFound
from services.tickets import handlers
from services.tickets.domain.errors import PermissionDenied, ValidationFailed
from tests.unit.tickets.factories import DEPT_A, DEPT_B


@pytest.fixture
def category(run, admin):
    """Create a category (as the admin); keyword overrides go into the payload."""

    def make(**overrides) -> dict:
        data = {"name": "Network", "description": "VPN, Wi-Fi, cabling", "default_department_id": DEPT_A}
        data.update(overrides)
        return run(handlers.create_category, data, admin)

    return make


def test_create_category_answers_it_and_lists_it_by_name(run, category, customer):
    category(name="Printers", default_department_id=None)
    created = category(name="  Network  ")

    listed = run(handlers.list_categories, customer)

    assert created["name"] == "Network"
    assert created["default_department_id"] == DEPT_A
    assert [c["name"] for c in listed["items"]] == ["Network", "Printers"]
    assert listed["total"] == 2


def test_create_category_as_an_agent_is_refused(run, agent):
    with pytest.raises(PermissionDenied):
        run(handlers.create_category, {"name": "Network"}, agent)

    assert run(handlers.list_categories, agent)["items"] == []


def test_create_category_with_a_taken_name_is_a_conflict_whatever_the_case(category):
    category(name="Network")

    with pytest.raises(Conflict, match="already exists"):
        category(name="NETWORK")


def test_create_category_with_unknown_fields_is_invalid(run, admin):
    with pytest.raises(ValidationFailed) as raised:
        run(handlers.create_category, {"name": "Network", "colour": "red"}, admin)

    assert "colour" in raised.value.errors


def test_get_category_unknown_is_not_found(run, customer):
    with pytest.raises(NotFound):
        run(handlers.get_category, str(uuid.uuid4()), customer)


def test_update_category_changes_fields_and_keeps_the_rest(run, category, admin, clock):
    created = category()
    clock.advance(minutes=1)

    updated = run(handlers.update_category, created["id"], {"default_department_id": DEPT_B}, admin)

    assert updated["default_department_id"] == DEPT_B
    assert updated["name"] == "Network"
    assert updated["updated_at"] > created["updated_at"]
    assert run(handlers.get_category, created["id"], admin) == updated


def test_update_category_to_another_categorys_name_is_a_conflict(run, category, admin):
    category(name="Network")
    printers = category(name="Printers")

    with pytest.raises(Conflict):
        run(handlers.update_category, printers["id"], {"name": "network"}, admin)


def test_update_category_as_a_supervisor_is_refused(run, category, supervisor):
    created = category()

    with pytest.raises(PermissionDenied):
        run(handlers.update_category, created["id"], {"name": "Other"}, supervisor)


def test_delete_category_removes_it_and_tickets_keep_the_name(run, category, admin, create_ticket):
    created = category()
    ticket = create_ticket(category="Network")

    run(handlers.delete_category, created["id"], admin)

    assert run(handlers.list_categories, admin)["total"] == 0
    assert run(handlers.get_ticket, ticket["id"], admin)["category"] == "Network"
    with pytest.raises(NotFound):
        run(handlers.delete_category, created["id"], admin)


def test_open_ticket_in_a_known_category_gets_its_default_department(category, create_ticket, outbox):
    category(name="Network", default_department_id=DEPT_A)

    ticket = create_ticket(category="network")

    assert ticket["department_id"] == DEPT_A
    assert outbox("ticket.created")[-1]["data"]["ticket"]["department_id"] == DEPT_A


def test_open_ticket_with_a_department_keeps_it_over_the_categorys(category, create_ticket, agent):
    category(name="Network", default_department_id=DEPT_A)

    ticket = create_ticket(by=agent, category="Network", department_id=DEPT_B)

    assert ticket["department_id"] == DEPT_B


def test_open_ticket_in_an_unknown_category_is_refused_naming_the_field(category, create_ticket, run, admin, outbox):
    category(name="Network")

    with pytest.raises(ValidationFailed) as raised:
        create_ticket(category="Coffee machine")

    assert raised.value.errors == {"category": ["No such category."]}
    assert run(handlers.list_tickets, admin)["total"] == 0
    assert outbox("ticket.created") == []
