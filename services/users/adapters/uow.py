"""The users unit of work: one transaction and the repositories that work inside it."""

from __future__ import annotations

from typing import Any

from helpdesk_common.uow import UnitOfWork
from services.users.adapters.repository import (
    SqlAlchemySessionRepository,
    SqlAlchemyUserRepository,
    department_repository,
    organization_repository,
)


class UsersUnitOfWork(UnitOfWork):
    """``uow.users``, ``uow.departments``, ``uow.organizations`` and ``uow.sessions`` on this transaction."""

    @property
    def users(self) -> SqlAlchemyUserRepository:
        return self.repository("users", SqlAlchemyUserRepository)

    @property
    def departments(self) -> Any:
        return self.repository("departments", department_repository)

    @property
    def organizations(self) -> Any:
        return self.repository("organizations", organization_repository)

    @property
    def sessions(self) -> SqlAlchemySessionRepository:
        """Refresh-token families and password-reset tokens."""
        return self.repository("sessions", SqlAlchemySessionRepository)
