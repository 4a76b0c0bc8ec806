"""What the users handlers share: the unit of work they are given, the password hasher, paging and the
password policy."""

from __future__ import annotations

from typing import Any, Protocol

from helpdesk_common.payloads import page_args
from helpdesk_contracts import limits
from services.users.domain import rules
from services.users.domain.errors import (
    WeakPassword,
)

UnitOfWork = Any  # services.users.adapters.uow.UsersUnitOfWork, or the tests' fake


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


MAX_PAGE_SIZE = limits.PAGE_LIMIT_MAX


def page_bounds(page: int, limit: int) -> tuple[int, int]:
    return page_args(page, limit, max_limit=MAX_PAGE_SIZE)


def check_password(password: str, email: str) -> None:
    problems = rules.password_problems(password, email=email)
    if problems:
        raise WeakPassword(problems[0], {"password": problems})
