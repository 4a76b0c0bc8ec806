"""The router's rules (``domain/routing.py``) as pure functions: who can take a ticket, who is chosen, and in
what order the backlog is served."""

from datetime import timedelta

import pytest

from services.automation.domain.model import LEAST_LOADED, MANUAL_ONLY, ROUND_ROBIN
from services.automation.domain.routing import backlog_key, choose, passed_over
from tests.unit.automation.factories import START, agent, tracked

EARLY, LATE = START - timedelta(hours=2), START - timedelta(hours=1)


# -- who can take a ticket ---------------------------------------------------------------------------


def test_an_active_online_agent_below_capacity_can_take_a_ticket():
    assert passed_over(agent(), 0) is None
    assert passed_over(agent(role="supervisor", max_concurrent_tickets=3), 2) is None


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"status": "inactive"}, "account inactive"),
    ({"status": "on_leave"}, "account on leave"),
    ({"availability": "away"}, "away, not online"),
    ({"availability": "offline"}, "offline, not online"),
    ({"role": "admin"}, "role admin is not assigned tickets automatically"),
    ({"role": "customer"}, "role customer is not assigned tickets automatically"),
])
def test_an_agent_who_cannot_work_now_is_passed_over_with_the_reason(overrides, reason):
    assert passed_over(agent(**overrides), 0) == reason


def test_an_agent_lacking_a_required_skill_is_passed_over_naming_the_missing_ones():
    linux_only = agent(skills=["linux"])

    assert passed_over(linux_only, 0, ["vpn", "linux", "billing"]) == "lacks skills: billing, vpn"
    assert passed_over(agent(skills=["linux", "vpn"]), 0, ["vpn"]) is None


def test_an_agent_at_capacity_is_passed_over_and_one_below_it_is_not():
    assert passed_over(agent(max_concurrent_tickets=3), 3) == "at capacity (3 of 3)"
    assert passed_over(agent(max_concurrent_tickets=3), 4) == "at capacity (4 of 3)"
    assert passed_over(agent(max_concurrent_tickets=3), 2) is None
    assert passed_over(agent(max_concurrent_tickets=0), 0) == "at capacity (0 of 0)"


# -- least loaded ------------------------------------------------------------------------------------


def test_least_loaded_picks_the_agent_with_the_fewest_working_tickets():
    ana, bob, eve = agent("Ana"), agent("Bob"), agent("Eve")

    choice = choose(tracked(), [ana, bob, eve], {ana.id: 3, bob.id: 1, eve.id: 2})

    assert choice.agent_id == bob.id and choice.outcome == "assigned" and choice.strategy == LEAST_LOADED
    assert choice.reason == "least loaded in its department: Bob (1 of 5 working tickets)"


def test_an_agent_missing_from_the_loads_counts_as_holding_none():
    ana, bob = agent("Ana"), agent("Bob")

    assert choose(tracked(), [ana, bob], {ana.id: 1}).agent_id == bob.id


def test_least_loaded_ties_go_to_who_had_a_ticket_longest_ago_and_never_first():
    recent, older, never = agent("Ann", last_assigned_at=LATE), agent("Ben", last_assigned_at=EARLY), agent("Cid")
    loads = {recent.id: 1, older.id: 1, never.id: 1}

    assert choose(tracked(), [recent, older, never], loads).agent_id == never.id
    assert choose(tracked(), [recent, older], loads).agent_id == older.id


def test_least_loaded_ties_with_the_same_last_ticket_go_by_id():
    first, second = agent("Zed", id="agent-a", last_assigned_at=LATE), agent("Abe", id="agent-b", last_assigned_at=LATE)

    assert choose(tracked(), [second, first], {}).agent_id == "agent-a"
    assert choose(tracked(), [first, second], {}).agent_id == "agent-a"  # the order given does not matter


def test_load_beats_waiting_longest_under_least_loaded():
    waited, fresh = agent("Old", last_assigned_at=EARLY), agent("New", last_assigned_at=LATE)

    assert choose(tracked(), [waited, fresh], {waited.id: 2, fresh.id: 1}).agent_id == fresh.id


# -- round robin -------------------------------------------------------------------------------------


def test_round_robin_ignores_load_and_picks_who_waited_longest():
    busy, idle = agent("Busy", last_assigned_at=EARLY), agent("Idle", last_assigned_at=LATE)

    choice = choose(tracked(), [idle, busy], {busy.id: 4, idle.id: 0}, strategy=ROUND_ROBIN)

    assert choice.agent_id == busy.id and choice.strategy == ROUND_ROBIN
    assert choice.reason.startswith("round robin in its department: Busy waited longest")


def test_round_robin_picks_an_agent_never_given_a_ticket_first():
    given, never = agent("Given", last_assigned_at=EARLY), agent("Never")

    assert choose(tracked(), [given, never], {never.id: 3}, strategy=ROUND_ROBIN).agent_id == never.id


