"""The tickets handlers on a real, migrated database with a real UnitOfWork and a fake users directory:
state, history lines and events recorded in the outbox in the same transaction, visibility for every
role, and nothing recorded when a handler raises."""

import uuid

import pytest

from helpdesk_contracts.errors import ServiceError
from helpdesk_contracts.events import validate_envelope
from services.tickets import handlers
from services.tickets.domain.errors import (
    IllegalTransition,
    PermissionDenied,
    StaleTicket,
    TicketNotFound,
    ValidationFailed,
)
from tests.unit.tickets.factories import DEPT_A, DEPT_B, ORG, actor, new_id

UNKNOWN_ID = str(uuid.UUID(int=1))
VIEW_ONLY = ("description", "resolution", "metadata", "unread")


def types(events):
    return [e["type"] for e in events]


def snapshot(view):
    """The part of a ticket view that events carry."""
    return {k: v for k, v in view.items() if k not in VIEW_ONLY}


@pytest.fixture(autouse=True)
def events_honour_the_contract(outbox):
    """Whatever a test made the handlers record must validate against the published contract.

    validate_envelope costs ~50 ms (it re-checks the meta-schema), so each test checks the last envelope of
    each type it recorded; test_every_recorded_event_honours_the_contract checks every one of a full tour."""
    yield
    latest = {e["type"]: e for e in outbox()}
    for envelope in latest.values():
        validate_envelope(envelope)
        assert envelope["producer"] == "tickets"



@pytest.fixture(autouse=True)
def categories(run, admin):
    """The categories these tests file tickets under (a category must exist to be used)."""
    for name in ("network", "hardware", "a", "b"):
        run(handlers.create_category, {"name": name}, admin)


def test_every_recorded_event_honours_the_contract(
    run, create_ticket, customer, agent, admin, system, directory, outbox
):
    directory.add("customer", id=customer["id"])
    ticket = create_ticket(tags=["vpn"], urgency="high", impact="low", metadata={"k": "v"})
    on_behalf = create_ticket(by=system, requester_id=customer["id"], source="api")
    run(handlers.update_ticket, ticket["id"], {"metadata": {"k": "w"}, "tags": []}, agent)
    run(handlers.change_priority, ticket["id"], "urgent", agent)
    run(handlers.assign_ticket, ticket["id"], admin, assignee_id=agent["id"])
    run(handlers.assign_ticket, ticket["id"], agent, assignee_id=None)
    run(handlers.assign_ticket, ticket["id"], agent, department_id=DEPT_A, set_department=True)
    run(handlers.add_comment, ticket["id"], {"body": "Note", "internal": True, "mentions": [admin["id"]]}, agent)
    run(handlers.add_comment, ticket["id"], {"body": "Reply"}, agent)
    run(handlers.add_comment, ticket["id"], {"body": "Thanks"}, customer)
    run(handlers.change_status, ticket["id"], "resolved", agent, resolution="Done")
    run(handlers.change_status, ticket["id"], "open", customer)
    run(handlers.close_ticket, ticket["id"], customer)
    run(handlers.delete_ticket, on_behalf["id"], admin)
    events = outbox()
    assert set(types(events)) == {
        "ticket.created",
        "ticket.updated",
        "ticket.assigned",
        "ticket.unassigned",
        "ticket.commented",
        "ticket.status_changed",
        "ticket.deleted",
    }
    for envelope in events:
        validate_envelope(envelope)
    # one change may state several facts (an assignment that also opens the ticket): same version
    versions = [e["data"]["ticket"]["version"] for e in events if e["data"]["ticket"]["id"] == ticket["id"]]
    assert versions == sorted(versions)
    assert set(versions) == set(range(1, 13))


@pytest.fixture
def recorded(run, outbox, admin):
    """Everything a change could leave behind: the stored ticket, its history and thread, and the outbox."""

    def read(ticket_id):
        return (
            run(handlers.get_ticket, ticket_id, admin),
            run(handlers.get_history, ticket_id, admin),
            run(handlers.list_comments, ticket_id, admin),
            outbox(),
        )

    return read


@pytest.fixture
def history(run, admin):
    """The full history of a ticket as (action, field, before, after) tuples."""

    def read(ticket_id, by=None):
        return [
            (h["action"], h["field"], h["before"], h["after"])
            for h in run(handlers.get_history, ticket_id, by or admin)
        ]

    return read


# open_ticket ----------------------------------------------------------------------------------------


def test_open_ticket_numbers_tickets_sequentially(create_ticket):
    assert [create_ticket()["number"] for _ in range(3)] == ["TKT-000001", "TKT-000002", "TKT-000003"]


def test_open_ticket_records_ticket_created_and_a_history_line(create_ticket, customer, outbox, history, clock):
    ticket = create_ticket(priority="high", tags=["VPN", "vpn", "Remote"], category="network", source="email")
    assert (ticket["status"], ticket["version"], ticket["priority"], ticket["tags"]) == (
        "new",
        1,
        "high",
        ["remote", "vpn"],
    )
    assert (ticket["requester_id"], ticket["assignee_id"], ticket["reopen_count"]) == (customer["id"], None, 0)
    assert ticket["created_at"] == ticket["updated_at"] == clock.now().isoformat()
    [event] = outbox()
    assert event["type"] == "ticket.created"
    assert event["data"] == {
        "ticket": snapshot(ticket),
        "actor": {"id": customer["id"], "role": "customer", "via": "api"},
    }
    validate_envelope(event)
    assert history(ticket["id"]) == [("created", None, None, None)]


