"""What people ask the router: its decisions, the backlog, an agent's workload, and the strategies."""

from __future__ import annotations

from typing import Any

from helpdesk_common.payloads import isoformat as iso
from services.automation.domain.errors import DepartmentNotFound, TicketNotFound, UserNotFound, ValidationFailed
from services.automation.domain.model import STRATEGIES, WORKING_STATUSES
from services.automation.handlers.common import (
    actor_from,
    departments_seen,
    may_see,
    page_of,
    require_admin,
    require_staff,
)
from services.automation.handlers.ports import AutomationUnitOfWork, Directory


def list_decisions(actor_raw: Any, *, uow: AutomationUnitOfWork, ticket_id: str | None = None, page: Any = 1,
                   limit: Any = 20) -> dict[str, Any]:
    """The router's decisions, newest first: of one ticket, or of every ticket the caller sees (staff)."""
    actor = actor_from(actor_raw)
    require_staff(actor)
    page, limit = page_of(page, limit)
    if ticket_id is not None:
        ticket = uow.tickets.get(str(ticket_id))
        if ticket is None or not may_see(actor, ticket):
            raise TicketNotFound()
        items, total = uow.decisions.page(ticket_ids=[ticket.id], department_ids=None, offset=(page - 1) * limit,
                                          limit=limit)
    else:
        items, total = uow.decisions.page(ticket_ids=None, department_ids=departments_seen(actor),
                                          offset=(page - 1) * limit, limit=limit)
    return {"items": [_decision_view(row) for row in items], "total": total}


def _decision_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "ticket_id": row["ticket_id"], "ticket_number": row["ticket_number"],
        "department_id": row["department_id"], "at": iso(row["at"]), "outcome": row["outcome"],
        "agent_id": row["agent_id"], "strategy": row["strategy"], "trigger": row["trigger"],
        "reason": row["reason"], "candidates": list(row["candidates"] or []),
    }


def backlog(actor_raw: Any, *, uow: AutomationUnitOfWork, department_id: str | None = None, page: Any = 1,
            limit: Any = 20) -> dict[str, Any]:
    """The unassigned backlog in the order the router serves it, each ticket with its position (staff)."""
    actor = actor_from(actor_raw)
    require_staff(actor)
    page, limit = page_of(page, limit)
    seen = departments_seen(actor)
    if department_id is not None:
        if seen is not None and department_id not in seen:
            return {"items": [], "total": 0}
        seen = [department_id]
    offset = (page - 1) * limit
    tickets, total = uow.tickets.backlog(department_ids=seen, offset=offset, limit=limit)
    return {"items": [{
        "position": offset + number, "ticket_id": t.id, "number": t.number, "title": t.title,
        "priority": t.priority, "status": t.status, "department_id": t.department_id, "category": t.category,
        "created_at": iso(t.created_at), "queued_since": iso(t.queued_since), "sla_due_at": iso(t.sla_due_at),
    } for number, t in enumerate(tickets, start=1)], "total": total}


def workload(user_id: str, actor_raw: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """An agent's load as the router counts it (managers: anyone's; agents: their own)."""
    actor = actor_from(actor_raw)
    require_staff(actor)
    if not actor.is_manager and actor.id != user_id:
        raise UserNotFound("Agents see only their own workload.")
    agent = uow.agents.get(str(user_id))
    if agent is None:
        raise UserNotFound()
    by_status = uow.tickets.load_by_status(agent.id)
    working = sum(by_status.get(status, 0) for status in WORKING_STATUSES)
    return {
        "user_id": agent.id, "name": agent.name, "role": agent.role, "status": agent.status,
        "availability": agent.availability, "department_id": agent.department_id, "skills": list(agent.skills),
        "max_concurrent_tickets": agent.max_concurrent_tickets, "working_tickets": working,
        "capacity_left": max(agent.max_concurrent_tickets - working, 0),
        "at_capacity": working >= agent.max_concurrent_tickets,
        "by_status": {status: count for status, count in sorted(by_status.items())},
        "last_assigned_at": iso(agent.last_assigned_at),
    }


def list_strategies(actor_raw: Any, *, uow: AutomationUnitOfWork) -> dict[str, Any]:
    """Every department routed otherwise than by the default (least_loaded), with who set it (staff)."""
    actor = actor_from(actor_raw)
    require_staff(actor)
    rows = uow.strategies.all()
    return {"items": [_strategy_view(row) for row in rows], "total": len(rows)}


def set_strategy(department_id: str, strategy: Any, actor_raw: Any, *, uow: AutomationUnitOfWork,
                 directory: Directory) -> dict[str, Any]:
    """Set how a department's tickets are routed (admins): least_loaded, round_robin or manual_only."""
    actor = actor_from(actor_raw)
    require_admin(actor)
    if strategy not in STRATEGIES:
        raise ValidationFailed(f"Unknown strategy {strategy!r}.", {"strategy": [f"Must be one of: {', '.join(STRATEGIES)}."]})
    if not directory.department_exists(str(department_id)):
        raise DepartmentNotFound()
    now = uow.clock.now()
    uow.strategies.set(str(department_id), strategy, actor_id=actor.id, now=now)
    uow.commit()
    return _strategy_view({"department_id": str(department_id), "strategy": strategy, "updated_at": now,
                           "updated_by": actor.id})


def _strategy_view(row: dict[str, Any]) -> dict[str, Any]:
    return {"department_id": row["department_id"], "strategy": row["strategy"], "updated_at": iso(row["updated_at"]),
            "updated_by": row.get("updated_by")}
