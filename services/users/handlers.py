"""Commands of the users service: one function each, given a unit of work and the password hasher.

Each validates, changes state, records its events and commits; nothing here knows about Nameko.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from helpdesk_common.payloads import page_args
from helpdesk_common.uow import UnitOfWork
from helpdesk_contracts import limits
from services.users import schemas
from services.users.adapters.passwords import Argon2PasswordHasher
from services.users.adapters.repository import SqlAlchemyUserRepository
from services.users.domain import rules
from services.users.domain.errors import (
    Conflict,
    DepartmentInUse,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    OrganizationInUse,
    RefreshTokenReused,
    ValidationFailed,
    WeakPassword,
)
from services.users.domain.model import Department, Organization, RefreshToken, User

RESET_TOKEN_LIFETIME = timedelta(hours=1)
MAX_PAGE_SIZE = limits.PAGE_LIMIT_MAX


def _repo(uow: UnitOfWork) -> SqlAlchemyUserRepository:
    return SqlAlchemyUserRepository(uow.session)


def _page(page: int, limit: int) -> tuple[int, int]:
    return page_args(page, limit, max_limit=MAX_PAGE_SIZE)


def _check_password(password: str, email: str) -> None:
    problems = rules.password_problems(password, email=email)
    if problems:
        raise WeakPassword(problems[0], {"password": problems})


@contextmanager
def _unique(uow: UnitOfWork, error: Exception) -> Iterator[None]:
    """Write and commit; a unique constraint lost to a concurrent writer becomes ``error``."""
    try:
        yield
        uow.commit()
    except IntegrityError:
        uow.rollback()
        raise error from None


def _check_references(repo: SqlAlchemyUserRepository, payload: dict[str, Any]) -> None:
    """Refuse a department or organization id that does not exist: a 422 naming the field, not a 404."""
    if payload.get("department_id") and repo.find_department(payload["department_id"]) is None:
        raise ValidationFailed("Unknown department.", {"department_id": ["No such department."]})
    if payload.get("organization_id") and repo.find_organization(payload["organization_id"]) is None:
        raise ValidationFailed("Unknown organization.", {"organization_id": ["No such organization."]})


# users ------------------------------------------------------------------------------------------

def register_customer(data: dict[str, Any], *, uow: UnitOfWork, passwords: Argon2PasswordHasher) -> dict[str, Any]:
    """Create a customer account from a self-service registration."""
    payload = schemas.load(schemas.RegisterCustomer, data)
    payload["role"] = "customer"
    return _create_user(payload, uow=uow, passwords=passwords)


def create_user(data: dict[str, Any], *, uow: UnitOfWork, passwords: Argon2PasswordHasher,
                enforce_password_policy: bool = True) -> dict[str, Any]:
    """Create a user of any role (admins; the demo seed skips the password policy)."""
    payload = schemas.load(schemas.CreateUser, data)
    return _create_user(payload, uow=uow, passwords=passwords, enforce_password_policy=enforce_password_policy)


def _create_user(payload: dict[str, Any], *, uow: UnitOfWork, passwords: Argon2PasswordHasher,
                 enforce_password_policy: bool = True) -> dict[str, Any]:
    repo = _repo(uow)
    email = rules.normalize_email(payload["email"])
    if enforce_password_policy:
        _check_password(payload["password"], email)
    if repo.find_user_by_email(email) is not None:
        raise EmailAlreadyRegistered()
    _check_references(repo, payload)
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
    with _unique(uow, EmailAlreadyRegistered()):
        repo.add(user)
        uow.session.flush()
        uow.emit("user.created", {"user": view})
    return view


def authenticate(email: str, password: str, *, uow: UnitOfWork, passwords: Argon2PasswordHasher) -> dict[str, Any]:
    """Check credentials; unknown e-mail, wrong password and inactive account answer alike."""
    repo = _repo(uow)
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
    return schemas.user_view(_repo(uow).get_user(user_id))


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
    return [schemas.user_view(u) for u in _repo(uow).find_users_by_handles(wanted)]


def list_users(filters: dict[str, Any] | None, page: int, limit: int, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return a page of users matching the filters."""
    page, limit = _page(page, limit)
    loaded = schemas.load(schemas.ListUsersFilters, filters or {})
    users, total = _repo(uow).list_users(loaded, page=page, limit=limit)
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
    repo = _repo(uow)
    user = repo.get_user(user_id)
    if "email" in payload:
        other = repo.find_user_by_email(rules.normalize_email(payload["email"]))
        if other is not None and other.id != user.id:
            raise EmailAlreadyRegistered()
    _check_references(repo, payload)
    was_active = user.is_active
    now = uow.clock.now()
    changes = user.update(payload, now=now)
    deactivated = was_active and not user.is_active
    if deactivated or rules.changes_revoke_tokens(changes):
        # stale claims; a department or organization change keeps the sessions: the next refresh brings fresh ones
        user.revoke_tokens(now=now)
    view = schemas.user_view(user)
    with _unique(uow, EmailAlreadyRegistered()):
        if changes:
            uow.emit("user.updated", {"user": view, "changes": changes})
            if deactivated:
                repo.revoke_all_sessions(user.id, now=now)
                uow.emit("user.deactivated", {"user": view})
    return view


