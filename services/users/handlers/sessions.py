"""Passwords and sessions: sign-in tokens (refresh-token families), password changes and resets."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from services.users import schemas
from services.users.domain import rules
from services.users.domain.errors import (
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    RefreshTokenReused,
)
from services.users.domain.model import RefreshToken, User
from services.users.handlers._common import PasswordHasher, UnitOfWork, check_password

RESET_TOKEN_LIFETIME = timedelta(hours=1)


def change_password(user_id: str, current_password: str, new_password: str, *, uow: UnitOfWork,
                    passwords: PasswordHasher) -> None:
    """Change one's password after proving the current one; every session ends."""
    repo = uow.users
    user = repo.get_user(user_id)
    if not passwords.verify(user.password_hash, current_password or ""):
        raise InvalidCredentials("The current password is wrong.", {"current_password": ["Wrong password."]})
    check_password(new_password or "", user.email)
    _set_password(user, new_password, uow=uow, passwords=passwords)
    uow.commit()


def _set_password(user: User, password: str, *, uow: UnitOfWork, passwords: PasswordHasher) -> None:
    now = uow.clock.now()
    user.password_hash = passwords.hash(password)
    user.updated_at = now
    user.revoke_tokens(now=now)
    uow.sessions.revoke_all_sessions(user.id, now=now)
    uow.sessions.expire_password_resets(user.id, now=now)
    uow.emit("user.password_changed",
             {"user_id": user.id, "email": user.email, "tokens_valid_after": schemas.iso(user.tokens_valid_after)})


def start_session(user_id: str, *, uow: UnitOfWork, family_max_age: timedelta | None = None) -> dict[str, Any]:
    """Open a new refresh-token family for a user who just signed in."""
    user = uow.users.get_user(user_id)
    if not user.is_active:
        raise InvalidCredentials()
    token = RefreshToken(jti=uuid.uuid4().hex, family_id=uuid.uuid4().hex, user_id=user.id, now=uow.clock.now(),
                         family_max_age=family_max_age)
    uow.sessions.add(token)
    uow.commit()
    return {"jti": token.jti, "family_id": token.family_id, "expires_at": token.expires_at.isoformat()}


def rotate_refresh_token(jti: str, *, uow: UnitOfWork, family_max_age: timedelta | None = None) -> dict[str, Any]:
    """Spend a refresh token and issue the next of its family; reuse, or a family past ``family_max_age``, revokes it."""
    repo = uow.users
    now = uow.clock.now()
    token = uow.sessions.find_refresh_token(jti or "")
    if token is None:
        raise InvalidRefreshToken()
    try:
        token.spend(now=now)
    except RefreshTokenReused:
        uow.sessions.revoke_family(token.family_id, now=now)
        uow.commit()
        raise
    user = repo.get_user(token.user_id)
    if not user.is_active:
        uow.sessions.revoke_family(token.family_id, now=now)
        uow.commit()
        raise InvalidRefreshToken()
    try:
        successor = token.successor(jti=uuid.uuid4().hex, now=now, family_max_age=family_max_age)
    except InvalidRefreshToken:
        uow.sessions.revoke_family(token.family_id, now=now)
        uow.commit()
        raise
    uow.sessions.add(successor)
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
        for user_id, valid_after in uow.users.revocations_since(moment)
    ]


def revoke_session(jti: str, *, uow: UnitOfWork) -> None:
    """End the session (refresh-token family) a token belongs to."""
    token = uow.sessions.find_refresh_token(jti or "")
    if token is not None:
        uow.sessions.revoke_family(token.family_id, now=uow.clock.now())
        uow.commit()


def request_password_reset(email: str, *, uow: UnitOfWork) -> None:
    """Issue a single-use reset token and hand it to the notifications service; silent for unknown e-mails."""
    repo = uow.users
    user = repo.find_user_by_email(rules.normalize_email(email or ""))
    if user is None or not user.is_active:
        return
    token = secrets.token_urlsafe(32)
    now = uow.clock.now()
    expires_at = now + RESET_TOKEN_LIFETIME
    uow.sessions.add_password_reset(token_hash=_digest(token), user_id=user.id, now=now, expires_at=expires_at)
    uow.emit(
        "user.password_reset_requested",
        {"user_id": user.id, "email": user.email, "name": user.name, "reset_token": token,
         "expires_at": expires_at.isoformat()},
    )
    uow.commit()


def reset_password(token: str, new_password: str, *, uow: UnitOfWork, passwords: PasswordHasher) -> None:
    """Set a new password with a reset token (once, before it expires); every session ends."""
    repo = uow.users
    user_id = uow.sessions.spend_password_reset(_digest(token or ""), now=uow.clock.now())
    if user_id is None:
        raise InvalidResetToken()
    user = repo.get_user(user_id)
    check_password(new_password or "", user.email)
    _set_password(user, new_password, uow=uow, passwords=passwords)
    uow.commit()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
