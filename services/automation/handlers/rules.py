"""Automation rules: managed by admins (a named resource run in ``position`` order), tried on every ticket
event they name, and a dry run that says what they would do.

A rule that matches acts through the tickets service as the ``system`` actor, ``via`` naming the rule,
so each change is in the ticket's history with the rule that made it. Each call carries a command id
made of the event, the rule and the step: the same event handled again (a crash before its inbox claim
committed) replays the calls, and the tickets service answers them from its record instead of acting
twice. What the rule did is recorded (``rule_runs``) and published (``rule.fired``).

Loop protection: a change a rule made never runs that rule again (the event names it as its actor), an
action that would change nothing is skipped, and a rule fires at most ``RULE_FIRINGS_PER_TICKET_HOUR``
times on one ticket in an hour: past it the run is recorded as ``loop_protected`` and logged.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from helpdesk_common import resources
from helpdesk_common.payloads import page_args
from helpdesk_common.resources import NamedResource
from helpdesk_contracts.envelope import Envelope
from helpdesk_contracts.vocabulary import RULE_FIRINGS_PER_TICKET_HOUR, RULE_TRIGGERS, STAFF_ROLES
from services.automation import schemas
from services.automation.domain import rules, templates
from services.automation.domain.errors import (
    ActionRefused,
    Conflict,
    PermissionDenied,
    TicketNotFound,
    ValidationFailed,
)
from services.automation.domain.model import TrackedTicket
from services.automation.domain.rules import Facts, Problems, Rule, Step
from services.automation.handlers.common import Actor, actor_from, require_staff
from services.automation.handlers.metrics import RULE_RUNS, TIME_SCAN_SECONDS
from services.automation.handlers.ports import AutomationUnitOfWork, Directory, OpenUnitOfWork, TicketDesk

log = logging.getLogger(__name__)
NAMESPACE = uuid.UUID("5b0f8a3c-6a2e-4c55-9a53-2f1d7c0e9b61")  # command ids of rule actions (uuid5)


def _load(data: Any, partial: bool) -> dict[str, Any]:
    payload = schemas.load(schemas.RuleInput, data, partial=partial)
    problems = Problems()
    if "triggers" in payload:
        payload["triggers"] = rules.check_triggers(payload["triggers"], problems)
    if payload.get("conditions") is None and not partial:
        payload["conditions"] = {"all": []}
    if "conditions" in payload:
        if payload["conditions"] is None:
            payload["conditions"] = {"all": []}
        payload["conditions"] = rules.check_conditions(payload["conditions"], problems)
    if "actions" in payload:
        payload["actions"] = rules.check_actions(payload["actions"], problems)
    if not problems.found and "triggers" in payload and "conditions" in payload:
        rules.check_time_rule(payload["triggers"], payload["conditions"], problems)
    problems.raise_if_any()
    return payload


RULES = NamedResource(
    name="rule", entity=Rule, repository="rules", load=_load, view=schemas.rule_view,
    name_taken=lambda: Conflict("A rule with this name already exists.", {"name": ["Already taken."]}),
    creator_field="created_by",
)


def _admin(actor: Any) -> Actor:
    caller = actor_from(actor)
    if caller.role != "admin":
        raise PermissionDenied("Only admins can manage automation rules.")
    return caller


def _manager(actor: Any) -> Actor:
    caller = actor_from(actor)
    require_staff(caller)
    if not caller.is_manager:
        raise PermissionDenied("Only supervisors and admins can see automation rules.")
    return caller


def _check_references(actions: list[dict[str, Any]], *, uow: AutomationUnitOfWork, directory: Directory) -> None:
    """Refuse a rule naming an agent who is missing, inactive or no staff, a missing user, department or
    template (each at its action's path)."""
    problems = Problems()
    for index, action in enumerate(actions):
        path = f"actions.{index}"
        kind = action.get("type")
        if kind == "assign_agent":
            user = directory.get_user(action["agent_id"])
            if user is None or user.get("status") != "active" or user.get("role") not in STAFF_ROLES:
                problems.add(f"{path}.agent_id", "No active member of staff has this id.")
        elif kind == "send_notification" and action.get("user_id"):
            if directory.get_user(action["user_id"]) is None:
                problems.add(f"{path}.user_id", "No user has this id.")
        elif kind == "assign_department":
            if not directory.department_exists(action["department_id"]):
                problems.add(f"{path}.department_id", "No department has this id.")
        elif kind == "add_comment" and action.get("template_id"):
            if uow.templates.find(action["template_id"]) is None:
                problems.add(f"{path}.template_id", "No response template has this id.")
    problems.raise_if_any()


def _validated(data: Any, *, partial: bool, uow: AutomationUnitOfWork, directory: Directory) -> dict[str, Any]:
    payload = _load(data, partial)
    if "actions" in payload:
        _check_references(payload["actions"], uow=uow, directory=directory)
    return payload


# -- management -------------------------------------------------------------------------------------


def create_rule(data: Any, actor: Any, *, uow: AutomationUnitOfWork, directory: Directory) -> dict[str, Any]:
    """Create a rule (admins); without a position it runs after every other."""
    caller = _admin(actor)
    payload = _validated(data, partial=False, uow=uow, directory=directory)
    if "position" not in payload:
        payload["position"] = uow.rules.next_position()
    uow.rules.touch()
    return resources.create_resource(RULES, payload, uow=uow, actor=caller.id)


def ship_rule(data: dict[str, Any], *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """Create a rule the product comes with (no creator; it names no person, department or template)."""
    payload = _load(data, False)
    if any(rules.referenced(payload["actions"]).values()):
        raise ValueError("a predefined rule names no person, department or template")
    uow.rules.touch()
    return resources.create_resource(RULES, payload, uow=uow, actor=None)


def get_rule(rule_id: str, actor: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    _manager(actor)
    return resources.get_resource(RULES, rule_id, uow=uow)


def list_rules(actor: Any, page: Any, limit: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """Return a page of rules in the order they run (supervisors, admins)."""
    _manager(actor)
    return resources.list_resources(RULES, page, limit, uow=uow)


def update_rule(rule_id: str, changes: Any, actor: Any, *, uow: AutomationUnitOfWork,
                directory: Directory) -> dict[str, Any]:
    caller = _admin(actor)
    payload = _validated(changes, partial=True, uow=uow, directory=directory)
    current = uow.rules.get(rule_id)
    problems = Problems()
    rules.check_time_rule(payload.get("triggers", current.triggers), payload.get("conditions", current.conditions),
                          problems)
    problems.raise_if_any()
    uow.rules.touch()
    return resources.update_resource(RULES, rule_id, payload, uow=uow, actor=caller.id)


def toggle_rule(rule_id: str, enabled: Any, actor: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """Enable or disable a rule (``enabled`` None: the other way round from now)."""
    caller = _admin(actor)
    if enabled is None:
        enabled = not uow.rules.get(rule_id).enabled
    if not isinstance(enabled, bool):
        raise ValidationFailed("enabled must be true or false.", {"enabled": ["Not a valid boolean."]})
    uow.rules.touch()
    return resources.update_resource(RULES, rule_id, {"enabled": enabled}, uow=uow, actor=caller.id)


def delete_rule(rule_id: str, actor: Any, *, uow: AutomationUnitOfWork) -> None:
    caller = _admin(actor)
    uow.rules.get(rule_id)  # RuleNotFound before anything is written
    uow.rules.touch()
    resources.delete_resource(RULES, rule_id, uow=uow, actor=caller.id)


def list_rule_runs(actor: Any, *, uow: AutomationUnitOfWork, ticket_id: str | None = None,
                   rule_id: str | None = None, page: Any = 1, limit: Any = 20) -> dict[str, Any]:
    """What rules did, newest first (supervisors, admins)."""
    _manager(actor)
    page, limit = page_args(page, limit)
    runs, total = uow.rule_runs.page(ticket_id=ticket_id, rule_id=rule_id, offset=(page - 1) * limit, limit=limit)
    return {"items": [schemas.rule_run_view(run) for run in runs], "total": total}


# -- dry run ----------------------------------------------------------------------------------------


def dry_run(data: Any, actor: Any, *, uow: AutomationUnitOfWork, desk: TicketDesk,
               directory: Directory) -> dict[str, Any]:
    """Which enabled rules (or the one given, saved or not) would match a ticket and what each would change;
    nothing changes (supervisors, admins)."""
    _manager(actor)
    payload = schemas.load(schemas.RuleTestInput, data)
    trigger = payload["trigger"]
    if trigger not in RULE_TRIGGERS:
        raise ValidationFailed(f"Unknown trigger {trigger!r}.", {"trigger": [f"One of {', '.join(RULE_TRIGGERS)}."]})
    if ("ticket_id" in payload) == ("ticket" in payload):
        raise ValidationFailed("Give either a ticket_id or a ticket.", {"ticket_id": ["Give ticket_id or ticket."]})
    if "ticket_id" in payload:
        ticket = desk.get(str(payload["ticket_id"]))
        if ticket is None:
            raise TicketNotFound()
    else:
        ticket = _ticket_shaped(payload["ticket"])
    if "rule" in payload:
        try:
            candidate = _load(payload["rule"], False)
        except ValidationFailed as exc:  # its problems at their path inside the request
            raise ValidationFailed(exc.message, {f"rule.{path}": messages for path, messages in exc.errors.items()}) \
                from None
        candidates = [Rule(id=str(uuid.uuid4()), created_by=None, now=uow.clock.now(), **candidate)]
    elif "rule_id" in payload:
        candidates = [uow.rules.get(str(payload["rule_id"]))]
    else:
        candidates = uow.rules.enabled()
    facts = _facts(ticket, uow=uow, desk=desk, directory=directory)
    uow.commit()  # read all it needs: the lookups that follow ask other services with no transaction open
    results = []
    for rule in candidates:
        matched = trigger in rule.triggers and rule.predicate(facts)
        results.append({"rule_id": rule.id, "name": rule.name, "enabled": bool(rule.enabled), "matched": matched,
                        "steps": [step.to_dict() for step in rules.plan(rule.actions, ticket)] if matched else []})
    return {"trigger": trigger, "ticket_id": ticket.get("id"), "rules": results,
            "matched": [r["rule_id"] for r in results if r["matched"]]}


def _ticket_shaped(raw: dict[str, Any]) -> dict[str, Any]:
    """A described ticket, checked field by field (each problem at ``ticket.<field>``), ids as text."""
    try:
        shaped = schemas.load(schemas.TicketShape, raw)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, {f"ticket.{path}": messages for path, messages in exc.errors.items()}) \
            from None
    ticket = {key: str(value) if isinstance(value, uuid.UUID) else value for key, value in shaped.items()}
    for name in ("requester", "organization"):
        if name in ticket:
            ticket[name] = {key: str(value) if isinstance(value, uuid.UUID) else value
                            for key, value in ticket[name].items()}
    return {"status": "new", "priority": "medium", "tags": [], **ticket}


def _facts(ticket: dict[str, Any], *, uow: AutomationUnitOfWork, desk: TicketDesk, directory: Directory) -> Facts:
    """The facts of a ticket; the description, requester and organization asked for only when needed."""
    tracked = uow.tickets.get(str(ticket["id"])) if ticket.get("id") else None
    if tracked is not None and tracked.sla_due_at is not None and "sla_due_at" not in ticket:
        ticket = {**ticket, "sla_due_at": tracked.sla_due_at}
    return Facts(ticket=ticket, now=uow.clock.now(), fetch=_fetchers(ticket, desk=desk, directory=directory))


def _fetchers(ticket: dict[str, Any], *, desk: TicketDesk, directory: Directory) -> dict[str, Any]:
    def description() -> Any:
        found = desk.get(str(ticket["id"])) if ticket.get("id") else None
        return (found or {}).get("description")

    def requester() -> Any:
        return directory.get_user(str(ticket["requester_id"])) if ticket.get("requester_id") else None

    def organization() -> Any:
        organization_id = ticket.get("organization_id")
        if not organization_id:
            organization_id = ((ticket.get("requester") or requester()) or {}).get("organization_id")
        return directory.get_organization(str(organization_id)) if organization_id else None

    return {"description": description, "requester": requester, "organization": organization}


# -- running ----------------------------------------------------------------------------------------


def via_of(rule: Rule) -> str:
    return f"rule:{rule.id} {rule.name}"


def _made_by(envelope: Envelope) -> str | None:
    """The rule whose change the event reports, if a rule made it."""
    via = ((envelope.data.get("actor") or {}).get("via") or "")
    return via[5:41] if via.startswith("rule:") else None


def queue_rules(envelope: Envelope, *, uow: AutomationUnitOfWork) -> bool:
    """In the event's first unit of work (the one holding its inbox claim), note the event as a job when an
    enabled rule runs on its type and may match its ticket; answer whether it did. Committed by the caller,
    with the claim."""
    if envelope.type not in RULE_TRIGGERS or "ticket" not in envelope.data:
        return False
    facts, cause = Facts(ticket=envelope.data["ticket"], now=uow.clock.now()), _made_by(envelope)
    if not any(rule.fires_on(envelope.type) and rule.id != cause and rules.may_match(rule, facts)
               for rule in uow.rules.enabled()):
        return False  # no rule can match: nothing to note, nothing to run (most events)
    uow.rule_jobs.add(envelope.to_dict(), now=facts.now)
    return True


def run_rule_job(event_id: str, open_uow: OpenUnitOfWork, *, desk: TicketDesk,
                 directory: Directory) -> list[dict[str, Any]]:
    """Run the rules of a queued event on its ticket, in order, each once; delete the job; answer what each did.

    A rule that already ran for this event (the job picked up again after a crash) is passed over; one
    that was running when the crash came runs again, its calls answered from the tickets service's record.
    """
    with open_uow() as uow:
        raw = uow.rule_jobs.get(event_id)
        if raw is None:
            return []
        envelope = Envelope.from_dict(raw)
        only = envelope.data.get("rule_id")  # a time rule's job is that rule's alone
        candidates = [rule for rule in uow.rules.enabled() if rule.fires_on(envelope.type)
                      and (only is None or rule.id == only)]
        ticket = dict(envelope.data["ticket"])
        facts = _facts(ticket, uow=uow, desk=desk, directory=directory)
        uow.commit()
    cause = _made_by(envelope)
    done = []
    for rule in candidates:
        if rule.id == cause or not rule.predicate(facts):
            continue  # a rule's own change never runs it again
        with open_uow() as uow:
            if uow.rule_runs.ran(envelope.id, rule.id):
                continue
            result = _fire(rule, ticket, envelope, uow=uow, desk=desk, facts=facts)
        done.append(result)
        if result.get("ticket") is not None:  # the next rule sees the ticket as this one left it
            ticket = {**ticket, **result["ticket"]}
            facts = Facts(ticket=ticket, now=facts.now, fetch=facts.fetch, _fetched=facts._fetched)
        if result["outcome"] == "gone":
            break
    with open_uow() as uow:
        uow.rule_jobs.delete(envelope.id)
        uow.commit()
    return done


def run_leftover_rule_jobs(open_uow: OpenUnitOfWork, *, desk: TicketDesk, directory: Directory,
                           older_than: timedelta = timedelta(seconds=30)) -> int:
    """Run the jobs a crash (or a service away) left behind; answer how many were run."""
    with open_uow() as uow:
        waiting = uow.rule_jobs.older_than(uow.clock.now() - older_than)
        uow.commit()
    for event_id in waiting:
        run_rule_job(event_id, open_uow, desk=desk, directory=directory)
    if waiting:
        log.info("ran the rules of %s events left waiting", len(waiting))
    return len(waiting)


def _fire(rule: Rule, ticket: dict[str, Any], envelope: Envelope, *, uow: AutomationUnitOfWork,
          desk: TicketDesk, facts: Facts) -> dict[str, Any]:
    now = uow.clock.now()
    fired = uow.rule_runs.count_since(rule.id, ticket["id"], now - timedelta(hours=1))
    uow.commit()  # a read: no transaction (nor SQLite's one connection) is held while the tickets service is asked
    base = {"rule_id": rule.id, "rule_name": rule.name, "ticket_id": ticket["id"], "event_id": envelope.id,
            "trigger": envelope.type, "at": now}
    if fired >= RULE_FIRINGS_PER_TICKET_HOUR:
        log.warning("loop protection: rule %r (%s) already fired %s times on ticket %s in the last hour; "
                    "not again until it has fired fewer", rule.name, rule.id, fired, ticket["id"])
        uow.rule_runs.add({**base, "outcome": "loop_protected", "steps": [],
                           "error": f"Fired {fired} times on this ticket in the last hour."})
        uow.commit()
        RULE_RUNS.labels("loop_protected").inc()
        return {"rule_id": rule.id, "outcome": "loop_protected", "steps": []}
    steps = rules.plan(rule.actions, ticket)
    done: list[dict[str, Any]] = []
    latest: dict[str, Any] | None = None
    outcome, error = "applied", None
    for index, step in enumerate(steps):
        command_id = str(uuid.uuid5(NAMESPACE, f"{envelope.id}:{rule.id}:{index}"))
        try:
            answer = _act(step, ticket={**ticket, **(latest or {})}, rule=rule, desk=desk, uow=uow,
                          command_id=command_id, facts=facts)
        except TicketNotFound:
            outcome, error = "gone", "The ticket no longer exists."
            break
        except ActionRefused as exc:  # an agent gone inactive, a move the ticket's status forbids: skipped
            log.warning("rule %r (%s): %s skipped on ticket %s: %s", rule.name, rule.id, step.type, ticket["id"], exc)
            done.append({**step.to_dict(), "skipped": f"Refused: {exc}"})
            continue
        if answer is not None and "status" in answer and "version" in answer:
            latest = answer
        done.append(step.to_dict())
    if outcome == "applied" and all("skipped" in step for step in done):
        outcome = "unchanged"  # everything was already so: nothing happened, nothing to tell
    if latest is not None:  # the router's copy follows (routing, next, sees what the rule did)
        uow.tickets.apply(TrackedTicket.from_snapshot(latest), now=now)
    uow.rule_runs.add({**base, "outcome": outcome, "steps": done, "error": error})
    if outcome != "unchanged":
        uow.emit("rule.fired", {"rule": {"id": rule.id, "name": rule.name}, "ticket_id": ticket["id"],
                                "trigger": envelope.type, "cause_event_id": envelope.id, "steps": done})
    uow.commit()
    RULE_RUNS.labels(outcome).inc()
    return {"rule_id": rule.id, "outcome": outcome, "steps": done, "ticket": latest}


def _act(step: Step, *, ticket: dict[str, Any], rule: Rule, desk: TicketDesk, uow: AutomationUnitOfWork,
         command_id: str, facts: Facts) -> dict[str, Any] | None:
    """Carry out one planned step through the tickets service (or, for a notification, the outbox)."""
    if step.skip is not None:
        return None
    action, via, ticket_id = step.action, via_of(rule), ticket["id"]
    call = {"via": via, "command_id": command_id}
    if step.type in ("set_priority", "escalate"):
        return desk.act("change_priority", ticket_id, priority=step.after, **call)
    if step.type == "assign_agent":
        return desk.act("assign", ticket_id, assignee_id=step.after, set_assignee=True, **call)
    if step.type == "assign_department":
        return desk.act("assign", ticket_id, department_id=step.after, set_department=True, set_assignee=False,
                        **call)
    if step.type in ("add_tag", "remove_tag"):
        return desk.act("update", ticket_id, changes={"tags": step.after}, **call)
    if step.type in ("set_status", "auto_resolve"):
        return desk.act("change_status", ticket_id, status=step.after, resolution=action.get("resolution"), **call)
    if step.type == "close":
        return desk.act("close", ticket_id, resolution=action.get("resolution"), **call)
    if step.type == "add_comment":
        body = action.get("body") or _render(action["template_id"], ticket, facts, uow=uow)
        uow.commit()  # the template was read: release before asking the tickets service
        desk.act("add_comment", ticket_id, data={"body": body, "internal": bool(action.get("internal", False))}, **call)
        return None
    if step.type == "send_notification":
        _notify(action, ticket, rule, uow=uow)
        return None
    raise AssertionError(f"no way to act on {step.type}")


def _render(template_id: str, ticket: dict[str, Any], facts: Facts, *, uow: AutomationUnitOfWork) -> str:
    template = uow.templates.find(template_id)
    if template is None:
        raise ActionRefused("its response template was deleted")
    agent = uow.agents.get(ticket["assignee_id"]) if ticket.get("assignee_id") else None
    context = templates.context_of(
        ticket, requester={"name": facts.value("requester.name"), "email": facts.value("requester.email")},
        agent={"name": agent.name} if agent else None)
    try:
        return templates.render(template.body, context)
    except ValidationFailed as exc:
        raise ActionRefused(f"its response template cannot be rendered: {exc.message}") from None


def _notify(action: dict[str, Any], ticket: dict[str, Any], rule: Rule, *, uow: AutomationUnitOfWork) -> None:
    uow.emit("notification.requested", {
        "ticket_id": ticket["id"], "ticket_number": ticket.get("number") or "", "to": action["to"],
        "user_id": action.get("user_id"), "department_id": ticket.get("department_id"),
        "assignee_id": ticket.get("assignee_id"), "requester_id": ticket.get("requester_id"),
        "message": action["message"], "rule": {"id": rule.id, "name": rule.name},
        "internal": action["to"] != "requester",
    })


# -- time-based rules -------------------------------------------------------------------------------

TIME = "time"


def time_event_id(rule_id: str, ticket_id: str) -> str:
    """The one event of a time rule coming true on a ticket: it acts once per ticket and rule."""
    return str(uuid.uuid5(NAMESPACE, f"time:{rule_id}:{ticket_id}"))


def run_time_rules(open_uow: OpenUnitOfWork, *, desk: TicketDesk, directory: Directory,
                   pause: Callable[[], None] = lambda: None, pause_every: int = 500) -> int:
    """Run every enabled time rule on each ticket (not closed) that meets its conditions now and never had it;
    answer how many (rule, ticket) pairs came due.

    The tickets and what already ran are read in one short transaction; the conditions are evaluated with
    no transaction open (``pause()`` every ``pause_every`` tickets lets the process's other work run: the
    service passes eventlet's sleep). The jobs are then queued under the ``time_rules`` turn
    (``uow.routing``), leaving out every pair queued or run meanwhile, so replicas scanning at once queue each
    pair once; then they run as an event's rules do (each call once; the sweep finishes one a crash left).
    """
    started = time.perf_counter()
    with open_uow() as uow:
        time_rules = [rule for rule in uow.rules.enabled() if TIME in rule.triggers]
        if not time_rules:
            uow.commit()
            return 0
        now = uow.clock.now()
        tickets = uow.tickets.for_time_rules()
        done = {rule.id: uow.rule_runs.ticket_ids(rule.id, trigger=TIME) | uow.rule_jobs.ticket_ids(rule.id)
                for rule in time_rules}
        uow.commit()
    due: list[tuple[Rule, dict[str, Any]]] = []
    for index, ticket in enumerate(tickets, start=1):
        facts = Facts(ticket=ticket, now=now, fetch=_fetchers(ticket, desk=desk, directory=directory))
        due.extend((rule, ticket) for rule in time_rules if ticket["id"] not in done[rule.id] and rule.predicate(facts))
        if index % pause_every == 0:
            pause()
    if due:
        with open_uow() as uow:
            uow.routing.take(now=now, scope="time_rules")
            taken = {rule.id: uow.rule_runs.ticket_ids(rule.id, trigger=TIME) | uow.rule_jobs.ticket_ids(rule.id)
                     for rule in time_rules}
            due = [(rule, ticket) for rule, ticket in due if ticket["id"] not in taken[rule.id]]
            for rule, ticket in due:
                uow.rule_jobs.add(Envelope(
                    id=time_event_id(rule.id, ticket["id"]), type=TIME, version=1, occurred_at=now.isoformat(),
                    producer="automation", correlation_id=None,
                    data={"ticket": _plain(ticket), "rule_id": rule.id},
                ).to_dict(), now=now)
            uow.commit()
    TIME_SCAN_SECONDS.observe(time.perf_counter() - started)
    for rule, ticket in due:
        run_rule_job(time_event_id(rule.id, ticket["id"]), open_uow, desk=desk, directory=directory)
    if due:
        log.info("time rules: %s came true on %s tickets", len({r.id for r, _ in due}), len({t["id"] for _, t in due}))
    return len(due)


def _plain(ticket: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in ticket.items()}

