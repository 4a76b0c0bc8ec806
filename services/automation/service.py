"""The automation service: the one routing brain for tickets.

It keeps its own copy of staff and of working tickets (``user.*``, ``agent.availability_changed``,
``ticket.*`` events, reconciled with the users and tickets services' listings), gives every unassigned
working ticket an agent - active, online, of the ticket's department, below their capacity, least loaded
or round robin as the department says - or keeps it in the backlog until capacity frees up, and records
every decision with its reason. It acts on tickets only through the tickets service, as the ``system``
actor, so each assignment is in the ticket's history. It also keeps the response templates (canned
responses) staff insert into replies.

Entrypoints parse, call one handler with a fresh unit of work and return plain dicts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import eventlet

from helpdesk_common.nameko_ext import (
    RETRY_SOON,
    Database,
    Observability,
    configured_timer,
    reliable_event_handler,
    rpc,
)
from helpdesk_contracts.errors import ServiceError
from services.automation import handlers
from services.automation.adapters.orm import start_mappers
from services.automation.adapters.uow import AutomationUnitOfWork
from services.automation.dependencies import TicketsDesk, UsersDirectory

start_mappers()

expected = rpc(expected_exceptions=ServiceError)
log = logging.getLogger(__name__)


class AutomationService:
    """Routes tickets to agents."""

    name = "automation"

    db = Database(uow_class=AutomationUnitOfWork)
    desk = TicketsDesk()
    directory = UsersDirectory()
    observability = Observability()

    @expected
    def ping(self) -> str:
        """Answer readiness probes."""
        return "pong"

    # -- questions ------------------------------------------------------------------------------------
    @expected
    def list_decisions(self, actor, ticket_id=None, page=1, limit=20):
        """Return a page of routing decisions, newest first (of one ticket, or of those the caller sees)."""
        with self.db() as uow:
            return handlers.list_decisions(actor, uow=uow, ticket_id=ticket_id, page=page, limit=limit)

    @expected
    def backlog(self, actor, department_id=None, page=1, limit=20):
        """Return a page of the unassigned backlog, in the order it is served, with positions."""
        with self.db() as uow:
            return handlers.backlog(actor, uow=uow, department_id=department_id, page=page, limit=limit)

    @expected
    def workload(self, user_id, actor):
        """Return an agent's load as the router counts it."""
        with self.db() as uow:
            return handlers.workload(user_id, actor, uow=uow)

    @expected
    def list_strategies(self, actor):
        """Return the departments' routing strategies (those set; the rest route least_loaded)."""
        with self.db() as uow:
            return handlers.list_strategies(actor, uow=uow)

    @expected
    def set_strategy(self, department_id, strategy, actor):
        """Set how a department's tickets are routed (its waiting tickets are offered at the next sweep).

        A command opens one unit of work: its commit is held until the answer is recorded, so a drain here
        would wait for a second connection the held one keeps (SQLite has one).
        """
        with self.db() as uow:
            return handlers.set_strategy(department_id, strategy, actor, uow=uow, directory=self.directory)

    # -- response templates ---------------------------------------------------------------------------
    @expected
    def create_template(self, data, actor):
        """Create a response template (staff; the caller is its creator)."""
        with self.db() as uow:
            return handlers.create_template(data, actor, uow=uow)

    @expected
    def get_template(self, template_id, actor):
        """Return a response template (staff)."""
        with self.db() as uow:
            return handlers.get_template(template_id, actor, uow=uow)

    @expected
    def list_templates(self, actor, page=1, limit=20):
        """Return a page of response templates, by name (staff)."""
        with self.db() as uow:
            return handlers.list_templates(actor, page, limit, uow=uow)

    @expected
    def update_template(self, template_id, changes, actor):
        """Change a response template (its creator, supervisors, admins)."""
        with self.db() as uow:
            return handlers.update_template(template_id, changes, actor, uow=uow)

    @expected
    def delete_template(self, template_id, actor):
        """Delete a response template (its creator, supervisors, admins)."""
        with self.db() as uow:
            return handlers.delete_template(template_id, actor, uow=uow)

    @expected
    def render_template(self, template_id, context, actor, ticket_id=None):
        """Render a response template (staff): ``{"body": text}``, with ``{ticket, requester, agent}`` values,
        or for a ticket the caller may see (``ticket_id``)."""
        with self.db() as uow:
            return handlers.render_template(template_id, context, actor, uow=uow, desk=self.desk,
                                            directory=self.directory, ticket_id=ticket_id)

    # -- automation rules -----------------------------------------------------------------------------
    @expected
    def create_rule(self, data, actor):
        """Create an automation rule (admins)."""
        with self.db() as uow:
            return handlers.create_rule(data, actor, uow=uow, directory=self.directory)

    @expected
    def get_rule(self, rule_id, actor):
        """Return a rule (supervisors, admins)."""
        with self.db() as uow:
            return handlers.get_rule(rule_id, actor, uow=uow)

    @expected
    def list_rules(self, actor, page=1, limit=20):
        """Return a page of rules in the order they run (supervisors, admins)."""
        with self.db() as uow:
            return handlers.list_rules(actor, page, limit, uow=uow)

    @expected
    def update_rule(self, rule_id, changes, actor):
        """Change a rule (admins)."""
        with self.db() as uow:
            return handlers.update_rule(rule_id, changes, actor, uow=uow, directory=self.directory)

    @expected
    def toggle_rule(self, rule_id, actor, enabled=None):
        """Enable or disable a rule (admins); without ``enabled``, the other way round from now."""
        with self.db() as uow:
            return handlers.toggle_rule(rule_id, enabled, actor, uow=uow)

    @expected
    def delete_rule(self, rule_id, actor):
        """Delete a rule (admins)."""
        with self.db() as uow:
            return handlers.delete_rule(rule_id, actor, uow=uow)

    @expected
    def test_rules(self, data, actor):
        """A dry run: which rules would match a ticket and what each would change (supervisors, admins)."""
        with self.db() as uow:
            return handlers.dry_run(data, actor, uow=uow, desk=self.desk, directory=self.directory)

    @expected
    def list_rule_runs(self, actor, ticket_id=None, rule_id=None, page=1, limit=20):
        """What rules did, newest first (supervisors, admins)."""
        with self.db() as uow:
            return handlers.list_rule_runs(actor, uow=uow, ticket_id=ticket_id, rule_id=rule_id, page=page,
                                           limit=limit)

    # -- facts ----------------------------------------------------------------------------------------
    @reliable_event_handler("tickets", "ticket.created")
    @reliable_event_handler("tickets", "ticket.updated")
    @reliable_event_handler("tickets", "ticket.status_changed")
    @reliable_event_handler("tickets", "ticket.assigned")
    @reliable_event_handler("tickets", "ticket.unassigned")
    @reliable_event_handler("tickets", "ticket.merged")
    @reliable_event_handler("tickets", "ticket.deleted")
    @reliable_event_handler("tickets", "ticket.commented")
    def on_ticket(self, envelope):
        """Follow a ticket; run the rules the event triggers; route it when it wants an agent, drain the
        backlog when it freed one."""
        with self.db() as uow:
            queued = handlers.queue_rules(envelope, uow=uow)  # with the inbox claim: never lost to a crash
            effect = handlers.track_ticket(envelope, uow=uow)
        if queued:
            self._run_rules(envelope.id)
        self._apply(effect, envelope.type)

    @reliable_event_handler("users", "user.created")
    @reliable_event_handler("users", "user.updated")
    @reliable_event_handler("users", "user.deactivated")
    def on_user(self, envelope):
        """Follow a member of staff; one who may now take tickets drains the backlog."""
        with self.db() as uow:
            effect = handlers.track_user(envelope, uow=uow)
        self._apply(effect, envelope.type)

    @reliable_event_handler("users", "agent.availability_changed")
    def on_availability(self, envelope):
        """Follow an agent going online, away or offline; coming online drains the backlog."""
        with self.db() as uow:
            effect = handlers.track_availability(envelope, uow=uow)
        self._apply(effect, envelope.type)

    # -- safety nets ----------------------------------------------------------------------------------
    @configured_timer("BACKLOG_SWEEP_SECONDS", default=30)
    def sweep_backlog(self):
        """Offer the backlog again (a decision interrupted by a crash, or a fact no event told), and run the
        rules a crash or an absent tickets service left waiting."""
        try:
            handlers.run_leftover_rule_jobs(self.db, desk=self.desk, directory=self.directory)
        except Exception as exc:  # the tickets service away: the jobs wait for the next sweep
            log.warning("could not run the rules left waiting (trying again at the next sweep): %r", exc)
        self._drain("sweep")

    @configured_timer("TIME_RULES_SECONDS", default=30)
    def time_rules(self):
        """Run the time-based rules that came true (each once per ticket)."""
        try:
            handlers.run_time_rules(self.db, desk=self.desk, directory=self.directory, pause=eventlet.sleep)
        except Exception as exc:  # the tickets service away: what came true is found again next round
            log.warning("could not run the time rules (trying again soon): %r", exc)
            return RETRY_SOON
        return None

    @configured_timer("AUTOMATION_SYNC_SECONDS", default=600, eager=True)
    def reconcile(self):
        """Reconcile the copies of staff and working tickets with their services: at start, then every 10 min
        (seconds later when a service was not up yet)."""
        started = datetime.now(UTC)
        try:
            with self.db() as uow:
                handlers.sync_agents(self.directory, uow=uow, listed_since=started)
            with self.db() as uow:
                handlers.sync_tickets(self.desk, uow=uow)
        except Exception as exc:  # a service away or slow: the events still flow; the next round tries again
            log.warning("could not reconcile with the users and tickets services (trying again soon): %r", exc)
            return RETRY_SOON
        self._drain("reconciled")
        return None

    def _run_rules(self, event_id: str) -> None:
        try:
            handlers.run_rule_job(event_id, self.db, desk=self.desk, directory=self.directory)
        except Exception as exc:  # the job stays: the sweep runs it (each rule once, each call once)
            log.warning("rules of event %s left for the sweep: %r", event_id, exc)

    def _apply(self, effect, trigger: str) -> None:
        if effect.route is not None:
            with self.db() as uow:
                handlers.route_ticket(effect.route, uow=uow, desk=self.desk, directory=self.directory, trigger=trigger)
        if effect.freed:
            self._drain(trigger)

    def _drain(self, trigger: str) -> None:
        handlers.drain_backlog(self.db, desk=self.desk, directory=self.directory, trigger=trigger)