def change_role(user_id: str, role: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Give a user another role."""
    repo = _repo(uow)
    user = repo.get_user(user_id)
    now = uow.clock.now()
    changes = user.change_role(role, now=now)
    if changes:  # what the old role allowed ends now: its access tokens and its sessions
        user.revoke_tokens(now=now)
        repo.revoke_all_sessions(user.id, now=now)
    view = schemas.user_view(user)
    if changes:
        uow.emit("user.updated", {"user": view, "changes": changes})
    uow.commit()
    return view


def set_availability(user_id: str, availability: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Set an agent online, away or offline."""
    user = _repo(uow).get_user(user_id)
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
    repo = _repo(uow)
    user = repo.get_user(user_id)
    now = uow.clock.now()
    changes = user.deactivate(now=now)
    repo.revoke_all_sessions(user.id, now=now)
    if changes:
        user.revoke_tokens(now=now)
    view = schemas.user_view(user)
    if changes:
        uow.emit("user.deactivated", {"user": view})
    uow.commit()
    return view


def list_available_agents(department_id: str | None, skill: str | None, *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return active, online agents (optionally of a department or with a skill)."""
    return [schemas.user_view(a) for a in _repo(uow).available_agents(department_id=department_id, skill=skill)]


# passwords and sessions -------------------------------------------------------------------------

def change_password(user_id: str, current_password: str, new_password: str, *, uow: UnitOfWork,
                    passwords: Argon2PasswordHasher) -> None:
    """Change one's password after proving the current one; every session ends."""
    repo = _repo(uow)
    user = repo.get_user(user_id)
    if not passwords.verify(user.password_hash, current_password or ""):
        raise InvalidCredentials("The current password is wrong.", {"current_password": ["Wrong password."]})
    _check_password(new_password or "", user.email)
    _set_password(user, new_password, uow=uow, passwords=passwords)
    uow.commit()


def _set_password(user: User, password: str, *, uow: UnitOfWork, passwords: Argon2PasswordHasher) -> None:
    now = uow.clock.now()
    user.password_hash = passwords.hash(password)
    user.updated_at = now
    user.revoke_tokens(now=now)
    _repo(uow).revoke_all_sessions(user.id, now=now)
    _repo(uow).expire_password_resets(user.id, now=now)
    uow.emit("user.password_changed",
             {"user_id": user.id, "email": user.email, "tokens_valid_after": schemas.iso(user.tokens_valid_after)})


def start_session(user_id: str, *, uow: UnitOfWork, family_max_age: timedelta | None = None) -> dict[str, Any]:
    """Open a new refresh-token family for a user who just signed in."""
    user = _repo(uow).get_user(user_id)
    if not user.is_active:
        raise InvalidCredentials()
    token = RefreshToken(jti=uuid.uuid4().hex, family_id=uuid.uuid4().hex, user_id=user.id, now=uow.clock.now(),
                         family_max_age=family_max_age)
    uow.session.add(token)
    uow.commit()
    return {"jti": token.jti, "family_id": token.family_id, "expires_at": token.expires_at.isoformat()}


def rotate_refresh_token(jti: str, *, uow: UnitOfWork, family_max_age: timedelta | None = None) -> dict[str, Any]:
    """Spend a refresh token and issue the next of its family; reuse, or a family past ``family_max_age``, revokes it."""
    repo = _repo(uow)
    now = uow.clock.now()
    token = repo.find_refresh_token(jti or "")
    if token is None:
        raise InvalidRefreshToken()
    try:
        token.spend(now=now)
    except RefreshTokenReused:
        repo.revoke_family(token.family_id, now=now)
        uow.commit()
        raise
    user = repo.get_user(token.user_id)
    if not user.is_active:
        repo.revoke_family(token.family_id, now=now)
        uow.commit()
        raise InvalidRefreshToken()
    try:
        successor = token.successor(jti=uuid.uuid4().hex, now=now, family_max_age=family_max_age)
    except InvalidRefreshToken:
        repo.revoke_family(token.family_id, now=now)
        uow.commit()
        raise
    uow.session.add(successor)
    uow.commit()
    return {
        "user": schemas.user_view(user),
        "jti": successor.jti,
        "family_id": successor.family_id,
        "expires_at": successor.expires_at.isoformat(),
    }


def list_revocations(since: str, *, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Return ``{user_id, tokens_valid_after}`` of every user whose access tokens stopped being honoured since ``since``."""
    moment = schemas.load(schemas.ListRevocations, {"since": since})["since"]
    return [
        {"user_id": user_id, "tokens_valid_after": schemas.iso(valid_after)}
        for user_id, valid_after in _repo(uow).revocations_since(moment)
    ]


def revoke_session(jti: str, *, uow: UnitOfWork) -> None:
    """End the session (refresh-token family) a token belongs to."""
    repo = _repo(uow)
    token = repo.find_refresh_token(jti or "")
    if token is not None:
        repo.revoke_family(token.family_id, now=uow.clock.now())
        uow.commit()


def request_password_reset(email: str, *, uow: UnitOfWork) -> None:
    """Issue a single-use reset token and hand it to the notifications service; silent for unknown e-mails."""
    repo = _repo(uow)
    user = repo.find_user_by_email(rules.normalize_email(email or ""))
    if user is None or not user.is_active:
        return
    token = secrets.token_urlsafe(32)
    now = uow.clock.now()
    expires_at = now + RESET_TOKEN_LIFETIME
    repo.add_password_reset(token_hash=_digest(token), user_id=user.id, now=now, expires_at=expires_at)
    uow.emit(
        "user.password_reset_requested",
        {"user_id": user.id, "email": user.email, "name": user.name, "reset_token": token,
         "expires_at": expires_at.isoformat()},
    )
    uow.commit()


def reset_password(token: str, new_password: str, *, uow: UnitOfWork, passwords: Argon2PasswordHasher) -> None:
    """Set a new password with a reset token (once, before it expires); every session ends."""
    repo = _repo(uow)
    user_id = repo.spend_password_reset(_digest(token or ""), now=uow.clock.now())
    if user_id is None:
        raise InvalidResetToken()
    user = repo.get_user(user_id)
    _check_password(new_password or "", user.email)
    _set_password(user, new_password, uow=uow, passwords=passwords)
    uow.commit()


def _name_taken(kind: str) -> Conflict:
    article = "An" if kind[0] in "aeiou" else "A"
    return Conflict(f"{article} {kind} with this name already exists.", {"name": ["Already taken."]})


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# departments ------------------------------------------------------------------------------------

def create_department(data: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Create a department."""
    payload = schemas.load(schemas.DepartmentInput, data)
    repo = _repo(uow)
    if repo.find_department_by_name(payload["name"]) is not None:
        raise _name_taken("department")
    department = Department(id=str(uuid.uuid4()), now=uow.clock.now(), **payload)
    view = schemas.department_view(department)
    with _unique(uow, _name_taken("department")):
        repo.add(department)
        uow.session.flush()
        uow.emit("department.created", {"department": view})
    return schemas.department_view(department, member_count=0)


def get_department(department_id: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return one department with its member count."""
    repo = _repo(uow)
    department = repo.get_department(department_id)
    return schemas.department_view(department, member_count=repo.count_members(department_id=department.id))


def list_departments(page: int, limit: int, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return a page of departments."""
    page, limit = _page(page, limit)
    repo = _repo(uow)
    items, total = repo.list_departments(page=page, limit=limit)
    return {
        "items": [schemas.department_view(d, member_count=repo.count_members(department_id=d.id)) for d in items],
        "total": total,
    }


def update_department(department_id: str, changes: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Change a department."""
    payload = schemas.load(schemas.DepartmentInput, changes, partial=True)
    repo = _repo(uow)
    department = repo.get_department(department_id)
    if "name" in payload:
        other = repo.find_department_by_name(payload["name"])
        if other is not None and other.id != department.id:
            raise _name_taken("department")
    applied = department.update(payload, now=uow.clock.now())
    view = schemas.department_view(department)
    with _unique(uow, _name_taken("department")):
        if applied:
            uow.emit("department.updated", {"department": view, "changes": applied})
    return schemas.department_view(department, member_count=repo.count_members(department_id=department.id))


def delete_department(department_id: str, *, uow: UnitOfWork) -> None:
    """Delete an empty department."""
    repo = _repo(uow)
    department = repo.get_department(department_id)
    if repo.count_members(department_id=department.id):
        raise DepartmentInUse("The department still has members; move them first.")
    view = schemas.department_view(department)
    repo.delete(department)
    uow.emit("department.deleted", {"department": view})
    uow.commit()


# organizations ----------------------------------------------------------------------------------

def create_organization(data: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Create a customer organization."""
    payload = schemas.load(schemas.OrganizationInput, data)
    repo = _repo(uow)
    if repo.find_organization_by_name(payload["name"]) is not None:
        raise _name_taken("organization")
    organization = Organization(id=str(uuid.uuid4()), now=uow.clock.now(), **payload)
    view = schemas.organization_view(organization)
    with _unique(uow, _name_taken("organization")):
        repo.add(organization)
        uow.session.flush()
        uow.emit("organization.created", {"organization": view})
    return schemas.organization_view(organization, member_count=0)


def get_organization(organization_id: str, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return one organization with its member count."""
    repo = _repo(uow)
    organization = repo.get_organization(organization_id)
    return schemas.organization_view(organization, member_count=repo.count_members(organization_id=organization.id))


def list_organizations(page: int, limit: int, *, uow: UnitOfWork) -> dict[str, Any]:
    """Return a page of organizations."""
    page, limit = _page(page, limit)
    repo = _repo(uow)
    items, total = repo.list_organizations(page=page, limit=limit)
    return {
        "items": [schemas.organization_view(o, member_count=repo.count_members(organization_id=o.id)) for o in items],
        "total": total,
    }


def update_organization(organization_id: str, changes: dict[str, Any], *, uow: UnitOfWork) -> dict[str, Any]:
    """Change an organization."""
    payload = schemas.load(schemas.OrganizationInput, changes, partial=True)
    repo = _repo(uow)
    organization = repo.get_organization(organization_id)
    if "name" in payload:
        other = repo.find_organization_by_name(payload["name"])
        if other is not None and other.id != organization.id:
            raise _name_taken("organization")
    applied = organization.update(payload, now=uow.clock.now())
    view = schemas.organization_view(organization)
    with _unique(uow, _name_taken("organization")):
        if applied:
            uow.emit("organization.updated", {"organization": view, "changes": applied})
    return schemas.organization_view(organization, member_count=repo.count_members(organization_id=organization.id))


def delete_organization(organization_id: str, *, uow: UnitOfWork) -> None:
    """Delete an organization without members."""
    repo = _repo(uow)
    organization = repo.get_organization(organization_id)
    if repo.count_members(organization_id=organization.id):
        raise OrganizationInUse("The organization still has members; move them first.")
    view = schemas.organization_view(organization)
    repo.delete(organization)
    uow.emit("organization.deleted", {"organization": view})
    uow.commit()
