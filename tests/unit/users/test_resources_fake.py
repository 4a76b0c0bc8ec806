"""Department and organization rules on the fake unit of work: no database, one behaviour each."""

import pytest

from helpdesk_contracts.events import validate_data
from services.users import handlers
from services.users.domain.errors import Conflict, DepartmentInUse, OrganizationNotFound, ValidationFailed
from tests.unit.users.fakes import FakeUnitOfWork

ADMIN = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def uow(clock):
    return FakeUnitOfWork(clock=clock)


def test_create_department_emits_created_with_its_actor(uow):
    department = handlers.create_department({"name": "Support", "default_sla_hours": 8}, uow=uow, actor=ADMIN)

    [(kind, data)] = uow.events
    assert kind == "department.created"
    assert data["actor_id"] == ADMIN
    assert data["department"]["id"] == department["id"]
    assert department["member_count"] == 0
    validate_data("department.created", 1, data)


def test_create_department_refuses_a_name_taken_in_other_capitals(uow):
    handlers.create_department({"name": "Support"}, uow=uow)

    with pytest.raises(Conflict) as raised:
        handlers.create_department({"name": "  SUPPORT "}, uow=uow)

    assert raised.value.errors == {"name": ["Already taken."]}
    assert len(uow.departments.rows) == 1
    assert [kind for kind, _ in uow.events] == ["department.created"]


def test_update_organization_records_the_changes_and_the_actor(uow):
    organization = handlers.create_organization({"name": "Acme"}, uow=uow)

    handlers.update_organization(organization["id"], {"shared_tickets": True, "vip": True}, uow=uow, actor=ADMIN)

    kind, data = uow.events[-1]
    assert kind == "organization.updated"
    assert data["changes"] == {"shared_tickets": {"before": False, "after": True}, "vip": {"before": False, "after": True}}
    assert data["organization"]["vip"] is True
    assert data["actor_id"] == ADMIN
    validate_data("organization.updated", 1, data)


def test_update_with_no_change_emits_nothing(uow):
    organization = handlers.create_organization({"name": "Acme"}, uow=uow)

    handlers.update_organization(organization["id"], {"name": "Acme"}, uow=uow)

    assert [kind for kind, _ in uow.events] == ["organization.created"]


def test_update_refuses_an_unknown_field(uow):
    department = handlers.create_department({"name": "Support"}, uow=uow)

    with pytest.raises(ValidationFailed):
        handlers.update_department(department["id"], {"colour": "red"}, uow=uow)


def test_delete_department_with_members_is_refused_and_keeps_it(uow, user_factory):
    department = handlers.create_department({"name": "Support"}, uow=uow)
    uow.users.add(user_factory(department_id=department["id"]))

    with pytest.raises(DepartmentInUse):
        handlers.delete_department(department["id"], uow=uow)

    assert department["id"] in uow.departments.rows
    assert handlers.get_department(department["id"], uow=uow)["member_count"] == 1


def test_delete_organization_emits_deleted_and_forgets_it(uow):
    organization = handlers.create_organization({"name": "Acme"}, uow=uow)

    handlers.delete_organization(organization["id"], uow=uow, actor=ADMIN)

    assert uow.events[-1][0] == "organization.deleted"
    with pytest.raises(OrganizationNotFound):
        handlers.get_organization(organization["id"], uow=uow)


def test_list_departments_pages_by_name(uow):
    for name in ("Sales", "Billing", "Support"):
        handlers.create_department({"name": name}, uow=uow)

    page = handlers.list_departments(1, 2, uow=uow)

    assert [d["name"] for d in page["items"]] == ["Billing", "Sales"]
    assert page["total"] == 3