def test_open_ticket_files_a_customer_ticket_under_their_organization(create_ticket):
    assert create_ticket(organization_id=new_id())["organization_id"] == ORG


def test_open_ticket_for_a_customer_files_it_under_the_customers_organization(create_ticket, agent, directory):
    requester = directory.add("customer", organization_id=ORG)
    assert create_ticket(by=agent, requester_id=requester["id"])["organization_id"] == ORG


def test_open_ticket_keeps_the_organization_an_agent_names(create_ticket, agent, directory):
    requester = directory.add("customer", organization_id=ORG)
    other = new_id()
    directory.organizations[other] = {"id": other, "name": "Other"}
    assert create_ticket(by=agent, requester_id=requester["id"], organization_id=other)["organization_id"] == other


def test_open_ticket_derives_priority_from_urgency_and_impact(create_ticket):
    ticket = create_ticket(priority="low", urgency="high", impact="critical")
    assert (ticket["urgency"], ticket["impact"], ticket["priority"]) == ("high", "critical", "urgent")


def test_open_ticket_lets_an_agent_open_on_behalf_of_a_requester(create_ticket, agent, directory, outbox):
    requester = directory.add("customer")
    ticket = create_ticket(by=agent, requester_id=requester["id"], metadata={"phone": "555"})
    assert ticket["requester_id"] == requester["id"]
    assert ticket["metadata"] == {"phone": "555"}
    assert requester["id"] in directory.looked_up
    assert outbox()[0]["data"]["actor"]["id"] == agent["id"]


def test_open_ticket_refuses_a_customer_opening_for_someone_else(create_ticket, other_customer, outbox):
    with pytest.raises(PermissionDenied):
        create_ticket(requester_id=other_customer["id"])
    assert outbox() == []
    assert create_ticket()["number"] == "TKT-000001"  # the failed call took no number


def test_open_ticket_refuses_an_unknown_requester(create_ticket, agent, outbox):
    with pytest.raises(ValidationFailed) as exc:
        create_ticket(by=agent, requester_id=UNKNOWN_ID)
    assert "requester_id" in exc.value.errors
    assert outbox() == []


def test_open_ticket_needs_a_requester_from_the_system(create_ticket, system, outbox):
    with pytest.raises(ValidationFailed) as exc:
        create_ticket(by=system)
    assert "requester_id" in exc.value.errors
    assert outbox() == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": None}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": ""}, "description"),
        ({"priority": "whenever"}, "priority"),
        ({"urgency": "high"}, "impact"),
        ({"urgency": "extreme", "impact": "low"}, "urgency"),
        ({"source": "fax"}, "source"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"department_id": "short"}, "department_id"),
        ({"status": "closed"}, "status"),
    ],
)
def test_open_ticket_rejects_invalid_input(create_ticket, outbox, data, field):
    with pytest.raises(ValidationFailed) as exc:
        create_ticket(**data)
    assert field in exc.value.errors
    assert outbox() == []


@pytest.mark.parametrize("caller", [None, "customer", {"id": UNKNOWN_ID}, {"id": UNKNOWN_ID, "role": "root"}])
def test_open_ticket_rejects_a_missing_or_unknown_actor(run, outbox, caller):
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.open_ticket, {"title": "T", "description": "D"}, caller)
    assert "actor" in exc.value.errors
    assert outbox() == []


# get_ticket -----------------------------------------------------------------------------------------


def test_get_ticket_returns_the_ticket_as_opened(run, create_ticket, customer):
    ticket = create_ticket()
    assert run(handlers.get_ticket, ticket["id"], customer) == ticket


def test_get_ticket_shows_metadata_to_staff_only(run, create_ticket, customer, agent):
    ticket = create_ticket(metadata={"browser": "firefox"})
    assert "metadata" not in run(handlers.get_ticket, ticket["id"], customer)
    assert run(handlers.get_ticket, ticket["id"], agent)["metadata"] == {"browser": "firefox"}


def test_get_ticket_raises_not_found_for_an_unknown_id(run, admin):
    with pytest.raises(TicketNotFound):
        run(handlers.get_ticket, UNKNOWN_ID, admin)


# visibility for each role ---------------------------------------------------------------------------


@pytest.fixture
def grid(create_ticket, run, customer, other_customer, agent, admin):
    """Tickets in every visibility position: whose, which department, assigned to whom."""
    tickets = {
        "mine_unrouted": create_ticket(by=customer, tags=["a"]),
        "mine_in_b": create_ticket(by=customer, department_id=DEPT_B, tags=["b"]),
        "other_in_a": create_ticket(by=other_customer, department_id=DEPT_A, tags=["c"]),
        "other_in_b": create_ticket(by=other_customer, department_id=DEPT_B, tags=["d"]),
        "other_in_b_for_agent": create_ticket(by=other_customer, department_id=DEPT_B, tags=["e"]),
    }
    run(handlers.assign_ticket, tickets["other_in_b_for_agent"]["id"], admin, assignee_id=agent["id"])
    run(handlers.add_comment, tickets["other_in_b"]["id"], {"body": "Looking"}, admin)
    return {name: t["id"] for name, t in tickets.items()}


