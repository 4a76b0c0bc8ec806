"""Pure rules of the users domain."""

from __future__ import annotations

# the service's names for the shared vocabulary (handlers and adapters import them from here)
from helpdesk_contracts.vocabulary import (  # noqa: F401
    AVAILABILITIES,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    ROLES,
    STAFF_ROLES,
)
from helpdesk_contracts.vocabulary import USER_STATUSES as STATUSES  # noqa: F401

# What an access token says about its user that authorises requests (the gateway reads it, not us):
# changing one makes the user's earlier access tokens stale, so they stop being honoured
# (``User.revoke_tokens``); a deactivation, a role change and a password change do so too.
TOKEN_CLAIM_FIELDS = ("role", "department_id", "organization_id")


def normalize_email(email: str) -> str:
    """Return the canonical form we store and compare e-mails in."""
    return email.strip().lower()


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """Return what makes a password too weak (empty when it is acceptable)."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"Password must be at least {PASSWORD_MIN_LENGTH} characters long.")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"Password must be at most {PASSWORD_MAX_LENGTH} characters long.")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("Password must contain at least one letter and one digit.")
    if email and password.strip().lower() in (normalize_email(email), normalize_email(email).split("@")[0]):
        problems.append("Password must not be your e-mail address.")
    return problems


def is_staff(role: str) -> bool:
    """Tell whether a role works tickets (agents, supervisors, admins)."""
    return role in STAFF_ROLES


def changes_revoke_tokens(changes: dict) -> bool:
    """Tell whether applied changes make the user's access tokens stale."""
    return any(field in changes for field in TOKEN_CLAIM_FIELDS)
