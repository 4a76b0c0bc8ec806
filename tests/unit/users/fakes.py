"""A fake users unit of work: in-memory repositories, recorded events, no database.

For handler tests of domain rules; what needs SQL (unique indexes, locking, migrations) stays in the
database-backed tests.
"""

from __future__ import annotations

from typing import Any

from helpdesk_contracts.names import fold_name
from services.users.domain.errors import DepartmentNotFound, OrganizationNotFound, UserNotFound


class FakeNamedRepository:
    """Named resources in a dict, unique by folded name as the real table is."""

    def __init__(self, *, not_found: type[Exception]):
        self.rows: dict[str, Any] = {}
        self.not_found = not_found

    def get(self, resource_id: str) -> Any:
        found = self.find(resource_id)
        if found is None:
            raise self.not_found()
        return found

    def find(self, resource_id: str) -> Any | None:
        return self.rows.get(resource_id)

    def find_by_name(self, name: str) -> Any | None:
        return next((r for r in self.rows.values() if r.name_key == fold_name(name)), None)

    def list(self, *, page: int, limit: int) -> tuple[list[Any], int]:
        ordered = sorted(self.rows.values(), key=lambda r: (r.name, r.id))
        return ordered[(page - 1) * limit: page * limit], len(ordered)

    def add(self, entity: Any) -> None:
        self.rows[entity.id] = entity

    def flush(self) -> None:
        pass

    def delete(self, entity: Any) -> None:
        del self.rows[entity.id]


class FakeUserRepository:
    """Users in a dict (what the department and organization rules ask of them)."""

    def __init__(self):
        self.rows: dict[str, Any] = {}

    def add(self, user: Any) -> None:
        self.rows[user.id] = user

    def flush(self) -> None:
        pass

    def get_user(self, user_id: str) -> Any:
        if user_id not in self.rows:
            raise UserNotFound()
        return self.rows[user_id]

    def find_user_by_email(self, email: str) -> Any | None:
        return next((u for u in self.rows.values() if u.email == email), None)

    def count_members(self, *, department_id: str | None = None, organization_id: str | None = None) -> int:
        return sum(1 for u in self.rows.values()
                   if (department_id is None or u.department_id == department_id)
                   and (organization_id is None or u.organization_id == organization_id))


class FakeUnitOfWork:
    """The shape of ``UsersUnitOfWork``: repositories, ``emit``, ``commit``, ``rollback``, ``clock``."""

    def __init__(self, *, clock):
        self.clock = clock
        self.users = FakeUserRepository()
        self.departments = FakeNamedRepository(not_found=DepartmentNotFound)
        self.organizations = FakeNamedRepository(not_found=OrganizationNotFound)
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []  # committed
        self.commits = 0

    def emit(self, type: str, data: dict[str, Any], *, version: int | None = None) -> None:
        self.pending.append((type, data))

    def commit(self) -> None:
        self.events.extend(self.pending)
        self.pending = []
        self.commits += 1

    def rollback(self) -> None:
        self.pending = []
