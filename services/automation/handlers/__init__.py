"""Commands and queries of the automation service: one function each, given a unit of work.

Split by concept: ``tracking`` (the read model of agents and tickets), ``routing`` (decisions and the
backlog), ``queries`` (what people ask). Every public function is re-exported here, so ``service.py``
calls ``handlers.route_ticket(...)``. Handlers take repositories only from the unit of work
(``ports.AutomationUnitOfWork``) and import no adapter (an import-linter contract says so).
"""

from services.automation.handlers.queries import backlog, list_decisions, list_strategies, set_strategy, workload
from services.automation.handlers.routing import Routed, drain_backlog, route_ticket
from services.automation.handlers.tracking import (
    Effect,
    sync_agents,
    sync_tickets,
    track_availability,
    track_ticket,
    track_user,
)

__all__ = [
    "Effect", "Routed", "backlog", "drain_backlog", "list_decisions", "list_strategies", "route_ticket",
    "set_strategy", "sync_agents", "sync_tickets", "track_availability", "track_ticket", "track_user", "workload",
]
