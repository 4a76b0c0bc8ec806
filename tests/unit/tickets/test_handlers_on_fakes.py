"""The tickets handlers' domain rules on the in-memory unit of work (``fakes.py``): no database.

Transitions, visibility, permissions, assignment, merge and link rules, category names and the
projections (their inbox claim is the reliable entrypoint's, tested with containers). What needs SQL (search, counts, locks, the outbox's contract) stays in the
database-backed modules (``test_handlers.py`` and the others on the ``run`` fixture).
"""

from datetime import UTC, datetime

import pytest

from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.events import validate_data
from services.tickets import handlers
from services.tickets.domain import rules
from services.tickets.domain.errors import (
    Conflict,
    IllegalTransition,
    PermissionDenied,
    StaleTicket,
    TicketNotFound,
    ValidationFailed,
)
from tests.unit.tickets.factories import DEPT_A, DEPT_B, ORG, FakeDirectory, actor, new_id
from tests.unit.tickets.fakes import FakeTicketsUnitOfWork


@pytest.fixture
def uow(clock):
    return FakeTicketsUnitOfWork(clock)


@pytest.fixture
def open_one(uow, customer, directory):
    def make(by=None, **overrides):
        data = {"title": "VPN is down", "description": "Since this morning.", **overrides}
        return handlers.open_ticket(data, by or customer, uow=uow, directory=directory)

    return make


def test_opening_stores_the_ticket_its_history_its_search_row_and_one_valid_event(uow, open_one, customer):
    ticket = open_one(tags=["vpn"])

    assert ticket["number"] == rules.format_number(1) and ticket["status"] == "new"
    assert uow.tickets.get(ticket["id"]).requester_id == customer["id"]
    assert uow.tickets.actions(ticket["id"]) == ["created"]
    assert uow.search.docs[ticket["id"]].title == "VPN is down"
    assert uow.types() == ["ticket.created"]
    validate_data("ticket.created", uow.events[0].version, uow.events[0].data)


def test_a_legal_transition_is_stored_and_announced(uow, open_one, agent):
    ticket = open_one()

    moved = handlers.change_status(ticket["id"], "in_progress", agent, uow=uow)

    assert moved["status"] == "in_progress"
    event = uow.events[-1]
    assert (event.type, event.data["from"], event.data["to"]) == ("ticket.status_changed", "new", "in_progress")
    assert uow.tickets.actions(ticket["id"])[-1] == "status_changed"


def test_an_illegal_transition_is_refused_and_records_nothing(uow, open_one, agent):
    ticket = open_one()
    handlers.close_ticket(ticket["id"], agent, uow=uow, resolution="Fixed.")
    before = list(uow.events)

    with pytest.raises(IllegalTransition):
        handlers.change_status(ticket["id"], "waiting", agent, uow=uow)

    assert uow.events == before and uow.pending == []
    assert uow.tickets.get(ticket["id"]).status == "closed"


def test_a_stale_version_is_refused(uow, open_one, agent):
    ticket = open_one()
    handlers.update_ticket(ticket["id"], {"title": "VPN still down"}, agent, uow=uow)

    with pytest.raises(StaleTicket):
        handlers.change_status(ticket["id"], "open", agent, uow=uow, expected_version=ticket["version"])


def test_another_customer_gets_not_found_not_forbidden(uow, open_one, other_customer):
    ticket = open_one()

    with pytest.raises(TicketNotFound):
        handlers.get_ticket(ticket["id"], other_customer, uow=uow)


def test_a_colleague_sees_the_ticket_only_when_the_organization_shares(uow, open_one, other_customer):
    ticket = open_one()
    with pytest.raises(TicketNotFound):
        handlers.get_ticket(ticket["id"], other_customer, uow=uow)

    uow.organizations.apply(ORG, shared_tickets=True, as_of=datetime(2026, 1, 1, tzinfo=UTC))

    assert handlers.get_ticket(ticket["id"], other_customer, uow=uow)["id"] == ticket["id"]


def test_an_agent_of_another_department_does_not_see_a_routed_ticket(uow, open_one, customer, agent, agent_b):
    ticket = open_one(department_id=DEPT_A)

    assert handlers.get_ticket(ticket["id"], agent, uow=uow)["department_id"] == DEPT_A
    with pytest.raises(TicketNotFound):
        handlers.get_ticket(ticket["id"], agent_b, uow=uow)


def test_list_shows_only_the_callers_tickets(uow, open_one, customer, other_customer):
    mine = open_one()
    open_one(by=other_customer)

    page = handlers.list_tickets(customer, uow=uow)

    assert [t["id"] for t in page["items"]] == [mine["id"]] and page["total"] == 1


