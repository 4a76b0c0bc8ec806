"""Accounts: registration, profiles, roles, availability, deactivation."""

from __future__ import annotations

import uuid
from typing import Any

from helpdesk_common.resources import unique_commit
from services.users import schemas
from services.users.domain import rules
from services.users.domain.errors import (
    EmailAlreadyRegistered,
    InvalidCredentials,
    ValidationFailed,
)
from services.users.domain.model import User
from services.users.handlers._common import PasswordHasher, UnitOfWork, check_password, page_bounds


def _check_references(uow: UnitOfWork, payload: dict[str, Any]) -> None:
    """Refuse a department or organization id that does not exist: a 422 naming the field, not a 404."""
    if payload.get("department_id") and uow.departments.find(payload["department_id"]) is None:
        raise ValidationFailed("Unknown department.", {"department_id": ["No such department."]})
    if payload.get("organization_id") and uow.organizations.find(payload["organization_id"]) is None:
        raise ValidationFailed("Unknown organization.", {"organization_id": ["No such organization."]})


def register_customer(data: dict[str, Any], *, uow: UnitOfWork, passwords: PasswordHasher) -> dict[str, Any]:
    """Create a customer account from a self-service registration."""
    payload = schemas.load(schemas.RegisterCustomer, data)
    payload["role"] = "customer"
    return _create_user(payload, uow=uow, passwords=passwords)


def create_user(data: dict[str, Any], *, uow: UnitOfWork, passwords: PasswordHasher,
                enforce_password_policy: bool = True) -> dict[str, Any]:
    """Create a user of any role (admins; the demo seed skips the password policy)."""
    payload = schemas.load(schemas.CreateUser, data)
    return _create_user(payload, uow=uow, passwords=passwords, enforce_password_policy=enforce_password_policy)


def _create_user(payload: dict[str, Any], *, uow: UnitOfWork, passwords: PasswordHasher,
                 enforce_password_policy: bool = True) -> dict[str, Any]:
    repo = uow.users
    email = rules.normalize_email(payload["email"])
    if enforce_password_policy:
        check_password(payload["password"], email)
    if repo.find_user_by_email(email) is not None:
        raise EmailAlreadyRegistered()
    _check_references(uow, payload)
    user = User(
        id=str(uuid.uuid4()),
        email=email,
        name=payload["name"],
        password_hash=passwords.hash(payload["password"]),
        role=payload.get("role", "customer"),
        now=uow.clock.now(),
        department_id=payload.get("department_id"),
        organization_id=payload.get("organization_id"),
        skills=payload.get("skills"),
        phone=payload.get("phone"),
        status=payload.get("status", "active"),
        max_concurrent_tickets=payload.get("max_concurrent_tickets", 10),
        max_concurrent_chats=payload.get("max_concurrent_chats", 3),
    )
    view = schemas.user_view(user)
    with unique_commit(uow, EmailAlreadyRegistered()):
        repo.add(user)
        repo.flush()
        uow.emit("user.created", {"user": view})
    return view