ALL = {"mine_unrouted", "mine_in_b", "other_in_a", "other_in_b", "other_in_b_for_agent"}
SEES = {
    "customer": {"mine_unrouted", "mine_in_b"},
    "other_customer": {"other_in_a", "other_in_b", "other_in_b_for_agent"},
    "agent": {"mine_unrouted", "other_in_a", "other_in_b_for_agent"},  # department A
    "agent_b": {"mine_unrouted", "mine_in_b", "other_in_b", "other_in_b_for_agent"},  # department B
    "supervisor": ALL,
    "admin": ALL,
    "system": ALL,
}


@pytest.mark.parametrize("role", SEES)
def test_get_comments_and_history_follow_visibility(request, run, grid, role):
    caller = request.getfixturevalue(role)
    for name, ticket_id in grid.items():
        if name in SEES[role]:
            assert run(handlers.get_ticket, ticket_id, caller)["id"] == ticket_id
            run(handlers.list_comments, ticket_id, caller)
            assert run(handlers.get_history, ticket_id, caller)
        else:
            for read in (handlers.get_ticket, handlers.list_comments, handlers.get_history):
                with pytest.raises(TicketNotFound):
                    run(read, ticket_id, caller)


@pytest.mark.parametrize("role", SEES)
def test_list_stats_and_tags_follow_visibility(request, run, grid, role):
    caller = request.getfixturevalue(role)
    expected = {grid[name] for name in SEES[role]}
    page = run(handlers.list_tickets, caller)
    assert {t["id"] for t in page["items"]} == expected
    assert page["total"] == len(expected)
    assert run(handlers.ticket_stats, caller)["total"] == len(expected)
    assert sum(t["count"] for t in run(handlers.list_tags, caller)) == len(expected)


@pytest.mark.parametrize(
    "caller",
    [
        pytest.param(actor("agent"), id="agent without department"),
        pytest.param(actor("supervisor", department_id=DEPT_A), id="supervisor"),
    ],
)
def test_get_and_list_agree_on_visibility(run, grid, caller):
    """Whatever get lets a caller open, the list shows, and nothing more."""
    by_get = set()
    for ticket_id in grid.values():
        try:
            run(handlers.get_ticket, ticket_id, caller)
            by_get.add(ticket_id)
        except TicketNotFound:
            pass
    assert {t["id"] for t in run(handlers.list_tickets, caller)["items"]} == by_get


# update_ticket / change_priority --------------------------------------------------------------------


def test_update_ticket_records_ticket_updated_and_a_history_line_per_field(run, create_ticket, agent, outbox, history):
    ticket = create_ticket(tags=["old"])
    updated = run(
        handlers.update_ticket,
        ticket["id"],
        {"title": "New title", "tags": ["Net", "net"], "category": "network"},
        agent,
    )
    assert (updated["title"], updated["tags"], updated["category"], updated["version"]) == (
        "New title",
        ["net"],
        "network",
        2,
    )
    event = outbox("ticket.updated")[-1]
    assert event["data"]["changes"] == {
        "title": {"before": "VPN is down", "after": "New title"},
        "tags": {"before": ["old"], "after": ["net"]},
        "category": {"before": None, "after": "network"},
    }
    assert event["data"]["ticket"] == snapshot(updated)
    assert event["data"]["actor"]["id"] == agent["id"]
    assert sorted(history(ticket["id"])[1:]) == [
        ("updated", "category", None, "network"),
        ("updated", "tags", ["old"], ["net"]),
        ("updated", "title", "VPN is down", "New title"),
    ]


def test_update_ticket_recomputes_priority_from_urgency_and_impact(run, create_ticket, agent):
    ticket = create_ticket()
    updated = run(handlers.update_ticket, ticket["id"], {"urgency": "critical", "impact": "high"}, agent)
    assert updated["priority"] == "urgent"


def test_update_ticket_records_nothing_when_nothing_changes(run, create_ticket, agent, recorded):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    assert run(handlers.update_ticket, ticket["id"], {"title": ticket["title"]}, agent)["version"] == 1
    assert recorded(ticket["id"]) == before


def test_update_ticket_lets_the_requester_retitle_a_new_ticket(run, create_ticket, customer):
    ticket = create_ticket()
    assert run(handlers.update_ticket, ticket["id"], {"title": "Clearer"}, customer)["title"] == "Clearer"


def test_update_ticket_refuses_the_requester_once_open(run, create_ticket, customer, agent, recorded):
    ticket = create_ticket()
    run(handlers.change_status, ticket["id"], "open", agent)
    before = recorded(ticket["id"])
    with pytest.raises(PermissionDenied):
        run(handlers.update_ticket, ticket["id"], {"title": "Clearer"}, customer)
    assert recorded(ticket["id"]) == before


def test_update_ticket_keeps_metadata_changes_out_of_the_requester_history(
    run, create_ticket, customer, agent, history
):
    ticket = create_ticket()
    run(handlers.update_ticket, ticket["id"], {"metadata": {"asset": "PC-9"}, "category": "hardware"}, agent)
    assert {line[1] for line in history(ticket["id"], agent)} == {None, "metadata", "category"}
    assert {line[1] for line in history(ticket["id"], customer)} == {None, "category"}


@pytest.mark.parametrize(
    "changes",
    [{"status": "closed"}, {"requester_id": UNKNOWN_ID}, {"title": ""}, {"priority": "asap"}, {"tags": "vpn"}],
)
def test_update_ticket_rejects_invalid_changes(run, create_ticket, agent, recorded, changes):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.update_ticket, ticket["id"], changes, agent)
    assert set(exc.value.errors) == set(changes)
    assert recorded(ticket["id"]) == before


