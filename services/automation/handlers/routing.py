"""Routing: give each unassigned working ticket an agent, or keep it in the backlog until one can take it.

A decision takes the routing turn first (``uow.routing.take``: decisions in every process and replica take
turns, so two never see the same free capacity), re-reads the ticket and the loads, picks with
``domain.routing.choose`` and assigns through the tickets service as the ``system`` actor with the
ticket's ``expected_version``: a ticket changed meanwhile (assigned by hand, moved, closed) is refused
there, re-read, and decided again, so manual assignment always wins and a ticket is assigned once even
when the same event is handled twice. The decision, its reason and the candidates are recorded in the
same transaction as the router's copy of the assignment.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from services.automation.domain import routing
from services.automation.domain.errors import AssigneeRefused, TicketChanged
from services.automation.domain.model import ASSIGNED, MANUAL_ONLY, QUEUED, Choice, TrackedTicket
from services.automation.handlers.metrics import DECISION_SECONDS, DECISIONS
from services.automation.handlers.ports import AutomationUnitOfWork, Directory, OpenUnitOfWork, TicketDesk

log = logging.getLogger(__name__)
ATTEMPTS = 3  # decisions of one ticket before giving up for now (it stays in the backlog for the sweep)
VIA = "automation"


@dataclass(frozen=True)
class Routed:
    """What routing one ticket came to: ``assigned``, ``queued`` or ``skipped`` (nothing to do), with the
    decision recorded (None when none was: skipped, or already waiting in the backlog)."""

    outcome: str
    decision: dict[str, Any] | None = None


SKIPPED = Routed("skipped")


def route_ticket(ticket_id: str, *, uow: AutomationUnitOfWork, desk: TicketDesk, directory: Directory,
                 trigger: str) -> Routed:
    """Decide who gets one ticket, act on it through the tickets service, and record the decision."""
    refused: set[str] = set()  # agents the tickets service would not take this time (their copy is refreshed)
    for _ in range(ATTEMPTS):
        started = time.perf_counter()
        now = uow.clock.now()
        uow.routing.take(now=now)
        ticket = uow.tickets.get(ticket_id)
        if ticket is None or not ticket.wants_agent:
            uow.commit()
            return SKIPPED
        strategy = uow.strategies.of(ticket.department_id)
        if strategy == MANUAL_ONLY:
            uow.commit()
            return SKIPPED
        agents = uow.agents.in_scope(ticket.department_id)
        choice = routing.choose(ticket, agents, uow.tickets.loads([agent.id for agent in agents]), strategy=strategy,
                                required_skills=ticket.required_skills, refused=refused)
        DECISION_SECONDS.observe(time.perf_counter() - started)
        if choice.agent_id is None:
            first = uow.tickets.mark_queued(ticket.id, now=now)
            decision = _record(uow, ticket, choice, trigger) if first else None
            uow.commit()
            if first:
                DECISIONS.labels(QUEUED).inc()
            return Routed(QUEUED, decision)
        try:
            answer = desk.assign(ticket.id, choice.agent_id, expected_version=ticket.version,
                                 via=f"{VIA}: {strategy}")
        except TicketChanged:
            uow.rollback()
            _refresh_ticket(uow, desk, ticket.id)
            continue
        except AssigneeRefused:
            uow.rollback()
            refused.add(choice.agent_id)
            _refresh_agent(uow, directory, choice.agent_id)
            continue
        uow.tickets.apply(TrackedTicket.from_snapshot(answer), now=now)
        uow.agents.mark_assigned(choice.agent_id, now=now)
        decision = _record(uow, ticket, choice, trigger)
        uow.commit()
        DECISIONS.labels(ASSIGNED).inc()
        return Routed(ASSIGNED, decision)
    log.warning("gave up routing ticket %s for now after %s attempts (it changed each time)", ticket_id, ATTEMPTS)
    return SKIPPED


def drain_backlog(open_uow: OpenUnitOfWork, *, desk: TicketDesk, directory: Directory, trigger: str) -> int:
    """Offer the backlog, in order, to whoever can take it now; answer how many tickets were assigned.

    Departments found full are skipped for the rest of the round (and everything once a ticket any
    department could take found nobody), so a drain costs little when capacity is short.
    """
    with open_uow() as uow:
        able, anyone = uow.agents.able_departments()
        if not anyone:
            return 0
        backlog, _ = uow.tickets.backlog()
        waiting = [(t.id, t.department_id, bool(t.required_skills)) for t in backlog
                   if t.department_id is None or t.department_id in able]
    full: set[str | None] = set()
    assigned = 0
    for ticket_id, department_id, needs_skills in waiting:
        if department_id in full or None in full:
            continue
        with open_uow() as uow:
            routed = route_ticket(ticket_id, uow=uow, desk=desk, directory=directory, trigger=trigger)
        if routed.outcome == ASSIGNED:
            assigned += 1
        elif routed.outcome == QUEUED and not needs_skills:  # nobody with the skills is not nobody at all
            full.add(department_id)
    if assigned:
        log.info("backlog drained (%s): %s tickets assigned", trigger, assigned)
    return assigned


def _record(uow: AutomationUnitOfWork, ticket: TrackedTicket, choice: Choice, trigger: str) -> dict[str, Any]:
    return uow.decisions.add({
        "ticket_id": ticket.id, "ticket_number": ticket.number, "department_id": ticket.department_id,
        "at": uow.clock.now(), "outcome": choice.outcome, "agent_id": choice.agent_id,
        "strategy": choice.strategy, "trigger": trigger, "reason": choice.reason,
        "candidates": [candidate.to_dict() for candidate in choice.candidates],
    })


def _refresh_ticket(uow: AutomationUnitOfWork, desk: TicketDesk, ticket_id: str) -> None:
    snapshot = desk.get(ticket_id)
    if snapshot is None:
        uow.tickets.mark_gone(ticket_id, now=uow.clock.now())
    else:
        uow.tickets.apply(TrackedTicket.from_snapshot(snapshot), now=uow.clock.now())
    uow.commit()


def _refresh_agent(uow: AutomationUnitOfWork, directory: Directory, agent_id: str) -> None:
    user = directory.get_user(agent_id)
    if user is not None:
        uow.agents.apply_user({**user, "version": int(user.get("version") or 1)}, as_of=uow.clock.now(),
                              now=uow.clock.now())
    log.warning("the tickets service refused agent %s as assignee; their copy was refreshed", agent_id)
    uow.commit()