def test_customers_write_no_internal_notes_and_see_none(uow, open_one, customer, agent):
    ticket = open_one()
    with pytest.raises(PermissionDenied):
        handlers.add_comment(ticket["id"], {"body": "psst", "internal": True}, customer, uow=uow)

    handlers.add_comment(ticket["id"], {"body": "Checking the logs.", "internal": True}, agent, uow=uow)
    handlers.add_comment(ticket["id"], {"body": "We are on it."}, agent, uow=uow)

    assert [c["body"] for c in handlers.list_comments(ticket["id"], customer, uow=uow)] == ["We are on it."]
    assert len(handlers.list_comments(ticket["id"], agent, uow=uow)) == 2
    seen = {line["action"] for line in handlers.get_history(ticket["id"], customer, uow=uow)}
    assert seen == {"created", "replied"}  # the internal note's line is staff-only


@pytest.mark.parametrize("command", ["assign", "delete", "link", "merge", "category"])
def test_customers_may_not_run_staff_or_admin_commands(uow, open_one, customer, agent, command):
    ticket, other = open_one(), open_one()
    calls = {
        "assign": lambda: handlers.assign_ticket(ticket["id"], customer, uow=uow, assignee_id=agent["id"]),
        "delete": lambda: handlers.delete_ticket(ticket["id"], customer, uow=uow),
        "link": lambda: handlers.link_tickets(ticket["id"], other["id"], "related", customer, uow=uow),
        "merge": lambda: handlers.merge_tickets(ticket["id"], other["id"], customer, uow=uow),
        "category": lambda: handlers.create_category({"name": "vpn"}, customer, uow=uow),
    }
    commits = uow.commits

    with pytest.raises(PermissionDenied):
        calls[command]()

    assert uow.commits == commits


def test_only_admins_delete_and_a_deleted_ticket_is_gone(uow, open_one, agent, admin):
    ticket = open_one()
    with pytest.raises(PermissionDenied):
        handlers.delete_ticket(ticket["id"], agent, uow=uow)

    handlers.delete_ticket(ticket["id"], admin, uow=uow)

    assert uow.types()[-1] == "ticket.deleted" and ticket["id"] not in uow.search.docs
    with pytest.raises(TicketNotFound):
        handlers.get_ticket(ticket["id"], admin, uow=uow)


def test_assigning_a_new_ticket_opens_it(uow, open_one, agent, directory):
    ticket = open_one()

    assigned = handlers.assign_ticket(ticket["id"], agent, uow=uow, assignee_id=agent["id"], directory=directory)

    assert (assigned["assignee_id"], assigned["status"]) == (agent["id"], "open")
    assert uow.types()[-2:] == ["ticket.status_changed", "ticket.assigned"]


def test_only_active_agents_can_be_assigned(uow, open_one, agent, directory):
    ticket = open_one()
    customer_id = directory.add("customer")["id"]
    gone = directory.add("agent", status="inactive")["id"]

    for assignee in (customer_id, gone, new_id()):
        with pytest.raises(ValidationFailed):
            handlers.assign_ticket(ticket["id"], agent, uow=uow, assignee_id=assignee, directory=directory)
    assert uow.tickets.get(ticket["id"]).assignee_id is None


def test_unassigning_announces_ticket_unassigned(uow, open_one, agent, directory):
    ticket = open_one()
    handlers.assign_ticket(ticket["id"], agent, uow=uow, assignee_id=agent["id"], directory=directory)

    handlers.assign_ticket(ticket["id"], agent, uow=uow, assignee_id=None, directory=directory)

    assert uow.events[-1].type == "ticket.unassigned"
    assert uow.events[-1].data["previous_assignee_id"] == agent["id"]


def test_moving_to_another_department_keeps_the_agent(uow, open_one, agent, directory):
    ticket = open_one()
    handlers.assign_ticket(ticket["id"], agent, uow=uow, assignee_id=agent["id"], directory=directory)

    moved = handlers.assign_ticket(ticket["id"], agent, uow=uow, department_id=DEPT_B, set_department=True,
                                   set_assignee=False, directory=directory)

    assert (moved["assignee_id"], moved["department_id"]) == (agent["id"], DEPT_B)


def test_an_unknown_department_is_refused(uow, open_one):
    with pytest.raises(ValidationFailed) as refused:
        open_one(department_id=new_id())
    assert "department_id" in refused.value.errors and uow.tickets.rows == {}