def authenticate(email: str, password: str, *, uow: UnitOfWork, passwords: PasswordHasher) -> dict[str, Any]:
    """Check credentials; unknown e-mail, wrong password and inactive account answer alike."""
    repo = uow.users
    user = repo.find_user_by_email(rules.normalize_email(email or ""))
    ok = passwords.verify(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        raise InvalidCredentials()
    user.record_login(now=uow.clock.now())
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    uow.commit()
    return schemas.user_view(user)


def get_user(user_id: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return one user."""
    return schemas.user_view(uow.users.get_user(user_id))


MAX_HANDLES = 20


def find_users(handles: list[str], *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return the users an e-mail (``ana@example.com``) or a handle (``ana``, the e-mail's local part) names.

    For @mentions: every match is answered (a handle may fit several people); the caller decides.
    """
    if (not isinstance(handles, list) or len(handles) > MAX_HANDLES
            or not all(isinstance(h, str) and 0 < len(h.strip()) <= 254 for h in handles)):
        raise ValidationFailed(f"handles must be a list of at most {MAX_HANDLES} non-empty strings.",
                               {"handles": [f"At most {MAX_HANDLES} strings of 1 to 254 characters."]})
    wanted = sorted({h.strip().lower() for h in handles})
    return [schemas.user_view(u) for u in uow.users.find_users_by_handles(wanted)]


def list_users(filters: dict[str, Any] | None, page: int, limit: int, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return a page of users matching the filters."""
    page, limit = page_bounds(page, limit)
    loaded = schemas.load(schemas.ListUsersFilters, filters or {})
    users, total = uow.users.list_users(loaded, page=page, limit=limit)
    return {"items": [schemas.user_view(u) for u in users], "total": total}


def update_user(user_id: str, changes: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Change a user's editable fields (admins)."""
    payload = schemas.load(schemas.UpdateUser, changes)
    return _update(user_id, payload, uow=uow)


def update_profile(user_id: str, changes: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Change one's own name or phone."""
    payload = schemas.load(schemas.UpdateProfile, changes)
    return _update(user_id, payload, uow=uow)


def _update(user_id: str, payload: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    repo = uow.users
    user = repo.get_user(user_id)
    if "email" in payload:
        other = repo.find_user_by_email(rules.normalize_email(payload["email"]))
        if other is not None and other.id != user.id:
            raise EmailAlreadyRegistered()
    _check_references(uow, payload)
    was_active = user.is_active
    now = uow.clock.now()
    changes = user.update(payload, now=now)
    deactivated = was_active and not user.is_active
    if deactivated or rules.changes_revoke_tokens(changes):
        # stale claims; a department or organization change keeps the sessions: the next refresh brings fresh ones
        user.revoke_tokens(now=now)
    view = schemas.user_view(user)
    with unique_commit(uow, EmailAlreadyRegistered()):
        if changes:
            uow.emit("user.updated", {"user": view, "changes": changes})
            if deactivated:
                uow.sessions.revoke_all_sessions(user.id, now=now)
                uow.emit("user.deactivated", {"user": view})
    return view


def change_role(user_id: str, role: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Give a user another role."""
    repo = uow.users
    user = repo.get_user(user_id)
    now = uow.clock.now()
    changes = user.change_role(role, now=now)
    if changes:  # what the old role allowed ends now: its access tokens and its sessions
        user.revoke_tokens(now=now)
        uow.sessions.revoke_all_sessions(user.id, now=now)
    view = schemas.user_view(user)
    if changes:
        uow.emit("user.updated", {"user": view, "changes": changes})
    uow.commit()
    return view


def set_availability(user_id: str, availability: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Set an agent online, away or offline."""
    user = uow.users.get_user(user_id)
    previous = user.set_availability(availability, now=uow.clock.now())
    view = schemas.user_view(user)
    if previous is not None:
        uow.emit(
            "agent.availability_changed",
            {
                "user_id": user.id,
                "availability": user.availability,
                "previous": previous,
                "department_id": user.department_id,
                "skills": list(user.skills or []),
            },
        )
    uow.commit()
    return view


def deactivate_user(user_id: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Deactivate an account and end all its sessions."""
    repo = uow.users
    user = repo.get_user(user_id)
    now = uow.clock.now()
    changes = user.deactivate(now=now)
    uow.sessions.revoke_all_sessions(user.id, now=now)
    if changes:
        user.revoke_tokens(now=now)
    view = schemas.user_view(user)
    if changes:
        uow.emit("user.deactivated", {"user": view})
    uow.commit()
    return view


def list_available_agents(department_id: str | None, skill: str | None, *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return active, online agents (optionally of a department or with a skill)."""
    return [schemas.user_view(a) for a in uow.users.available_agents(department_id=department_id, skill=skill)]
