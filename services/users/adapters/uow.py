"""The users unit of work: one transaction and the repositories that work inside it."""

from __future__ import annotations

from collections.abc import Callable
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

    def _repository(self, name: str, build: Callable[[Any], Any]) -> Any:
        # built on first use and rebuilt if the session was replaced (close() drops it)
        cache = self.__dict__.setdefault("_repositories", {})
        session = self.session
        held = cache.get(name)
        if held is None or held[0] is not session:
            held = cache[name] = (session, build(session))
        return held[1]

    @property
    def users(self) -> SqlAlchemyUserRepository:
        return self._repository("users", SqlAlchemyUserRepository)

    @property
    def departments(self) -> Any:
        return self._repository("departments", department_repository)

    @property
    def organizations(self) -> Any:
        return self._repository("organizations", organization_repository)

    @property
    def sessions(self) -> SqlAlchemySessionRepository:
        """Refresh-token families and password-reset tokens."""
        return self._repository("sessions", SqlAlchemySessionRepository)