def test_update_ticket_raises_stale_ticket_with_the_current_version(run, create_ticket, agent, recorded):
    ticket = create_ticket()
    run(handlers.update_ticket, ticket["id"], {"category": "a"}, agent, expected_version=1)
    before = recorded(ticket["id"])
    with pytest.raises(StaleTicket) as exc:
        run(handlers.update_ticket, ticket["id"], {"category": "b"}, agent, expected_version=1)
    assert exc.value.errors == {"version": ["2"]}
    assert "now 2" in exc.value.message
    assert recorded(ticket["id"]) == before


def test_update_ticket_rejects_a_non_numeric_expected_version(run, create_ticket, agent):
    ticket = create_ticket()
    with pytest.raises(ValidationFailed):
        run(handlers.update_ticket, ticket["id"], {"category": "b"}, agent, expected_version='W/"1"')


def test_change_priority_records_ticket_updated(run, create_ticket, agent, outbox):
    ticket = create_ticket()
    assert run(handlers.change_priority, ticket["id"], "urgent", agent)["priority"] == "urgent"
    assert outbox("ticket.updated")[-1]["data"]["changes"] == {"priority": {"before": "medium", "after": "urgent"}}


def test_change_priority_refuses_customers(run, create_ticket, customer, recorded):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(PermissionDenied):
        run(handlers.change_priority, ticket["id"], "urgent", customer)
    assert recorded(ticket["id"]) == before


def test_change_priority_honours_expected_version(run, create_ticket, agent):
    ticket = create_ticket()
    with pytest.raises(StaleTicket):
        run(handlers.change_priority, ticket["id"], "urgent", agent, expected_version=7)
    assert run(handlers.get_ticket, ticket["id"], agent)["priority"] == "medium"


# change_status / close_ticket -----------------------------------------------------------------------


def test_change_status_records_status_changed_and_a_history_line(run, create_ticket, agent, outbox, history):
    ticket = create_ticket()
    moved = run(handlers.change_status, ticket["id"], "in_progress", agent)
    assert (moved["status"], moved["version"]) == ("in_progress", 2)
    event = outbox("ticket.status_changed")[-1]
    assert {k: event["data"][k] for k in ("from", "to", "resolution")} == {
        "from": "new",
        "to": "in_progress",
        "resolution": None,
    }
    assert event["data"]["ticket"] == snapshot(moved)
    assert history(ticket["id"])[-1] == ("status_changed", "status", "new", "in_progress")


def test_change_status_refuses_an_illegal_move_and_names_the_legal_ones(run, create_ticket, agent, recorded):
    ticket = create_ticket()
    run(handlers.change_status, ticket["id"], "closed", agent)
    before = recorded(ticket["id"])
    with pytest.raises(IllegalTransition) as exc:
        run(handlers.change_status, ticket["id"], "in_progress", agent)
    assert "allowed: open" in exc.value.message
    assert recorded(ticket["id"]) == before


def test_change_status_rejects_an_unknown_status(run, create_ticket, agent, recorded):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(ValidationFailed):
        run(handlers.change_status, ticket["id"], "archived", agent)
    assert recorded(ticket["id"]) == before


def test_change_status_counts_a_reopen(run, create_ticket, agent, outbox, history):
    ticket = create_ticket()
    run(handlers.change_status, ticket["id"], "resolved", agent, resolution="Rebooted")
    reopened = run(handlers.change_status, ticket["id"], "open", agent)
    assert (reopened["status"], reopened["reopen_count"], reopened["resolved_at"]) == ("open", 1, None)
    event = outbox("ticket.status_changed")[-1]
    assert (event["data"]["from"], event["data"]["to"], event["data"]["ticket"]["reopen_count"]) == (
        "resolved",
        "open",
        1,
    )
    fields = {line[1] for line in history(ticket["id"]) if line[0] == "status_changed"}
    assert {"status", "reopen_count", "resolved_at", "resolution"} <= fields


def test_close_ticket_lets_the_requester_close_with_a_resolution(run, create_ticket, customer, outbox, clock):
    ticket = create_ticket()
    clock.advance(hours=2)
    closed = run(handlers.close_ticket, ticket["id"], customer, resolution="Works again")
    assert (closed["status"], closed["resolution"], closed["closed_at"]) == (
        "closed",
        "Works again",
        clock.now().isoformat(),
    )
    event = outbox("ticket.status_changed")[-1]
    assert (event["data"]["to"], event["data"]["resolution"], event["data"]["actor"]["role"]) == (
        "closed",
        "Works again",
        "customer",
    )


def test_change_status_lets_the_requester_reopen(run, create_ticket, customer, agent):
    ticket = create_ticket()
    run(handlers.change_status, ticket["id"], "resolved", agent)
    assert run(handlers.change_status, ticket["id"], "open", customer)["reopen_count"] == 1


@pytest.mark.parametrize("to", ["in_progress", "resolved", "waiting"])
def test_change_status_refuses_the_requester_other_moves(run, create_ticket, customer, recorded, to):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(PermissionDenied):
        run(handlers.change_status, ticket["id"], to, customer)
    assert recorded(ticket["id"]) == before


def test_change_status_raises_stale_ticket_with_the_current_version(run, create_ticket, agent, recorded):
    ticket = create_ticket()
    run(handlers.change_status, ticket["id"], "open", agent)
    before = recorded(ticket["id"])
    with pytest.raises(StaleTicket) as exc:
        run(handlers.close_ticket, ticket["id"], agent, expected_version=1)
    assert exc.value.errors == {"version": ["2"]}
    assert recorded(ticket["id"]) == before


