"""Automation rules: checked at save with every problem at its path, evaluated on a ticket's facts, run on
ticket events through the tickets service (as the system, each call once), with loop protection, a dry
run that changes nothing, and a crash mid-rule that neither loses nor doubles an effect.

Pure rules (``domain.rules``) and the handlers on the in-memory unit of work and services (``fakes.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_contracts.events import validate_data
from helpdesk_contracts.vocabulary import RULE_FIRINGS_PER_TICKET_HOUR
from services.automation import handlers
from services.automation.domain import rules
from services.automation.domain.errors import Conflict, PermissionDenied, TicketNotFound, ValidationFailed
from services.automation.domain.rules import Facts, Problems
from tests.unit.automation.factories import DEPT_B, actor, new_id, ticket_event, ticket_snapshot, user_snapshot

ADMIN = actor("admin")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
URGENT_TAG = {"name": "Urgent gets a tag", "triggers": ["ticket.created"],
              "conditions": {"all": [{"field": "priority", "operator": "equals", "value": "urgent"}]},
              "actions": [{"type": "add_tag", "tag": "hot"}]}


def _problems(fn, raw):
    problems = Problems()
    fn(raw, problems)
    return problems.found


def _facts(**ticket):
    return Facts(ticket={"status": "new", "priority": "medium", "tags": [], **ticket}, now=NOW)


# -- checking what a rule says (domain) --------------------------------------------------------------


def test_every_problem_of_the_conditions_is_named_at_its_path():
    found = _problems(rules.check_conditions, {"all": [
        {"field": "priority", "operator": "equals", "value": "urgent"},
        {"field": "colour", "operator": "equals", "value": "red"},
        {"any": [{"field": "title", "operator": "bigger", "value": "x"},
                 {"field": "priority", "operator": "contains", "value": "hi"},
                 {"field": "reopen_count", "operator": "greater_than", "value": "3"},
                 {"field": "priority", "operator": "in", "value": ["urgent", "asap"]}]},
    ]})

    assert set(found) == {"conditions.all.1.field", "conditions.all.2.any.0.operator",
                          "conditions.all.2.any.1.operator", "conditions.all.2.any.2.value",
                          "conditions.all.2.any.3.value.1"}
    assert "Unknown field 'colour'" in found["conditions.all.1.field"][0]
    assert "priority does not take contains" in found["conditions.all.2.any.1.operator"][0]


def test_groups_nest_only_so_deep_and_hold_only_their_list():
    deep = {"field": "title", "operator": "contains", "value": "x"}
    for _ in range(rules.RULE_DEPTH_MAX + 1):
        deep = {"all": [deep]}
    assert any("nest at most" in m for ms in _problems(rules.check_conditions, deep).values() for m in ms)
    assert _problems(rules.check_conditions, {"all": [], "any": []}) == {
        "conditions": ["A group has only 'all': any not allowed."]}
    assert _problems(rules.check_conditions, "priority = urgent") != {}
    assert _problems(rules.check_conditions, {"all": []}) == {}


def test_every_problem_of_the_actions_is_named_at_its_path():
    found = _problems(rules.check_actions, [
        {"type": "set_priority", "priority": "asap"},
        {"type": "teleport"},
        {"type": "send_notification", "to": "user", "message": "Hi"},
        {"type": "add_comment"},
        {"type": "assign_agent", "agent_id": "carlos"},
        {"type": "add_tag", "tag": "x", "colour": "red"},
    ])

    assert set(found) == {"actions.0.priority", "actions.1.type", "actions.2.user_id", "actions.3",
                          "actions.4.agent_id", "actions.5.colour"}
    assert _problems(rules.check_actions, []) == {"actions": ["Give a list of 1 to 20 actions."]}


def test_unknown_triggers_are_named():
    assert _problems(rules.check_triggers, ["ticket.created", "ticket.exploded"]) == {
        "triggers.1": ["Unknown trigger 'ticket.exploded'; one of " + ", ".join(rules.RULE_TRIGGERS) + "."]}


# -- evaluating (domain) -----------------------------------------------------------------------------


@pytest.mark.parametrize(("condition", "ticket", "expected"), [
    ({"field": "title", "operator": "contains", "value": "CONTRASEÑA"}, {"title": "Olvidé mi contraseña"}, True),
    ({"field": "title", "operator": "starts_with", "value": "re:"}, {"title": "RE: factura"}, True),
    ({"field": "title", "operator": "not_equals", "value": "x"}, {"title": None}, True),
    ({"field": "priority", "operator": "greater_than", "value": "medium"}, {"priority": "high"}, True),
    ({"field": "priority", "operator": "less_than", "value": "medium"}, {"priority": "high"}, False),
    ({"field": "tags", "operator": "contains", "value": "VIP"}, {"tags": ["vip", "billing"]}, True),
    ({"field": "tags", "operator": "not_in", "value": ["spam"]}, {"tags": ["billing"]}, True),
    ({"field": "category", "operator": "is_empty", "value": True}, {"category": None}, True),
    ({"field": "category", "operator": "in", "value": ["Red", "Correo"]}, {"category": "red"}, True),
    ({"field": "reopen_count", "operator": "greater_than", "value": 1}, {"reopen_count": 2}, True),
    ({"field": "reopen_count", "operator": "less_than", "value": 1}, {}, False),  # unknown is never less
    ({"field": "minutes_since_created", "operator": "greater_than", "value": 60},
     {"created_at": (NOW - timedelta(minutes=61)).isoformat()}, True),
    ({"field": "sla_minutes_remaining", "operator": "less_than", "value": 30}, {}, False),  # no SLA yet
    ({"any": [{"field": "priority", "operator": "equals", "value": "urgent"},
              {"field": "title", "operator": "contains", "value": "caído"}]}, {"title": "Servidor caído"}, True),
    ({"all": []}, {}, True),
])
def test_conditions_match_as_their_operators_say(condition, ticket, expected):
    assert rules.matches(rules.check_conditions(condition, Problems()), _facts(**ticket)) is expected


def test_the_requester_and_organization_are_asked_for_once_and_only_when_a_condition_names_them():
    asked = []
    facts = Facts(ticket={"priority": "high"}, now=NOW, fetch={
        "organization": lambda: asked.append("organization") or {"vip": True, "name": "Acme"},
        "requester": lambda: asked.append("requester") or {"email": "ana@acme.example"}})
    assert rules.matches({"field": "priority", "operator": "equals", "value": "high"}, facts)
    assert asked == []
    vip = {"all": [{"field": "organization.vip", "operator": "equals", "value": True},
                   {"field": "organization.name", "operator": "equals", "value": "acme"},
                   {"field": "requester.email", "operator": "contains", "value": "@acme"}]}
    assert rules.matches(vip, facts) and rules.matches(vip, facts)
    assert asked == ["organization", "requester"]


def test_a_plan_sees_the_ticket_as_the_previous_actions_left_it_and_skips_what_changes_nothing():
    steps = rules.plan([{"type": "escalate"}, {"type": "escalate"}, {"type": "add_tag", "tag": "vip"},
                        {"type": "add_tag", "tag": "VIP"}, {"type": "set_priority", "priority": "urgent"}],
                       {"priority": "medium", "tags": []})

    assert [(s.type, s.field, s.before, s.after, s.skip) for s in steps] == [
        ("escalate", "priority", "medium", "high", None),
        ("send_notification", None, None, None, None),
        ("escalate", "priority", "high", "urgent", None),
        ("send_notification", None, None, None, None),
        ("add_tag", "tags", [], ["vip"], None),
        ("add_tag", "tags", ["vip"], ["vip"], "Already so."),
        ("set_priority", "priority", "urgent", "urgent", "Already so."),
    ]


# -- managing rules (handlers on fakes) --------------------------------------------------------------


def test_an_admin_creates_lists_changes_toggles_and_deletes_a_rule_in_run_order(uow, directory):
    first = handlers.create_rule(URGENT_TAG, ADMIN, uow=uow, directory=directory)
    second = handlers.create_rule({**URGENT_TAG, "name": "Earlier", "position": 1}, ADMIN, uow=uow,
                                  directory=directory)

    assert first["position"] == 10 and first["enabled"] is True and first["created_by"] == ADMIN["id"]
    listed = handlers.list_rules(actor("supervisor"), 1, 20, uow=uow)
    assert [r["name"] for r in listed["items"]] == ["Earlier", "Urgent gets a tag"] and listed["total"] == 2

    changed = handlers.update_rule(first["id"], {"conditions": {"field": "priority", "operator": "in",
                                                               "value": ["high", "urgent"]}}, ADMIN, uow=uow,
                                   directory=directory)
    assert changed["conditions"]["value"] == ["high", "urgent"]
    assert handlers.toggle_rule(first["id"], None, ADMIN, uow=uow)["enabled"] is False
    assert handlers.toggle_rule(first["id"], True, ADMIN, uow=uow)["enabled"] is True
    handlers.delete_rule(second["id"], ADMIN, uow=uow)

    assert [e for e, _ in uow.emitted] == ["rule.created", "rule.created", "rule.updated", "rule.updated",
                                          "rule.updated", "rule.deleted"]
    for type, data in uow.emitted:
        validate_data(type, 1, data)


@pytest.mark.parametrize("role", ["customer", "agent", "supervisor"])
def test_only_admins_change_rules_and_customers_and_agents_do_not_read_them(uow, directory, role):
    with pytest.raises(PermissionDenied):
        handlers.create_rule(URGENT_TAG, actor(role), uow=uow, directory=directory)
    if role != "supervisor":
        with pytest.raises(PermissionDenied):
            handlers.list_rules(actor(role), 1, 20, uow=uow)
    assert uow.rules.rows == {}


def test_a_bad_rule_is_refused_with_every_problem_at_its_path_and_nothing_stored(uow, directory):
    inactive = directory.add(user_snapshot(status="inactive"))
    with pytest.raises(ValidationFailed) as refused:
        handlers.create_rule({"name": "Bad", "triggers": ["ticket.created"],
                              "conditions": {"field": "priority", "operator": "equals", "value": "asap"},
                              "actions": [{"type": "assign_agent", "agent_id": inactive["id"]}]},
                             ADMIN, uow=uow, directory=directory)
    assert set(refused.value.errors) == {"conditions.value"}

    with pytest.raises(ValidationFailed) as refused:
        handlers.create_rule({**URGENT_TAG, "actions": [
            {"type": "assign_agent", "agent_id": inactive["id"]}, {"type": "assign_department", "department_id": new_id()},
            {"type": "add_comment", "template_id": new_id()}]}, ADMIN, uow=uow, directory=directory)
    assert set(refused.value.errors) == {"actions.0.agent_id", "actions.1.department_id", "actions.2.template_id"}

    handlers.create_rule(URGENT_TAG, ADMIN, uow=uow, directory=directory)
    with pytest.raises(Conflict):
        handlers.create_rule({**URGENT_TAG, "name": " URGENT gets a TAG "}, ADMIN, uow=uow, directory=directory)
    assert len(uow.rules.rows) == 1


# -- running rules on events (handlers on fakes) -----------------------------------------------------


class Rules:
    """Delivers ticket events as ``service.on_ticket`` does: the job queued with the claim, then run."""

    def __init__(self, uow, desk, directory):
        self.uow, self.desk, self.directory = uow, desk, directory

    def add(self, **rule):
        return handlers.create_rule({**URGENT_TAG, **rule}, ADMIN, uow=self.uow, directory=self.directory)

    def deliver(self, envelope, *, run=True):
        with self.uow.open() as uow:
            queued = handlers.queue_rules(envelope, uow=uow)
            handlers.track_ticket(envelope, uow=uow)
        if queued and run:
            return handlers.run_rule_job(envelope.id, self.uow.open, desk=self.desk, directory=self.directory)
        return []

    def open(self, **fields):
        snapshot = self.desk.add(ticket_snapshot(**{"created_at": NOW, **fields}))
        return snapshot, ticket_event("ticket.created", snapshot, at=NOW)

    def emitted(self, type):
        return [data for t, data in self.uow.emitted if t == type]


@pytest.fixture
def engine(uow, desk, directory):
    return Rules(uow, desk, directory)


def test_a_matching_rule_acts_through_the_tickets_service_as_the_system_naming_itself(engine, desk):
    rule = engine.add(actions=[{"type": "add_tag", "tag": "hot"}, {"type": "assign_department", "department_id": DEPT_B},
                               {"type": "add_comment", "body": "Looking into it", "internal": True}])
    ticket, created = engine.open(priority="urgent")
    _, other = engine.open(priority="low")

    [result] = engine.deliver(created)
    assert engine.deliver(other) == []

    assert result["outcome"] == "applied"
    assert [(m, a) for m, _, a in desk.acts] == [
        ("update", {"changes": {"tags": ["hot"]}}),
        ("assign", {"department_id": DEPT_B, "set_department": True, "set_assignee": False}),
        ("add_comment", {"data": {"body": "Looking into it", "internal": True}})]
    assert set(desk.vias) == {f"rule:{rule['id']} {rule['name']}"}
    assert desk.get(ticket["id"])["tags"] == ["hot"] and desk.get(ticket["id"])["department_id"] == DEPT_B
    [fired] = engine.emitted("rule.fired")
    assert fired["rule"] == {"id": rule["id"], "name": rule["name"]} and fired["cause_event_id"] == created.id
    validate_data("rule.fired", 1, fired)
    assert engine.uow.rule_jobs.rows == {}  # done
    runs = handlers.list_rule_runs(ADMIN, uow=engine.uow, ticket_id=ticket["id"])
    assert [r["outcome"] for r in runs["items"]] == ["applied"]


def test_a_rules_own_change_never_runs_it_again_and_a_change_that_changes_nothing_is_not_made(engine, desk):
    rule = engine.add(triggers=["ticket.created", "ticket.updated"], actions=[{"type": "add_tag", "tag": "hot"}])
    ticket, created = engine.open(priority="urgent")
    engine.deliver(created)
    assert len(desk.acts) == 1

    own = ticket_event("ticket.updated", desk.get(ticket["id"]), at=NOW,
                       actor={"id": None, "role": "system", "via": f"rule:{rule['id']} {rule['name']}"})
    assert engine.deliver(own) == []
    someone = ticket_event("ticket.updated", desk.change(ticket["id"], title="New title"), at=NOW)
    [result] = engine.deliver(someone)

    assert result["steps"][0]["skipped"] == "Already so." and len(desk.acts) == 1
    assert result["outcome"] == "unchanged" and len(engine.emitted("rule.fired")) == 1


def test_loop_protection_stops_a_rule_firing_on_one_ticket_past_its_limit_and_says_so(engine, desk, caplog):
    engine.add(triggers=["ticket.updated"], conditions={"all": []},
               actions=[{"type": "send_notification", "to": "assignee", "message": "Changed"}])
    ticket, _ = engine.open()
    results = [engine.deliver(ticket_event("ticket.updated", desk.change(ticket["id"], title=f"v{n}"), at=NOW))[0]
               for n in range(RULE_FIRINGS_PER_TICKET_HOUR + 1)]

    assert [r["outcome"] for r in results] == ["applied"] * RULE_FIRINGS_PER_TICKET_HOUR + ["loop_protected"]
    assert len(engine.emitted("notification.requested")) == RULE_FIRINGS_PER_TICKET_HOUR
    assert "loop protection" in caplog.text


def test_a_notification_is_an_event_for_the_notifications_service_staff_only_unless_to_the_requester(engine):
    engine.add(actions=[{"type": "escalate", "message": "Urgent ticket"},
                        {"type": "send_notification", "to": "requester", "message": "We are on it"}])
    ticket, created = engine.open(priority="urgent")
    engine.deliver(created)

    sent = engine.emitted("notification.requested")
    assert [(n["to"], n["internal"], n["message"]) for n in sent] == [
        ("supervisors", True, "Urgent ticket"), ("requester", False, "We are on it")]
    for data in sent:
        validate_data("notification.requested", 1, data)
    assert engine.desk.get(ticket["id"])["priority"] == "urgent"  # already urgent: escalate changed nothing


def test_a_crash_mid_rule_leaves_the_job_and_the_sweep_finishes_it_acting_once(engine, desk):
    engine.add(actions=[{"type": "add_tag", "tag": "hot"}, {"type": "set_priority", "priority": "high"},
                        {"type": "send_notification", "to": "supervisors", "message": "Look"}])
    ticket, created = engine.open(priority="urgent")
    desk.fail_after = 1  # the tickets service answers the first call, then is away

    with pytest.raises(Exception, match="did not answer"):
        engine.deliver(created)
    assert list(engine.uow.rule_jobs.rows) == [created.id] and engine.emitted("notification.requested") == []

    desk.fail_after = None
    engine.uow.clock.advance(minutes=1)
    assert handlers.run_leftover_rule_jobs(engine.uow.open, desk=desk, directory=engine.directory) == 1

    assert [m for m, _, _ in desk.acts] == ["update", "change_priority"]  # the tag once: its command replayed
    assert len(engine.emitted("notification.requested")) == 1 and engine.uow.rule_jobs.rows == {}
    assert handlers.run_leftover_rule_jobs(engine.uow.open, desk=desk, directory=engine.directory) == 0


def test_a_refused_action_is_skipped_and_the_rest_of_the_rule_still_acts(engine, desk):
    engine.add(actions=[{"type": "set_status", "status": "closed"}, {"type": "add_tag", "tag": "hot"}])
    desk.refuse["change_status"] = "A new ticket cannot be closed."
    ticket, created = engine.open(priority="urgent")

    [result] = engine.deliver(created)

    assert result["steps"][0]["skipped"] == "Refused: A new ticket cannot be closed."
    assert desk.get(ticket["id"])["tags"] == ["hot"]


def test_a_ticket_gone_stops_its_rules(engine, desk):
    engine.add()
    ticket, created = engine.open(priority="urgent")
    del desk.tickets[ticket["id"]]

    [result] = engine.deliver(created)

    assert result["outcome"] == "gone" and desk.acts == []


# -- the dry run -------------------------------------------------------------------------------------


def test_the_dry_run_says_which_rules_match_and_what_they_would_change_and_changes_nothing(engine, desk, directory):
    vip = engine.add(name="VIP first", conditions={"field": "organization.vip", "operator": "equals", "value": True},
                     actions=[{"type": "set_priority", "priority": "urgent"}])
    engine.add(name="Passwords", conditions={"field": "description", "operator": "contains", "value": "contraseña"},
               actions=[{"type": "add_tag", "tag": "password_reset"}])
    organization = new_id()
    directory.organizations[organization] = {"id": organization, "name": "Acme", "vip": True}
    ticket = desk.add(ticket_snapshot(organization_id=organization, description="Olvidé mi contraseña"))

    answer = handlers.dry_run({"ticket_id": ticket["id"]}, actor("supervisor"), uow=engine.uow, desk=desk,
                              directory=directory)

    assert answer["matched"] == [vip["id"], answer["rules"][1]["rule_id"]]
    assert answer["rules"][0]["steps"] == [{"type": "set_priority", "action": {"type": "set_priority",
                                                                                "priority": "urgent"},
                                            "field": "priority", "before": "medium", "after": "urgent"}]
    assert desk.acts == [] and engine.uow.rule_runs.rows == [] and engine.uow.emitted[-1][0] == "rule.created"

    shaped = handlers.dry_run({"ticket": {"title": "x", "organization": {"vip": False}},
                               "rule": {**URGENT_TAG, "conditions": {"all": []}}},
                              ADMIN, uow=engine.uow, desk=desk, directory=directory)
    assert shaped["rules"][0]["matched"] and shaped["rules"][0]["steps"][0]["after"] == ["hot"]


def test_the_dry_run_refuses_what_it_cannot_run(engine, desk, directory):
    for data in ({}, {"ticket_id": new_id(), "ticket": {}}, {"ticket": {"colour": "red"}},
                 {"ticket": {}, "trigger": "ticket.exploded"}, {"ticket": {}, "rule": {"name": "x"}}):
        with pytest.raises(ValidationFailed):
            handlers.dry_run(data, ADMIN, uow=engine.uow, desk=desk, directory=directory)
    for shape, path in (({"status": ["open"]}, "ticket.status"), ({"tags": "vip"}, "ticket.tags"),
                        ({"organization": {"vip": "yes"}}, "ticket.organization"),
                        ({"created_at": "yesterday"}, "ticket.created_at"), ({"reopen_count": "2"}, "ticket.reopen_count")):
        with pytest.raises(ValidationFailed) as refused:
            handlers.dry_run({"ticket": shape}, ADMIN, uow=engine.uow, desk=desk, directory=directory)
        assert list(refused.value.errors) == [path], shape
    with pytest.raises(TicketNotFound):
        handlers.dry_run({"ticket_id": new_id()}, ADMIN, uow=engine.uow, desk=desk, directory=directory)
    with pytest.raises(PermissionDenied):
        handlers.dry_run({"ticket": {}}, actor("agent"), uow=engine.uow, desk=desk, directory=directory)


# -- time-based rules (handlers on fakes) ------------------------------------------------------------

LATE = {"name": "Late", "triggers": ["time"],
        "conditions": {"all": [{"field": "minutes_since_created", "operator": "greater_than", "value": 60},
                               {"field": "status", "operator": "not_equals", "value": "closed"}]},
        "actions": [{"type": "add_tag", "tag": "late"}]}


def _scan(engine):
    return handlers.run_time_rules(engine.uow.open, desk=engine.desk, directory=engine.directory)


def test_a_time_rule_acts_once_on_each_ticket_within_a_scan_of_coming_true(engine, desk, clock):
    rule = engine.add(**LATE)
    first, created = engine.open()
    engine.deliver(created)
    clock.advance(minutes=30)
    second, created = engine.open(created_at=clock.now())
    engine.deliver(created)

    assert _scan(engine) == 0  # 30 minutes: not yet
    clock.advance(minutes=31)
    assert _scan(engine) == 1  # the first is 61 minutes old, the second 31
    assert desk.get(first["id"])["tags"] == ["late"] and desk.get(second["id"])["tags"] == []
    assert _scan(engine) == 0  # once per ticket and rule, even while it stays true
    clock.advance(minutes=30)
    assert _scan(engine) == 1 and desk.get(second["id"])["tags"] == ["late"]
    assert [(m, t) for m, t, _ in desk.acts] == [("update", first["id"]), ("update", second["id"])]
    assert set(desk.vias) == {f"rule:{rule['id']} Late"} and engine.uow.rule_jobs.rows == {}


def test_a_requester_awaiting_an_answer_is_timed_until_an_agent_replies(engine, desk, clock):
    engine.add(name="Unanswered", triggers=["time"],
               conditions={"field": "minutes_without_agent_reply", "operator": "greater_than", "value": 120},
               actions=[{"type": "escalate", "message": "Two hours without an answer"}])
    answered, created = engine.open()
    engine.deliver(created)
    waiting, created = engine.open()
    engine.deliver(created)
    clock.advance(minutes=60)
    engine.deliver(_comment(answered, "agent", at=clock.now()))
    engine.deliver(_comment(waiting, "agent", at=clock.now(), internal=True))  # a note answers nobody
    clock.advance(minutes=61)

    assert _scan(engine) == 1
    assert desk.get(waiting["id"])["priority"] == "high" and desk.get(answered["id"])["priority"] == "medium"
    [notified] = engine.emitted("notification.requested")
    assert notified["ticket_id"] == waiting["id"] and notified["to"] == "supervisors"


def test_minutes_in_status_count_from_the_last_status_change_and_closed_tickets_are_left_alone(engine, desk, clock):
    engine.add(name="Waiting too long", triggers=["time"],
               conditions={"all": [{"field": "status", "operator": "equals", "value": "waiting"},
                                   {"field": "minutes_in_status", "operator": "greater_than", "value": 1440}]},
               actions=[{"type": "close", "resolution": "No answer in a day."}])
    ticket, created = engine.open()
    engine.deliver(created)
    closed, created = engine.open()
    engine.deliver(created)
    clock.advance(days=2)
    engine.deliver(ticket_event("ticket.status_changed", desk.change(ticket["id"], status="waiting",
                                                                     updated_at=clock.now().isoformat()), at=clock.now()))
    engine.deliver(ticket_event("ticket.status_changed", desk.change(closed["id"], status="closed",
                                                                     updated_at=clock.now().isoformat()), at=clock.now()))
    clock.advance(hours=23)
    assert _scan(engine) == 0  # 23 hours in waiting, though two days old
    clock.advance(hours=2)
    assert _scan(engine) == 1 and desk.get(ticket["id"])["status"] == "closed"
    assert [t for _, t, _ in desk.acts] == [ticket["id"]]


def test_a_time_rule_must_wait_for_something(uow, directory):
    with pytest.raises(ValidationFailed) as refused:
        handlers.create_rule({**LATE, "conditions": {"field": "priority", "operator": "equals", "value": "high"}},
                             ADMIN, uow=uow, directory=directory)
    assert list(refused.value.errors) == ["conditions"] and "time rule needs" in refused.value.message
    rule = handlers.create_rule(LATE, ADMIN, uow=uow, directory=directory)
    with pytest.raises(ValidationFailed):
        handlers.update_rule(rule["id"], {"conditions": {"all": []}}, ADMIN, uow=uow, directory=directory)


def test_a_time_job_queued_by_one_scan_is_not_queued_again_by_the_next(engine, desk, clock):
    engine.add(**LATE)
    ticket, created = engine.open()
    engine.deliver(created)
    clock.advance(minutes=61)
    desk.fail_after = 0  # the tickets service away: the job waits

    with pytest.raises(Exception, match="did not answer"):
        _scan(engine)
    assert len(engine.uow.rule_jobs.rows) == 1
    desk.fail_after = None
    assert _scan(engine) == 0  # queued already: the sweep runs it
    clock.advance(seconds=30)
    assert handlers.run_leftover_rule_jobs(engine.uow.open, desk=desk, directory=engine.directory,
                                           older_than=timedelta(seconds=10)) == 1
    assert desk.get(ticket["id"])["tags"] == ["late"] and len(desk.acts) == 1


def _comment(ticket, role, *, at, internal=False):
    from tests.unit.automation.factories import envelope

    data = {"ticket": ticket, "actor": {"id": new_id(), "role": role},
            "comment": {"id": new_id(), "author_id": new_id(), "author_role": role, "internal": internal,
                        "body": "Hola", "mentions": [], "created_at": at.isoformat()}}
    return envelope("ticket.commented", data, at=at)


def test_what_a_rule_did_is_in_the_routers_copy_before_routing_looks(engine, desk, directory):
    agent = directory.add(user_snapshot())
    engine.add(actions=[{"type": "assign_agent", "agent_id": agent["id"]}])
    ticket, created = engine.open(priority="urgent")

    engine.deliver(created)

    held = engine.uow.tickets.get(ticket["id"])
    assert held.assignee_id == agent["id"] and not held.wants_agent  # routing will leave it be


# -- a response template rendered for a ticket -------------------------------------------------------


def test_a_template_renders_for_a_ticket_the_caller_may_see_with_its_requester_and_the_caller_as_agent(
        uow, desk, directory):
    requester = directory.add(user_snapshot("customer", name="Rita Cliente", email="rita@acme.example"))
    me = directory.add(user_snapshot(name="Carlos", email="carlos@example.com"))
    caller = {"id": me["id"], "role": "agent", "department_id": DEPT_B, "organization_id": None}
    with uow.open() as u:
        template = handlers.create_template({"name": "Hola", "body": "Hola {{ requester.name }}, {{ ticket.number }} "
                                                                       "({{ ticket.priority }}). {{ agent.name }}"},
                                            caller, uow=u)
    mine = desk.add(ticket_snapshot(requester_id=requester["id"], department_id=DEPT_B, priority="high"))
    theirs = desk.add(ticket_snapshot(requester_id=requester["id"]))  # department A: not the caller's

    with uow.open() as u:
        body = handlers.render_template(template["id"], None, caller, uow=u, desk=desk, directory=directory,
                                        ticket_id=mine["id"])["body"]
    assert body == f"Hola Rita Cliente, {mine['number']} (high). Carlos"
    with uow.open() as u:
        given = handlers.render_template(template["id"], {"agent": {"name": "Soporte"}}, caller, uow=u, desk=desk,
                                         directory=directory, ticket_id=mine["id"])["body"]
    assert given.endswith("Soporte")
    with pytest.raises(TicketNotFound), uow.open() as u:
        handlers.render_template(template["id"], None, caller, uow=u, desk=desk, directory=directory,
                                 ticket_id=theirs["id"])
