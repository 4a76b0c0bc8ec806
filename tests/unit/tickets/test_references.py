"""A ticket's references are checked before they are stored (a 422 naming the field, nothing written): its
department against the local projection (fed by ``department.*`` events, reconciled with the users service's
listing, and asking the users service about a department it has not heard of), its category, assignee and
organization."""

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.errors import Unavailable
from services.tickets import handlers
from services.tickets.adapters.departments import SqlAlchemyDepartmentRepository
from services.tickets.adapters.uow import TicketsUnitOfWork
from services.tickets.domain.errors import ValidationFailed
from tests.unit.tickets.factories import DEPT_A, DEPT_B, new_id

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def department_event(kind="created", *, department_id=DEPT_A, updated_at=T0, occurred_at=None):
    data = {"department": {"id": department_id, "name": "Redes", "description": None, "default_sla_hours": None,
                           "notification_email": None, "created_at": T0.isoformat(),
                           "updated_at": updated_at.isoformat()}}
    if kind == "updated":
        data["changes"] = {"name": {"before": "Red", "after": "Redes"}}
    return Envelope.new(f"department.{kind}", data, producer="users", occurred_at=occurred_at or updated_at)


@pytest.fixture
def project(run):
    return lambda envelope: run(handlers.project_department, envelope)


def exists(new_uow, department_id=DEPT_A):
    with new_uow() as uow:
        return SqlAlchemyDepartmentRepository(uow.session).exists(department_id)


# the projection -----------------------------------------------------------------------------------------

def test_a_department_event_is_applied(project, new_uow):
    event = department_event("created")

    assert project(event) is True
    # a redelivery never reaches the handler: its reliable entrypoint claims the event in the inbox first
    # (tests/integration/backbone/test_reliable_delivery.py, test_inbox_claim.py)

    assert exists(new_uow) is True


def test_a_deleted_department_stays_deleted_whatever_arrives_late(project, new_uow):
    project(department_event("created"))
    project(department_event("deleted", occurred_at=T0 + timedelta(hours=1)))

    assert project(department_event("updated", updated_at=T0 + timedelta(hours=2))) is False

    assert exists(new_uow) is False


def test_a_department_never_heard_of_is_unknown_not_missing(new_uow):
    assert exists(new_uow, new_id()) is None


def test_a_department_event_without_a_readable_time_is_refused(project, new_uow):
    event = department_event("created")
    event.data["department"]["updated_at"] = "yesterday"

    with pytest.raises(ValidationFailed, match="Unreadable department.created"):
        project(event)

    assert exists(new_uow) is None


def listed(department_id=DEPT_A, *, updated_at=T0):
    return {"id": department_id, "name": "Redes", "updated_at": updated_at.isoformat()}


@pytest.fixture
def sync(run):
    def apply(listing, *, listed_since=T0 + timedelta(days=1), complete=True):
        return run(handlers.sync_departments, listing, listed_since=listed_since, complete=complete)

    return apply


def test_a_listing_fills_in_a_department_whose_events_were_missed(sync, new_uow):
    assert sync([listed()]) == {"listed": 1, "added": 1, "deleted": 0}

    assert exists(new_uow) is True
    assert sync([listed()])["added"] == 0


def test_a_department_the_users_service_no_longer_lists_is_deleted(project, sync, new_uow):
    project(department_event("created"))

    assert sync([listed(DEPT_B)])["deleted"] == 1

    assert (exists(new_uow), exists(new_uow, DEPT_B)) == (False, True)


def test_an_incomplete_listing_or_a_newer_fact_deletes_nothing(project, sync, new_uow):
    project(department_event("created", updated_at=T0 + timedelta(days=2)))

    sync([], complete=False)
    sync([], listed_since=T0 + timedelta(days=1))  # created after the listing began: not in it, yet alive

    assert exists(new_uow) is True


def test_a_listing_never_revives_a_deleted_department(project, sync, new_uow):
    project(department_event("deleted", occurred_at=T0 + timedelta(hours=1)))

    sync([listed()])  # read before the deletion

    assert exists(new_uow) is False


# checked on create, assign and category ---------------------------------------------------------------

def test_open_ticket_with_an_unknown_department_is_refused_naming_the_field(create_ticket, run, agent, outbox):
    with pytest.raises(ValidationFailed) as raised:
        create_ticket(by=agent, department_id=new_id())

    assert raised.value.errors == {"department_id": ["No such department."]}
    assert run(handlers.list_tickets, agent)["total"] == 0
    assert outbox("ticket.created") == []


def test_a_department_the_projection_knows_is_not_asked_of_the_users_service(project, create_ticket, agent, directory):
    project(department_event("created"))

    ticket = create_ticket(by=agent, department_id=DEPT_A)

    assert ticket["department_id"] == DEPT_A
    assert DEPT_A not in directory.looked_up


def test_a_department_the_projection_has_not_heard_of_is_asked_and_remembered(create_ticket, agent, directory,
                                                                               new_uow):
    create_ticket(by=agent, department_id=DEPT_B)
    create_ticket(by=agent, department_id=DEPT_B)

    assert directory.looked_up.count(DEPT_B) == 1
    assert exists(new_uow, DEPT_B) is True


