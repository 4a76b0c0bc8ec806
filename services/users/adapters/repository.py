"""Repositories: how the users domain is loaded and stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from helpdesk_common.resources import SqlAlchemyNamedRepository
from helpdesk_contracts.vocabulary import AGENT, SUPERVISOR
from services.users.adapters.orm import departments, organizations, password_resets, refresh_tokens, users
from services.users.domain.errors import DepartmentNotFound, OrganizationNotFound, UserNotFound
from services.users.domain.model import Department, Organization, RefreshToken, User


class SqlAlchemyUserRepository:
    """Users (accounts, profiles, roles) in one SQL database."""

    def __init__(self, session: Session):
        self.session = session

    # users
    def add(self, entity: Any) -> None:
        self.session.add(entity)

    def get_user(self, user_id: str) -> User:
        user = self.session.get(User, user_id)
        if user is None:
            raise UserNotFound()
        return user

    def find_user_by_email(self, email: str) -> User | None:
        return self.session.scalars(select(User).where(users.c.email == email)).first()

    def find_users_by_handles(self, handles: list[str]) -> list[User]:
        """Return the users whose e-mail is one of ``handles`` (with an ``@``) or starts with ``<handle>@``."""
        email = func.lower(users.c.email)
        wanted = [email == h if "@" in h else email.startswith(f"{h}@", autoescape=True) for h in handles]
        if not wanted:
            return []
        return list(self.session.scalars(select(User).where(or_(*wanted)).order_by(users.c.email)))

    def list_users(self, filters: dict[str, Any], *, page: int, limit: int) -> tuple[list[User], int]:
        query = select(User)
        for field in ("role", "status", "availability", "department_id", "organization_id"):
            if filters.get(field):
                query = query.where(getattr(users.c, field) == filters[field])
        if filters.get("q"):
            needle = filters["q"].lower()
            query = query.where(
                or_(func.lower(users.c.name).contains(needle, autoescape=True),
                    users.c.email.contains(needle, autoescape=True))
            )
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.session.scalars(query.order_by(users.c.created_at, users.c.id).offset((page - 1) * limit).limit(limit))
        return list(rows), int(total or 0)

    def available_agents(self, *, department_id: str | None, skill: str | None) -> list[User]:
        query = select(User).where(
            users.c.role.in_((AGENT, SUPERVISOR)), users.c.status == "active", users.c.availability == "online"
        )
        if department_id:
            query = query.where(users.c.department_id == department_id)
        agents = list(self.session.scalars(query.order_by(users.c.name)))
        if skill:
            agents = [a for a in agents if skill in (a.skills or [])]
        return agents

    def count_members(self, *, department_id: str | None = None, organization_id: str | None = None) -> int:
        query = select(func.count()).select_from(users)
        if department_id:
            query = query.where(users.c.department_id == department_id)
        if organization_id:
            query = query.where(users.c.organization_id == organization_id)
        return int(self.session.scalar(query) or 0)

    def flush(self) -> None:
        self.session.flush()

    def revocations_since(self, moment: datetime) -> list[tuple[str, datetime]]:
        """Return ``(user id, tokens_valid_after)`` of the users whose tokens were revoked at or after ``moment``."""
        rows = self.session.execute(
            select(users.c.id, users.c.tokens_valid_after)
            .where(users.c.tokens_valid_after >= moment)
            .order_by(users.c.tokens_valid_after)
        )
        return [(row.id, row.tokens_valid_after) for row in rows]


class SqlAlchemySessionRepository:
    """Refresh-token families (sessions) and password-reset tokens."""

    def __init__(self, session: Session):
        self.session = session

    def add(self, token: RefreshToken) -> None:
        self.session.add(token)

    # refresh-token families
    def find_refresh_token(self, jti: str) -> RefreshToken | None:
        return self.session.get(RefreshToken, jti, with_for_update=True)

    def revoke_family(self, family_id: str, *, now: datetime) -> None:
        self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke_all_sessions(self, user_id: str, *, now: datetime) -> None:
        self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    # password resets
    def add_password_reset(self, *, token_hash: str, user_id: str, now: datetime, expires_at: datetime) -> None:
        self.session.execute(
            insert(password_resets).values(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at)
        )

    def expire_password_resets(self, user_id: str, *, now: datetime) -> None:
        """Spend every outstanding reset token of a user (their password was just set)."""
        self.session.execute(
            update(password_resets)
            .where(password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
            .values(used_at=now)
        )

    def spend_password_reset(self, token_hash: str, *, now: datetime) -> str | None:
        """Mark a valid reset token used and return its user id, or None if unusable."""
        row = self.session.execute(
            select(password_resets.c.user_id, password_resets.c.expires_at, password_resets.c.used_at)
            .where(password_resets.c.token_hash == token_hash)
            .with_for_update()
        ).first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        self.session.execute(
            update(password_resets).where(password_resets.c.token_hash == token_hash).values(used_at=now)
        )
        return row.user_id


def department_repository(session: Session) -> SqlAlchemyNamedRepository:
    """Return the departments, a named resource (``helpdesk_common.resources``)."""
    return SqlAlchemyNamedRepository(session, entity=Department, table=departments, not_found=DepartmentNotFound)


def organization_repository(session: Session) -> SqlAlchemyNamedRepository:
    """Return the organizations, a named resource (``helpdesk_common.resources``)."""
    return SqlAlchemyNamedRepository(session, entity=Organization, table=organizations, not_found=OrganizationNotFound)
