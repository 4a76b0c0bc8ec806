"""Who gets a ticket: the router's rules as pure functions (no database, no broker).

An agent can take a ticket when they are active, online, of an assignable role, hold the skills it needs
and are below their ``max_concurrent_tickets`` (counting only tickets in a working state). Among those,
``least_loaded`` picks the one with the fewest working tickets and ``round_robin`` the one who got a ticket
longest ago; ties are broken round-robin too (longest since their last ticket, then by id, so two replicas
deciding the same question answer alike). ``manual_only`` never picks. Nobody able: the backlog.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from services.automation.domain.model import (
    ASSIGNABLE_ROLES,
    LEAST_LOADED,
    MANUAL_ONLY,
    PRIORITY_RANK,
    ROUND_ROBIN,
    Agent,
    Candidate,
    Choice,
    TrackedTicket,
)

CANDIDATES_RECORDED = 50  # a decision keeps at most this many of the agents it looked at
_NEVER = datetime.min.replace(tzinfo=UTC)


def passed_over(agent: Agent, load: int, required_skills: Iterable[str] = (), refused: Iterable[str] = ()) -> str | None:
    """Say why ``agent`` cannot take a ticket now, or None when they can (``refused``: agents the tickets
    service would not take for this ticket a moment ago)."""
    if agent.role not in ASSIGNABLE_ROLES:
        return f"role {agent.role} is not assigned tickets automatically"
    if agent.status != "active":
        return f"account {agent.status.replace('_', ' ')}"
    if agent.availability != "online":
        return f"{agent.availability}, not online"
    held = {skill.casefold() for skill in agent.skills or ()}
    missing = sorted(skill for skill in set(required_skills) if skill.casefold() not in held)
    if missing:
        return "lacks skills: " + ", ".join(missing)
    if load >= agent.max_concurrent_tickets:
        return f"at capacity ({load} of {agent.max_concurrent_tickets})"
    if agent.id in refused:
        return "refused by the tickets service"
    return None


def choose(ticket: TrackedTicket, agents: Iterable[Agent], loads: Mapping[str, int], *, strategy: str = LEAST_LOADED,
           required_skills: Iterable[str] = (), refused: Iterable[str] = ()) -> Choice:
    """Pick the agent for ``ticket`` among ``agents`` (its department's, or everyone when it has none).

    ``loads`` holds each agent's working tickets. The answer names the strategy, a reason a person can
    read, and every agent looked at with why each was passed over.
    """
    required, refused = tuple(required_skills), frozenset(refused)
    considered: list[tuple[Agent, int, str | None]] = []
    for agent in agents:
        load = int(loads.get(agent.id, 0))
        considered.append((agent, load, passed_over(agent, load, required, refused)))
    scope = "its department" if ticket.department_id else "any department"
    if strategy == MANUAL_ONLY:
        return Choice(None, strategy, "the department assigns by hand (manual_only)", _recorded(considered, None))
    able = [(agent, load) for agent, load, why in considered if why is None]
    if not able:
        why = f"no agent in {scope}" if not considered else f"nobody in {scope} can take it now ({len(considered)} looked at)"
        return Choice(None, strategy, why, _recorded(considered, None))
    if strategy == ROUND_ROBIN:
        agent, load = min(able, key=lambda pair: (pair[0].last_assigned_at or _NEVER, pair[0].id))
        reason = f"round robin in {scope}: {agent.name} waited longest for a ticket ({load} of {agent.max_concurrent_tickets})"
    else:
        agent, load = min(able, key=lambda pair: (pair[1], pair[0].last_assigned_at or _NEVER, pair[0].id))
        reason = f"least loaded in {scope}: {agent.name} ({load} of {agent.max_concurrent_tickets} working tickets)"
    considered = [(a, n, why if a.id != agent.id else None) for a, n, why in considered]
    others = [(a, n, why or _not_chosen(strategy)) for a, n, why in considered if a.id != agent.id]
    return Choice(agent.id, strategy, reason, _recorded([(agent, load, None), *others], agent.id))


def _not_chosen(strategy: str) -> str:
    return "had a ticket more recently" if strategy == ROUND_ROBIN else "more loaded, or had a ticket more recently"


def _recorded(considered: list[tuple[Agent, int, str | None]], chosen: str | None) -> tuple[Candidate, ...]:
    ordered = sorted(considered, key=lambda item: (item[0].id != chosen, item[2] is not None, item[1], item[0].id))
    return tuple(Candidate(a.id, a.name, n, a.max_concurrent_tickets, why) for a, n, why in ordered[:CANDIDATES_RECORDED])


def backlog_key(ticket: TrackedTicket) -> tuple:
    """Order of the unassigned backlog: SLA due time first (soonest; none last), then priority, then age."""
    due = ticket.sla_due_at
    return (due is None, due or _NEVER, -PRIORITY_RANK.get(ticket.priority, 0), ticket.created_at, ticket.id)