def test_change_status_rejects_an_overlong_resolution(run, create_ticket, agent, recorded):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.close_ticket, ticket["id"], agent, resolution="x" * 20001)
    assert "resolution" in exc.value.errors
    assert recorded(ticket["id"]) == before


# assign_ticket ----------------------------------------------------------------------------------------


def test_assign_ticket_opens_a_new_ticket_and_records_ticket_assigned(
    run, create_ticket, admin, agent, outbox, history
):
    ticket = create_ticket()
    assigned = run(handlers.assign_ticket, ticket["id"], admin, assignee_id=agent["id"])
    assert (assigned["assignee_id"], assigned["status"], assigned["version"]) == (agent["id"], "open", 2)
    [event] = outbox("ticket.assigned")
    assert {k: v for k, v in event["data"].items() if k != "ticket"} == {
        "assignee_id": agent["id"],
        "previous_assignee_id": None,
        "department_id": None,
        "previous_department_id": None,
        "actor": {"id": admin["id"], "role": "admin", "via": "api"},
    }
    assert event["data"]["ticket"] == snapshot(assigned)
    assert sorted(history(ticket["id"])[1:]) == [
        ("assigned", "assignee_id", None, agent["id"]),
        ("assigned", "status", "new", "open"),
    ]


def test_assign_ticket_routes_to_a_department(run, create_ticket, agent, outbox):
    ticket = create_ticket(department_id=DEPT_A)
    routed = run(handlers.assign_ticket, ticket["id"], agent, department_id=DEPT_B, set_department=True)
    assert (routed["department_id"], routed["status"], routed["assignee_id"]) == (DEPT_B, "new", None)
    [event] = outbox("ticket.assigned")
    assert (event["data"]["department_id"], event["data"]["previous_department_id"]) == (DEPT_B, DEPT_A)


def test_assign_ticket_none_records_ticket_unassigned(run, create_ticket, agent, outbox):
    ticket = create_ticket()
    run(handlers.assign_ticket, ticket["id"], agent, assignee_id=agent["id"])
    unassigned = run(handlers.assign_ticket, ticket["id"], agent, assignee_id=None)
    assert (unassigned["assignee_id"], unassigned["status"]) == (None, "open")
    [event] = outbox("ticket.unassigned")
    assert event["data"]["previous_assignee_id"] == agent["id"]
    assert types(outbox()) == ["ticket.created", "ticket.status_changed", "ticket.assigned", "ticket.unassigned"]


def test_assign_ticket_to_a_department_keeps_the_agent(run, create_ticket, agent, outbox):
    ticket = create_ticket()
    run(handlers.assign_ticket, ticket["id"], agent, assignee_id=agent["id"])
    moved = run(handlers.assign_ticket, ticket["id"], agent, department_id=DEPT_A, set_department=True,
                set_assignee=False)
    assert (moved["assignee_id"], moved["department_id"]) == (agent["id"], DEPT_A)
    assert types(outbox())[-1] == "ticket.assigned"


def test_assign_ticket_to_the_same_agent_records_nothing(run, create_ticket, agent, recorded):
    ticket = create_ticket()
    run(handlers.assign_ticket, ticket["id"], agent, assignee_id=agent["id"])
    before = recorded(ticket["id"])
    run(handlers.assign_ticket, ticket["id"], agent, assignee_id=agent["id"])
    assert recorded(ticket["id"]) == before


@pytest.mark.parametrize(
    "assignee",
    [
        pytest.param(lambda d: UNKNOWN_ID, id="unknown"),
        pytest.param(lambda d: d.add("agent", status="inactive")["id"], id="inactive agent"),
        pytest.param(lambda d: d.add("customer")["id"], id="customer"),
    ],
)
def test_assign_ticket_rejects_anyone_but_an_active_agent(run, create_ticket, admin, directory, recorded, assignee):
    ticket = create_ticket()
    assignee_id = assignee(directory)
    before = recorded(ticket["id"])
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.assign_ticket, ticket["id"], admin, assignee_id=assignee_id)
    assert "assignee_id" in exc.value.errors
    assert assignee_id in directory.looked_up
    assert recorded(ticket["id"]) == before


def test_assign_ticket_accepts_a_supervisor(run, create_ticket, admin, supervisor):
    ticket = create_ticket()
    assert (
        run(handlers.assign_ticket, ticket["id"], admin, assignee_id=supervisor["id"])["assignee_id"]
        == (supervisor["id"])
    )


def test_assign_ticket_refuses_customers(run, create_ticket, customer, agent, recorded):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(PermissionDenied):
        run(handlers.assign_ticket, ticket["id"], customer, assignee_id=agent["id"])
    assert recorded(ticket["id"]) == before


def test_assign_ticket_hides_tickets_the_agent_cannot_see(run, create_ticket, agent, recorded):
    ticket = create_ticket(department_id=DEPT_B)
    before = recorded(ticket["id"])
    with pytest.raises(TicketNotFound):
        run(handlers.assign_ticket, ticket["id"], agent, assignee_id=agent["id"])
    assert recorded(ticket["id"]) == before


def test_assign_ticket_raises_stale_ticket_with_the_current_version(run, create_ticket, agent, admin, recorded):
    ticket = create_ticket()
    run(handlers.change_status, ticket["id"], "open", agent)
    before = recorded(ticket["id"])
    with pytest.raises(StaleTicket) as exc:
        run(handlers.assign_ticket, ticket["id"], admin, assignee_id=agent["id"], expected_version=1)
    assert exc.value.errors == {"version": ["2"]}
    assert recorded(ticket["id"]) == before


