"""The automation unit of work: one transaction and the repositories that work inside it."""

from __future__ import annotations

from helpdesk_common.resources import SqlAlchemyNamedRepository
from helpdesk_common.uow import UnitOfWork
from services.automation.adapters.repository import (
    SqlAlchemyAgentRepository,
    SqlAlchemyDecisionRepository,
    SqlAlchemyRoutingLock,
    SqlAlchemyRuleJobRepository,
    SqlAlchemyRuleRepository,
    SqlAlchemyRuleRunRepository,
    SqlAlchemyStrategyRepository,
    SqlAlchemyTicketRepository,
    template_repository,
)


class AutomationUnitOfWork(UnitOfWork):
    """``uow.agents``, ``uow.tickets``, ``uow.strategies``, ``uow.decisions``, ``uow.routing`` and
    ``uow.templates``, ``uow.rules``, ``uow.rule_runs`` and ``uow.rule_jobs`` on this transaction."""

    @property
    def agents(self) -> SqlAlchemyAgentRepository:
        return self.repository("agents", SqlAlchemyAgentRepository)

    @property
    def tickets(self) -> SqlAlchemyTicketRepository:
        return self.repository("tickets", SqlAlchemyTicketRepository)

    @property
    def strategies(self) -> SqlAlchemyStrategyRepository:
        return self.repository("strategies", SqlAlchemyStrategyRepository)

    @property
    def decisions(self) -> SqlAlchemyDecisionRepository:
        return self.repository("decisions", SqlAlchemyDecisionRepository)

    @property
    def routing(self) -> SqlAlchemyRoutingLock:
        return self.repository("routing", SqlAlchemyRoutingLock)

    @property
    def templates(self) -> SqlAlchemyNamedRepository:
        return self.repository("templates", template_repository)

    @property
    def rules(self) -> SqlAlchemyRuleRepository:
        return self.repository("rules", SqlAlchemyRuleRepository)

    @property
    def rule_runs(self) -> SqlAlchemyRuleRunRepository:
        return self.repository("rule_runs", SqlAlchemyRuleRunRepository)

    @property
    def rule_jobs(self) -> SqlAlchemyRuleJobRepository:
        return self.repository("rule_jobs", SqlAlchemyRuleJobRepository)