def test_a_department_the_projection_knows_as_deleted_is_refused_without_asking(project, create_ticket, agent,
                                                                                 directory):
    project(department_event("deleted"))

    with pytest.raises(ValidationFailed):
        create_ticket(by=agent, department_id=DEPT_A)

    assert DEPT_A not in directory.looked_up


def test_open_ticket_while_the_users_service_is_away_is_unavailable_and_stores_nothing(create_ticket, run, agent,
                                                                                      directory, monkeypatch):
    def away(department_id):
        raise Unavailable("The users service did not answer in time; try again later.")

    monkeypatch.setattr(directory, "get_department", away)

    with pytest.raises(Unavailable):
        create_ticket(by=agent, department_id=DEPT_A)

    assert run(handlers.list_tickets, agent)["total"] == 0


def test_assign_to_an_unknown_department_is_refused_and_changes_nothing(create_ticket, run, agent, outbox):
    ticket = create_ticket(by=agent, department_id=DEPT_A)

    with pytest.raises(ValidationFailed) as raised:
        run(handlers.assign_ticket, ticket["id"], agent, department_id=new_id(), set_department=True,
            set_assignee=False)

    assert list(raised.value.errors) == ["department_id"]
    assert run(handlers.get_ticket, ticket["id"], agent)["department_id"] == DEPT_A
    assert outbox("ticket.assigned") == []


@pytest.mark.parametrize("who", ["unknown", "customer", "inactive"])
def test_assign_to_someone_not_an_active_agent_is_refused(create_ticket, run, agent, directory, who):
    ticket = create_ticket(by=agent)
    assignee = {"unknown": lambda: new_id(), "customer": lambda: directory.add("customer")["id"],
                "inactive": lambda: directory.add("agent", status="inactive")["id"]}[who]()

    with pytest.raises(ValidationFailed) as raised:
        run(handlers.assign_ticket, ticket["id"], agent, assignee_id=assignee)

    assert list(raised.value.errors) == ["assignee_id"]
    assert run(handlers.get_ticket, ticket["id"], agent)["assignee_id"] is None


def test_open_ticket_with_an_organization_that_does_not_exist_is_refused(create_ticket, agent):
    with pytest.raises(ValidationFailed) as raised:
        create_ticket(by=agent, organization_id=new_id())

    assert raised.value.errors == {"organization_id": ["No such organization."]}


def test_update_ticket_to_an_unknown_category_is_refused_and_changes_nothing(create_ticket, run, agent, admin):
    run(handlers.create_category, {"name": "Redes"}, admin)
    ticket = create_ticket(by=agent, category="redes")

    with pytest.raises(ValidationFailed) as raised:
        run(handlers.update_ticket, ticket["id"], {"category": "Cafetera"}, agent)

    assert raised.value.errors == {"category": ["No such category."]}
    assert run(handlers.get_ticket, ticket["id"], agent)["category"] == "Redes"


def test_update_ticket_sending_back_a_category_that_no_longer_exists_is_accepted(create_ticket, run, agent, admin):
    category = run(handlers.create_category, {"name": "Redes"}, admin)
    ticket = create_ticket(by=agent, category="Redes")
    run(handlers.delete_category, category["id"], admin)  # tickets keep the name as text

    updated = run(handlers.update_ticket, ticket["id"], {"title": "Switch caído", "category": "Redes"}, agent)

    assert (updated["title"], updated["category"]) == ("Switch caído", "Redes")


def test_a_category_routing_to_an_unknown_department_is_refused(run, admin):
    with pytest.raises(ValidationFailed) as raised:
        run(handlers.create_category, {"name": "Redes", "default_department_id": new_id()}, admin)

    assert list(raised.value.errors) == ["default_department_id"]
    assert run(handlers.list_categories, admin)["total"] == 0


def test_a_category_whose_department_was_deleted_routes_nowhere(run, admin, project, create_ticket):
    run(handlers.create_category, {"name": "Redes", "default_department_id": DEPT_A}, admin)
    project(department_event("deleted", occurred_at=datetime.now(UTC)))

    ticket = create_ticket(category="Redes")

    assert ticket["department_id"] is None  # still in the unassigned queue every agent sees, never out of view


def test_two_creates_confirming_one_new_department_at_once_both_succeed(tickets_unit_db_url, run, agent, directory,
                                                                        monkeypatch, new_uow):
    from helpdesk_common.clock import FakeClock
    from helpdesk_common.testing import run_together, separate_runners

    with separate_runners(tickets_unit_db_url, producer="tickets", clock=FakeClock(), uow_class=TicketsUnitOfWork,
                          collaborators={"directory": directory}) as runners:
        outcomes = run_together(
            [lambda r=r: r(handlers.open_ticket, {"title": "Switch", "description": "Down", "department_id": DEPT_B},
                           agent) for r in runners],
            meet_after=(SqlAlchemyDepartmentRepository, "exists"), monkeypatch=monkeypatch)

    assert [o["department_id"] for o in outcomes] == [DEPT_B, DEPT_B], outcomes  # neither lost to the other's insert
    assert exists(new_uow, DEPT_B) is True