def test_merging_tickets_of_different_requesters_needs_a_confirmation(uow, open_one, other_customer, agent):
    duplicate, target = open_one(), open_one(by=other_customer)

    with pytest.raises(Conflict):
        handlers.merge_tickets(duplicate["id"], target["id"], agent, uow=uow)
    merged = handlers.merge_tickets(duplicate["id"], target["id"], agent, uow=uow, confirm_different_requesters=True)

    assert merged["ticket"]["status"] == "closed"
    assert "merge_confirmed" in uow.tickets.actions(target["id"])
    assert uow.types()[-2:] == ["ticket.status_changed", "ticket.merged"]


def test_merging_moves_the_thread_and_leaves_a_note_on_both(uow, open_one, customer, agent):
    duplicate, target = open_one(), open_one()
    handlers.add_comment(duplicate["id"], {"body": "Still broken."}, customer, uow=uow)

    handlers.merge_tickets(duplicate["id"], target["id"], agent, uow=uow)

    on_target = [c["body"] for c in handlers.list_comments(target["id"], agent, uow=uow)]
    assert "Still broken." in on_target and any("was merged into this ticket" in b for b in on_target)
    assert [c["author_role"] for c in handlers.list_comments(duplicate["id"], agent, uow=uow)] == ["system"]


@pytest.mark.parametrize("case", ["itself", "into_closed", "twice"])
def test_merge_refusals(uow, open_one, agent, case):
    duplicate, target = open_one(), open_one()
    if case == "into_closed":
        handlers.close_ticket(target["id"], agent, uow=uow)
    if case == "twice":
        handlers.merge_tickets(duplicate["id"], target["id"], agent, uow=uow)
    other = duplicate["id"] if case == "itself" else target["id"]

    with pytest.raises(Conflict):
        handlers.merge_tickets(duplicate["id"], other, agent, uow=uow)


def test_a_pair_is_linked_once_and_seen_from_both_sides(uow, open_one, agent):
    parent, child = open_one(), open_one()

    handlers.link_tickets(child["id"], parent["id"], "parent", agent, uow=uow)
    with pytest.raises(Conflict):
        handlers.link_tickets(parent["id"], child["id"], "related", agent, uow=uow)

    assert [link["kind"] for link in handlers.list_links(parent["id"], agent, uow=uow)] == ["child"]
    handlers.unlink_tickets(parent["id"], child["id"], agent, uow=uow)
    assert handlers.list_links(child["id"], agent, uow=uow) == []
    assert uow.tickets.actions(parent["id"])[-2:] == ["linked", "unlinked"]


def test_a_ticket_cannot_be_linked_to_itself(uow, open_one, agent):
    ticket = open_one()
    with pytest.raises(Conflict):
        handlers.link_tickets(ticket["id"], ticket["id"], "related", agent, uow=uow)


def test_category_names_are_unique_whatever_their_case(uow, admin):
    handlers.create_category({"name": "Network"}, admin, uow=uow)

    with pytest.raises(Conflict):
        handlers.create_category({"name": "network"}, admin, uow=uow)
    assert [c["name"] for c in handlers.list_categories(admin, uow=uow)["items"]] == ["Network"]


def test_a_category_files_the_ticket_under_its_spelling_and_routes_it(uow, admin, open_one):
    handlers.create_category({"name": "Network", "default_department_id": DEPT_B}, admin, uow=uow)

    ticket = open_one(category="network")

    assert (ticket["category"], ticket["department_id"]) == ("Network", DEPT_B)


def test_an_organization_event_is_applied(uow):
    envelope = Envelope.new("organization.updated", {"organization": {
        "id": ORG, "shared_tickets": True, "updated_at": "2026-02-01T00:00:00+00:00"}},
        producer="users", occurred_at=datetime(2026, 2, 1, tzinfo=UTC))

    assert handlers.project_organization(envelope, uow=uow) is True  # (a redelivery: the entrypoint's inbox claim)
    assert uow.organizations.shares_tickets(ORG)


def test_the_search_feed_copies_both_tickets_of_a_merge(uow, open_one, agent):
    duplicate, target = open_one(), open_one()
    handlers.merge_tickets(duplicate["id"], target["id"], agent, uow=uow)
    external = type(uow.search)()

    handlers.feed_search_index(uow.events[-1], uow=uow, index=external)

    assert set(external.docs) == {duplicate["id"], target["id"]}


def test_the_fake_directory_is_the_one_the_handlers_ask(uow, customer):
    directory = FakeDirectory()
    agent = actor("agent", id=directory.add("agent")["id"])
    ticket = handlers.open_ticket({"title": "t", "description": "d"}, customer, uow=uow, directory=directory)

    handlers.assign_ticket(ticket["id"], agent, uow=uow, assignee_id=agent["id"], directory=directory)

    assert agent["id"] in directory.looked_up
