"""Commands and queries of the automation service: one function each, given a unit of work.

Split by concept: ``tracking`` (the read model of agents and tickets), ``routing`` (decisions and the
backlog), ``queries`` (what people ask), ``templates`` (response templates, a named resource), ``rules`` (automation rules: managing them, the dry
run, and running them on ticket events). Every public function is re-exported here, so ``service.py``
calls ``handlers.route_ticket(...)``. Handlers take repositories only from the unit of work
(``ports.AutomationUnitOfWork``) and import no adapter (an import-linter contract says so).
"""

from services.automation.handlers.queries import backlog, list_decisions, list_strategies, set_strategy, workload
from services.automation.handlers.routing import Routed, drain_backlog, route_ticket
from services.automation.handlers.rules import (
    create_rule,
    delete_rule,
    dry_run,
    get_rule,
    list_rule_runs,
    list_rules,
    queue_rules,
    run_leftover_rule_jobs,
    run_rule_job,
    run_time_rules,
    ship_rule,
    toggle_rule,
    update_rule,
)
from services.automation.handlers.templates import (
    create_template,
    delete_template,
    get_template,
    list_templates,
    render_template,
    update_template,
)
from services.automation.handlers.tracking import (
    Effect,
    sync_agents,
    sync_tickets,
    track_availability,
    track_ticket,
    track_user,
)

__all__ = [
    "create_rule", "delete_rule", "get_rule", "list_rule_runs", "list_rules", "queue_rules", "run_leftover_rule_jobs",
    "run_rule_job", "run_time_rules", "ship_rule", "dry_run", "toggle_rule", "update_rule",
    "Effect", "Routed", "backlog", "create_template", "delete_template", "drain_backlog", "get_template",
    "list_decisions", "list_strategies", "list_templates", "render_template", "route_ticket", "set_strategy",
    "sync_agents", "sync_tickets", "track_availability", "track_ticket", "track_user", "update_template", "workload",
]