# add_comment / list_comments / get_history ---------------------------------------------------------


def test_add_comment_public_reply_by_an_agent_sets_first_response(run, create_ticket, agent, outbox, history, clock):
    ticket = create_ticket()
    clock.advance(minutes=30)
    mention = new_id()
    comment = run(handlers.add_comment, ticket["id"], {"body": "On it", "mentions": [mention]}, agent)
    assert (comment["ticket_id"], comment["author_id"], comment["author_role"], comment["internal"]) == (
        ticket["id"],
        agent["id"],
        "agent",
        False,
    )
    assert (comment["mentions"], comment["created_at"]) == ([mention], clock.now().isoformat())
    stored = run(handlers.get_ticket, ticket["id"], agent)
    assert (stored["first_response_at"], stored["version"]) == (clock.now().isoformat(), 2)
    [event] = outbox("ticket.commented")
    assert event["data"]["comment"] == {k: v for k, v in comment.items() if k != "ticket_id"}
    assert event["data"]["ticket"]["first_response_at"] == clock.now().isoformat()
    assert history(ticket["id"])[-1] == ("replied", "first_response_at", None, clock.now().isoformat())


def test_add_comment_by_the_requester_leaves_first_response_unset(run, create_ticket, customer, history):
    ticket = create_ticket()
    run(handlers.add_comment, ticket["id"], {"body": "Any news?"}, customer)
    assert run(handlers.get_ticket, ticket["id"], customer)["first_response_at"] is None
    assert history(ticket["id"])[-1] == ("replied", None, None, None)


def test_internal_notes_are_hidden_from_the_requester(run, create_ticket, customer, agent, history, clock):
    ticket = create_ticket()
    run(handlers.add_comment, ticket["id"], {"body": "Probably DNS", "internal": True}, agent)
    clock.advance(minutes=1)
    run(handlers.add_comment, ticket["id"], {"body": "Please restart"}, agent)
    assert [c["body"] for c in run(handlers.list_comments, ticket["id"], agent)] == ["Probably DNS", "Please restart"]
    assert [c["body"] for c in run(handlers.list_comments, ticket["id"], customer)] == ["Please restart"]
    assert [line[0] for line in history(ticket["id"], agent)] == ["created", "internal_note", "replied"]
    assert [line[0] for line in history(ticket["id"], customer)] == ["created", "replied"]


def test_internal_note_does_not_count_as_first_response(run, create_ticket, agent):
    ticket = create_ticket()
    run(handlers.add_comment, ticket["id"], {"body": "Probably DNS", "internal": True}, agent)
    assert run(handlers.get_ticket, ticket["id"], agent)["first_response_at"] is None


def test_internal_note_event_says_it_is_internal(run, create_ticket, agent, outbox):
    ticket = create_ticket()
    run(handlers.add_comment, ticket["id"], {"body": "Probably DNS", "internal": True}, agent)
    assert outbox("ticket.commented")[-1]["data"]["comment"]["internal"] is True


def test_internal_note_by_a_customer_is_denied_and_records_nothing(run, create_ticket, customer, recorded):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(PermissionDenied):
        run(handlers.add_comment, ticket["id"], {"body": "Sneaky", "internal": True}, customer)
    assert recorded(ticket["id"]) == before
    assert before[2] == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": ""}, "body"),
        ({}, "body"),
        ({"body": "x", "mentions": ["x"]}, "mentions"),
        ({"body": "x", "pinned": True}, "pinned"),
    ],
)
def test_add_comment_rejects_invalid_input(run, create_ticket, agent, recorded, data, field):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.add_comment, ticket["id"], data, agent)
    assert field in exc.value.errors
    assert recorded(ticket["id"]) == before


def test_add_comment_on_someone_elses_ticket_is_not_found(run, create_ticket, other_customer, recorded):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(TicketNotFound):
        run(handlers.add_comment, ticket["id"], {"body": "Me too"}, other_customer)
    assert recorded(ticket["id"]) == before


def test_the_system_comments_as_nobody_and_counts_as_no_first_response(run, create_ticket, system, outbox):
    """A rule's reply or note: written by the system (author null in the answer and the event), in the
    history with the rule that wrote it, and no agent's first response."""
    ticket = create_ticket()
    comment = run(handlers.add_comment, ticket["id"], {"body": "We got your ticket."}, system)

    assert (comment["author_id"], comment["author_role"]) == (None, "system")
    event = outbox("ticket.commented")[-1]
    assert event["data"]["comment"]["author_id"] is None and event["data"]["actor"]["role"] == "system"
    assert event["data"]["ticket"]["first_response_at"] is None
    note = run(handlers.add_comment, ticket["id"], {"body": "Routed by a rule.", "internal": True}, system)
    assert note["internal"] is True and note["author_role"] == "system"


def test_a_comment_without_an_author_is_refused_unless_the_system_writes_it(run, create_ticket):
    ticket = create_ticket()
    with pytest.raises(ServiceError):
        run(handlers.add_comment, ticket["id"], {"body": "Who am I"}, {"id": None, "role": "agent"})


# delete_ticket ----------------------------------------------------------------------------------------