def test_round_robin_still_passes_over_an_agent_at_capacity():
    full, other = agent("Full", last_assigned_at=EARLY, max_concurrent_tickets=2), agent("Other", last_assigned_at=LATE)

    choice = choose(tracked(), [full, other], {full.id: 2}, strategy=ROUND_ROBIN)

    assert choice.agent_id == other.id
    assert {c.agent_id: c.passed_over for c in choice.candidates}[full.id] == "at capacity (2 of 2)"


# -- manual only, nobody, the record ----------------------------------------------------------------


def test_manual_only_never_picks_even_an_able_agent():
    able = agent()

    choice = choose(tracked(), [able], {}, strategy=MANUAL_ONLY)

    assert choice.agent_id is None and choice.outcome == "queued" and choice.strategy == MANUAL_ONLY
    assert "manual_only" in choice.reason
    assert [c.agent_id for c in choice.candidates] == [able.id]


def test_no_agent_at_all_is_said_so_in_the_reason():
    assert choose(tracked(), [], {}).reason == "no agent in its department"
    unrouted = choose(tracked(department_id=None), [], {})
    assert unrouted.agent_id is None and unrouted.reason == "no agent in any department" and unrouted.candidates == ()


def test_nobody_able_queues_the_ticket_naming_how_many_were_looked_at_and_why_each_was_passed_over():
    away, full = agent("Away", availability="away"), agent("Full", max_concurrent_tickets=1)

    choice = choose(tracked(), [away, full], {full.id: 1})

    assert choice.agent_id is None and choice.outcome == "queued"
    assert choice.reason == "nobody in its department can take it now (2 looked at)"
    assert {c.agent_id: c.passed_over for c in choice.candidates} == {
        away.id: "away, not online", full.id: "at capacity (1 of 1)"}


def test_the_chosen_agent_is_listed_first_unflagged_and_the_others_with_why_not():
    offline, busy, chosen = agent("Off", availability="offline"), agent("Busy"), agent("Pick")

    choice = choose(tracked(), [offline, busy, chosen], {busy.id: 2, chosen.id: 1, offline.id: 0})

    first, *others = choice.candidates
    assert (first.agent_id, first.passed_over, first.load) == (chosen.id, None, 1)
    reasons = {c.agent_id: c.passed_over for c in others}
    assert reasons == {offline.id: "offline, not online", busy.id: "more loaded, or had a ticket more recently"}
    assert first.to_dict() == {"agent_id": chosen.id, "name": "Pick", "load": 1, "max_concurrent_tickets": 5,
                               "passed_over": None}


def test_under_round_robin_the_others_are_said_to_have_had_a_ticket_more_recently():
    chosen, other = agent("Pick", last_assigned_at=EARLY), agent("Other", last_assigned_at=LATE)

    choice = choose(tracked(), [other, chosen], {}, strategy=ROUND_ROBIN)

    assert [(c.agent_id, c.passed_over) for c in choice.candidates] == [
        (chosen.id, None), (other.id, "had a ticket more recently")]


def test_required_skills_narrow_who_is_able():
    generalist, specialist = agent("Gen"), agent("Spec", skills=["vpn"])

    choice = choose(tracked(), [generalist, specialist], {specialist.id: 3}, required_skills=["vpn"])

    assert choice.agent_id == specialist.id


# -- backlog order -----------------------------------------------------------------------------------


def test_the_backlog_is_served_by_sla_due_time_soonest_first_and_none_last():
    later = tracked(sla_due_at=START + timedelta(hours=8), priority="low")
    sooner = tracked(sla_due_at=START + timedelta(hours=1), priority="low")
    no_sla_urgent = tracked(priority="urgent")

    assert sorted([no_sla_urgent, later, sooner], key=backlog_key) == [sooner, later, no_sla_urgent]


def test_without_sla_the_backlog_is_served_by_priority_urgent_first():
    tickets = {p: tracked(priority=p) for p in ("low", "high", "urgent", "medium")}

    ordered = sorted(tickets.values(), key=backlog_key)

    assert [t.priority for t in ordered] == ["urgent", "high", "medium", "low"]


def test_equal_priority_is_served_oldest_first():
    newer = tracked(priority="high", created_at=START + timedelta(minutes=5))
    older = tracked(priority="high", created_at=START)
    low_oldest = tracked(priority="low", created_at=START - timedelta(days=3))

    assert sorted([low_oldest, newer, older], key=backlog_key) == [older, newer, low_oldest]


def test_the_same_sla_due_time_falls_back_to_priority_then_age():
    due = START + timedelta(hours=4)
    low = tracked(sla_due_at=due, priority="low", created_at=START - timedelta(days=1))
    high_new = tracked(sla_due_at=due, priority="high", created_at=START + timedelta(minutes=1))
    high_old = tracked(sla_due_at=due, priority="high", created_at=START)

    assert sorted([low, high_new, high_old], key=backlog_key) == [high_old, high_new, low]
