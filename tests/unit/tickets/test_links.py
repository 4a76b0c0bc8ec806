"""Links between tickets on a real database: one row per pair, the inverse read from the other side,
history lines on both, and only links to tickets the caller may see."""

import pytest

from helpdesk_contracts.errors import Conflict, NotFound
from services.tickets import handlers
from services.tickets.domain import rules
from services.tickets.domain.errors import PermissionDenied, TicketNotFound, ValidationFailed
from tests.unit.tickets.factories import DEPT_B


@pytest.fixture
def two(create_ticket):
    return create_ticket(title="Outage"), create_ticket(title="VPN down in Madrid")


def test_link_answers_the_link_from_the_callers_side(run, two, agent):
    parent, child = two

    link = run(handlers.link_tickets, child["id"], parent["id"], "parent", agent)

    assert (link["ticket_id"], link["other_id"], link["kind"]) == (child["id"], parent["id"], "parent")
    assert link["number"] == parent["number"]
    assert link["created_by"] == agent["id"]


def test_links_derive_the_inverse_on_the_other_ticket(run, two, agent):
    parent, child = two
    run(handlers.link_tickets, child["id"], parent["id"], "parent", agent)

    from_parent = run(handlers.list_links, parent["id"], agent)
    from_child = run(handlers.list_links, child["id"], agent)

    assert [(li["other_id"], li["kind"]) for li in from_parent] == [(child["id"], "child")]
    assert [(li["other_id"], li["kind"]) for li in from_child] == [(parent["id"], "parent")]


def test_link_the_same_pair_again_from_either_side_is_a_conflict(run, two, agent):
    a, b = two
    run(handlers.link_tickets, a["id"], b["id"], "related", agent)

    with pytest.raises(Conflict, match="already linked"):
        run(handlers.link_tickets, b["id"], a["id"], "child", agent)

    assert len(run(handlers.list_links, a["id"], agent)) == 1


def test_link_to_itself_is_a_conflict(run, two, agent):
    a, _ = two

    with pytest.raises(Conflict, match="itself"):
        run(handlers.link_tickets, a["id"], a["id"], "related", agent)


def test_unlink_from_itself_is_not_found(run, two, agent):
    a, _ = two

    with pytest.raises(NotFound, match="itself"):
        run(handlers.unlink_tickets, a["id"], a["id"], agent)


def test_link_with_an_unknown_kind_is_invalid(run, two, agent):
    a, b = two

    with pytest.raises(ValidationFailed) as raised:
        run(handlers.link_tickets, a["id"], b["id"], "sibling", agent)

    assert "kind" in raised.value.errors


def test_link_by_a_customer_is_refused(run, two, customer):
    a, b = two

    with pytest.raises(PermissionDenied):
        run(handlers.link_tickets, a["id"], b["id"], "related", customer)


def test_link_records_a_staff_only_history_line_on_both(run, two, agent, customer):
    a, b = two

    run(handlers.link_tickets, a["id"], b["id"], "child", agent)

    on_a = [h for h in run(handlers.get_history, a["id"], agent) if h["action"] == "linked"]
    on_b = [h for h in run(handlers.get_history, b["id"], agent) if h["action"] == "linked"]
    assert on_a[0]["after"] == {"number": b["number"], "kind": "child"}
    assert on_b[0]["after"] == {"number": a["number"], "kind": "parent"}
    assert [h for h in run(handlers.get_history, a["id"], customer) if h["action"] == "linked"] == []


def test_unlink_from_the_other_side_removes_the_link_and_records_it(run, two, agent):
    a, b = two
    run(handlers.link_tickets, a["id"], b["id"], "parent", agent)

    run(handlers.unlink_tickets, b["id"], a["id"], agent)

    assert run(handlers.list_links, a["id"], agent) == []
    unlinked = [h for h in run(handlers.get_history, b["id"], agent) if h["action"] == "unlinked"]
    assert unlinked[0]["before"] == {"number": a["number"], "kind": "child"}


def test_unlink_tickets_that_are_not_linked_is_not_found(run, two, agent):
    a, b = two

    with pytest.raises(NotFound, match="not linked"):
        run(handlers.unlink_tickets, a["id"], b["id"], agent)


def test_links_leave_out_tickets_the_caller_may_not_see(run, create_ticket, two, agent, admin, customer):
    a, b = two
    hidden = create_ticket(title="Elsewhere")
    run(handlers.assign_ticket, hidden["id"], admin, department_id=DEPT_B, set_department=True, set_assignee=False)
    run(handlers.link_tickets, a["id"], b["id"], "related", admin)
    run(handlers.link_tickets, a["id"], hidden["id"], "related", admin)

    assert {li["other_id"] for li in run(handlers.list_links, a["id"], admin)} == {b["id"], hidden["id"]}
    assert [li["other_id"] for li in run(handlers.list_links, a["id"], agent)] == [b["id"]]
    # the customer requested all three: routing the third elsewhere does not hide it from them
    assert {li["other_id"] for li in run(handlers.list_links, a["id"], customer)} == {b["id"], hidden["id"]}


def test_link_to_a_ticket_the_agent_cannot_see_is_not_found(run, create_ticket, two, agent, admin):
    a, _ = two
    hidden = create_ticket(title="Elsewhere")
    run(handlers.assign_ticket, hidden["id"], admin, department_id=DEPT_B, set_department=True, set_assignee=False)

    with pytest.raises(TicketNotFound):
        run(handlers.link_tickets, a["id"], hidden["id"], "related", agent)


@pytest.mark.parametrize("kind", rules.LINK_KINDS)
def test_stored_link_is_the_same_row_from_either_side(kind):
    low, high = "0" * 36, "f" * 36

    assert rules.stored_link(high, low, kind) == rules.stored_link(low, high, rules.inverse_kind(kind))