def test_delete_ticket_hides_the_ticket_everywhere(run, create_ticket, admin, outbox):
    ticket = create_ticket(tags=["gone"])
    kept = create_ticket(tags=["kept"])
    assert run(handlers.delete_ticket, ticket["id"], admin) is None
    [event] = outbox("ticket.deleted")
    assert (event["data"]["ticket"]["id"], event["data"]["actor"]["id"]) == (ticket["id"], admin["id"])
    for read in (handlers.get_ticket, handlers.list_comments, handlers.get_history, handlers.delete_ticket):
        with pytest.raises(TicketNotFound):
            run(read, ticket["id"], admin)
    assert [t["id"] for t in run(handlers.list_tickets, admin)["items"]] == [kept["id"]]
    assert run(handlers.ticket_stats, admin)["total"] == 1
    assert run(handlers.list_tags, admin) == [{"tag": "kept", "count": 1}]


@pytest.mark.parametrize("role", ["customer", "agent", "supervisor"])
def test_delete_ticket_is_for_admins_only(request, run, create_ticket, recorded, role):
    ticket = create_ticket()
    before = recorded(ticket["id"])
    with pytest.raises(PermissionDenied):
        run(handlers.delete_ticket, ticket["id"], request.getfixturevalue(role))
    assert recorded(ticket["id"]) == before


# list_tickets -------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(create_ticket, run, clock, other_customer, agent, admin):
    """Four tickets a day apart: t1 new/low, t2 open/high for the agent, t3 in_progress/urgent, t4 resolved/medium."""
    tickets = {}
    tickets["t1"] = create_ticket(title="Cannot connect to VPN", priority="low", tags=["vpn"])
    clock.advance(days=1)
    tickets["t2"] = create_ticket(title="Printer jammed", priority="high", tags=["printer"], department_id=DEPT_A)
    run(handlers.assign_ticket, tickets["t2"]["id"], admin, assignee_id=agent["id"])
    clock.advance(days=1)
    tickets["t3"] = create_ticket(
        by=other_customer,
        title="VPN and printer both broken",
        priority="urgent",
        tags=["vpn", "printer"],
        department_id=DEPT_B,
    )
    run(handlers.change_status, tickets["t3"]["id"], "in_progress", admin)
    clock.advance(days=1)
    tickets["t4"] = create_ticket(title="Mail bounced", priority="medium", tags=["vpn"])
    run(handlers.change_status, tickets["t4"]["id"], "resolved", admin)
    clock.advance(days=1)
    return {name: t["id"] for name, t in tickets.items()}


def names(page, catalogue):
    by_id = {v: k for k, v in catalogue.items()}
    return [by_id[t["id"]] for t in page["items"]]


DAY_1 = "2026-01-06T09:00:00+00:00"  # FakeClock starts on 2026-01-05 09:00 UTC
DAY_2 = "2026-01-07T09:00:00+00:00"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": ["new"]}, {"t1"}),
        ({"status": "new,resolved"}, {"t1", "t4"}),
        ({"status": ["open", "in_progress"]}, {"t2", "t3"}),
        ({"priority": ["high", "urgent"]}, {"t2", "t3"}),
        ({"priority": "low"}, {"t1"}),
        ({"assignee_id": "none"}, {"t1", "t3", "t4"}),
        ({"tag": "vpn"}, {"t1", "t3", "t4"}),
        ({"tag": "print"}, set()),
        ({"department_id": DEPT_B}, {"t3"}),
        ({"created_from": DAY_1}, {"t2", "t3", "t4"}),
        ({"created_to": DAY_1}, {"t1", "t2"}),
        ({"created_from": DAY_1, "created_to": DAY_2}, {"t2", "t3"}),
        ({"status": ["new", "resolved"], "tag": "vpn", "priority": ["low"]}, {"t1"}),
        ({}, {"t1", "t2", "t3", "t4"}),
    ],
)
def test_list_tickets_filters(run, admin, catalogue, filters, expected):
    page = run(handlers.list_tickets, admin, filters)
    assert set(names(page, catalogue)) == expected
    assert page["total"] == len(expected)


def test_list_tickets_filters_by_requester(run, admin, catalogue, other_customer):
    page = run(handlers.list_tickets, admin, {"requester_id": other_customer["id"]})
    assert names(page, catalogue) == ["t3"]


def test_list_tickets_resolves_assignee_me_to_the_caller(run, agent, admin, catalogue):
    assert names(run(handlers.list_tickets, agent, {"assignee_id": "me"}), catalogue) == ["t2"]
    assert names(run(handlers.list_tickets, admin, {"assignee_id": "me"}), catalogue) == []


def test_list_tickets_matches_tags_in_any_case(run, admin, catalogue):
    assert set(names(run(handlers.list_tickets, admin, {"tag": "VPN"}), catalogue)) == {"t1", "t3", "t4"}


def test_list_tickets_matches_non_ascii_tags(run, admin, create_ticket):
    ticket = create_ticket(tags=["impresión"])
    assert [t["id"] for t in run(handlers.list_tickets, admin, {"tag": "impresión"})["items"]] == [ticket["id"]]


def test_list_tickets_narrows_to_the_words_of_q(run, admin, catalogue):
    page = run(handlers.list_tickets, admin, {"q": "bounced"})
    assert (names(page, catalogue), page["total"]) == (["t4"], 1)


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "expected"),
    [
        ("created_at", "desc", ["t4", "t3", "t2", "t1"]),
        ("created_at", "asc", ["t1", "t2", "t3", "t4"]),
        ("number", "asc", ["t1", "t2", "t3", "t4"]),
        ("title", "asc", ["t1", "t4", "t2", "t3"]),
        ("updated_at", "desc", ["t4", "t3", "t2", "t1"]),
    ],
)
def test_list_tickets_sorts(run, admin, catalogue, sort_by, sort_order, expected):
    page = run(handlers.list_tickets, admin, None, 1, 20, sort_by, sort_order)
    assert names(page, catalogue) == expected


