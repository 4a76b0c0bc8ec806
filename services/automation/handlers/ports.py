"""What the automation handlers need from the world: the unit of work, its repositories, and the other
services they ask (the tickets service, which the router acts through, and the users directory).

``adapters.uow.AutomationUnitOfWork`` implements the unit of work on SQLAlchemy, ``dependencies`` the
services on Nameko RPC; ``tests/unit/automation/fakes.py`` implements them in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from helpdesk_common.clock import Clock
from services.automation.domain.model import Agent, TrackedTicket


class AgentRepository(Protocol):
    def get(self, agent_id: str) -> Agent | None: ...
    def apply_user(self, user: dict[str, Any], *, as_of: datetime, now: datetime) -> bool: ...
    def apply_availability(self, agent_id: str, availability: str, *, as_of: datetime, now: datetime) -> bool: ...
    def in_scope(self, department_id: str | None) -> list[Agent]: ...
    def able_departments(self) -> tuple[set[str | None], bool]: ...
    def mark_assigned(self, agent_id: str, *, now: datetime) -> None: ...
    def versions(self) -> dict[str, int]: ...


class TicketRepository(Protocol):
    def get(self, ticket_id: str) -> TrackedTicket | None: ...
    def apply(self, ticket: TrackedTicket, *, now: datetime) -> TrackedTicket | None | bool: ...
    def loads(self, agent_ids: list[str] | None = None) -> dict[str, int]: ...
    def load_by_status(self, agent_id: str) -> dict[str, int]: ...
    def backlog(self, *, department_ids: list[str | None] | None = None, offset: int = 0,
                limit: int | None = None) -> tuple[list[TrackedTicket], int]: ...
    def mark_queued(self, ticket_id: str, *, now: datetime) -> bool: ...
    def mark_gone(self, ticket_id: str, *, now: datetime) -> bool: ...
    def working_versions(self) -> dict[str, int]: ...


class StrategyRepository(Protocol):
    def of(self, department_id: str | None) -> str: ...
    def set(self, department_id: str, strategy: str, *, actor_id: str | None, now: datetime) -> str | None: ...
    def all(self) -> list[dict[str, Any]]: ...


class DecisionRepository(Protocol):
    def add(self, decision: dict[str, Any]) -> dict[str, Any]: ...
    def page(self, *, ticket_ids: list[str] | None, department_ids: list[str | None] | None, offset: int,
             limit: int) -> tuple[list[dict[str, Any]], int]: ...


class RoutingLock(Protocol):
    def take(self, *, now: datetime, scope: str = "global") -> None: ...


class AutomationUnitOfWork(Protocol):
    clock: Clock
    agents: AgentRepository
    tickets: TicketRepository
    strategies: StrategyRepository
    decisions: DecisionRepository
    routing: RoutingLock

    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def __enter__(self) -> AutomationUnitOfWork: ...
    def __exit__(self, *exc: Any) -> None: ...


OpenUnitOfWork = Callable[[], AutomationUnitOfWork]


class TicketDesk(Protocol):
    """The tickets service, as the router uses it (as the ``system`` actor)."""

    def assign(self, ticket_id: str, assignee_id: str, *, expected_version: int, via: str) -> dict[str, Any]:
        """Assign; answer the ticket. TicketChanged when its version moved on, AssigneeRefused, TicketNotFound."""
    def get(self, ticket_id: str) -> dict[str, Any] | None:
        """The ticket as it is now, None when it is gone."""
    def working(self) -> Iterator[list[dict[str, Any]]]:
        """Pages of every ticket in a working state."""


class Directory(Protocol):
    """The users service: people and departments."""

    def get_user(self, user_id: str) -> dict[str, Any] | None: ...
    def department_exists(self, department_id: str) -> bool: ...
    def staff(self) -> Iterator[list[dict[str, Any]]]:
        """Pages of every member of staff."""