def test_list_tickets_sorts_priority_by_severity(run, admin, catalogue):
    page = run(handlers.list_tickets, admin, None, 1, 20, "priority", "asc")
    assert names(page, catalogue) == ["t1", "t4", "t2", "t3"]


def test_list_tickets_pages_are_stable_and_complete(run, admin, create_ticket):
    created = {create_ticket()["id"] for _ in range(7)}  # same created_at: the id breaks ties
    pages = [run(handlers.list_tickets, admin, None, page, 3) for page in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert {p["total"] for p in pages} == {7}
    seen = [t["id"] for p in pages for t in p["items"]]
    assert len(seen) == len(set(seen)) and set(seen) == created
    assert pages[0] == run(handlers.list_tickets, admin, None, 1, 3)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((None, 1, 101), "limit"),
        ((None, 1, 0), "limit"),
        ((None, 0, 20), "page"),
        ((None, "two", 20), "page"),
        ((None, 1, 20, "description"), "sort_by"),
        ((None, 1, 20, "created_at", "sideways"), "sort_order"),
        (({"status": ["archived"]},), "status"),
        (({"priority": "asap"},), "priority"),
        (({"created_from": "2026-01-06T09:00:00"},), "created_from"),
        (({"created_to": "yesterday"},), "created_to"),
    ],
)
def test_list_tickets_rejects_invalid_arguments(run, admin, args, field):
    with pytest.raises(ValidationFailed) as exc:
        run(handlers.list_tickets, admin, *args)
    assert field in exc.value.errors


def test_list_tickets_accepts_the_largest_page(run, admin, catalogue):
    assert run(handlers.list_tickets, admin, None, 1, 100)["total"] == 4


# ticket_stats / list_tags ------------------------------------------------------------------------------


def test_ticket_stats_counts_by_status_priority_assignee_and_department(run, admin, agent, catalogue):
    stats = run(handlers.ticket_stats, admin)
    assert stats["total"] == 4
    assert stats["by_status"] == {"new": 1, "open": 1, "in_progress": 1, "waiting": 0, "resolved": 1, "closed": 0}
    assert stats["by_priority"] == {"low": 1, "medium": 1, "high": 1, "urgent": 1}
    assert stats["by_assignee"] == {agent["id"]: 1, "unassigned": 3}
    assert stats["by_department"] == {DEPT_A: 1, DEPT_B: 1, "none": 2}


def test_ticket_stats_for_a_customer_count_their_tickets_only(run, customer, catalogue):
    stats = run(handlers.ticket_stats, customer)
    assert (stats["total"], stats["by_status"]["in_progress"], stats["by_priority"]["urgent"]) == (3, 0, 0)
    assert "by_assignee" not in stats and "by_department" not in stats


def test_ticket_stats_apply_the_list_filters(run, admin, catalogue):
    stats = run(handlers.ticket_stats, admin, {"tag": "vpn", "status": ["new", "in_progress"]})
    assert (stats["total"], stats["by_priority"]) == (2, {"low": 1, "medium": 0, "high": 0, "urgent": 1})


def test_ticket_stats_resolve_assignee_me(run, agent, catalogue):
    assert run(handlers.ticket_stats, agent, {"assignee_id": "me"})["total"] == 1


def test_ticket_stats_reject_invalid_filters(run, admin):
    with pytest.raises(ValidationFailed):
        run(handlers.ticket_stats, admin, {"status": ["archived"]})


def test_list_tags_counts_visible_tags_most_used_first(run, admin, customer, agent_b, catalogue):
    assert run(handlers.list_tags, admin) == [{"tag": "vpn", "count": 3}, {"tag": "printer", "count": 2}]
    assert run(handlers.list_tags, customer) == [{"tag": "vpn", "count": 2}, {"tag": "printer", "count": 1}]
    assert run(handlers.list_tags, agent_b) == [{"tag": "vpn", "count": 3}, {"tag": "printer", "count": 1}]


def test_list_tags_breaks_ties_by_name(run, admin, create_ticket):
    create_ticket(tags=["zeta", "alpha"])
    assert run(handlers.list_tags, admin) == [{"tag": "alpha", "count": 1}, {"tag": "zeta", "count": 1}]


def test_history_records_who_and_when(run, create_ticket, agent, admin, clock):
    ticket = create_ticket()
    clock.advance(hours=1)
    run(handlers.change_status, ticket["id"], "open", agent)
    last = run(handlers.get_history, ticket["id"], admin)[-1]
    assert (last["actor_id"], last["actor_role"], last["via"], last["at"]) == (
        agent["id"],
        "agent",
        "api",
        clock.now().isoformat(),
    )


def test_history_keeps_the_channel_an_internal_caller_names(run, create_ticket, admin):
    ticket = create_ticket()
    run(handlers.change_status, ticket["id"], "open", {"id": None, "role": "system", "via": "automation"})
    last = run(handlers.get_history, ticket["id"], admin)[-1]
    assert (last["actor_id"], last["actor_role"], last["via"]) == (None, "system", "automation")


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_actor_without_id_is_rejected_unless_system(run, create_ticket, role):
    ticket = create_ticket()
    with pytest.raises(ValidationFailed):
        run(handlers.get_ticket, ticket["id"], actor(role, id=None))
