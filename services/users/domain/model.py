"""Entities of the users domain: plain classes, mapped to tables in ``adapters.orm``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from helpdesk_contracts.names import name_key
from services.users.domain import rules
from services.users.domain.errors import InvalidRefreshToken, RefreshTokenReused, ValidationFailed

Changes = dict[str, dict[str, Any]]


class User:
    """A person who signs in: a customer, an agent, a supervisor or an admin."""

    EDITABLE = (
        "name",
        "email",
        "phone",
        "department_id",
        "organization_id",
        "skills",
        "status",
        "max_concurrent_tickets",
        "max_concurrent_chats",
    )

    def __init__(
        self,
        *,
        id: str,
        email: str,
        name: str,
        password_hash: str,
        role: str,
        now: datetime,
        department_id: str | None = None,
        organization_id: str | None = None,
        skills: list[str] | None = None,
        phone: str | None = None,
        status: str = "active",
        availability: str = "offline",
        max_concurrent_tickets: int = 10,
        max_concurrent_chats: int = 3,
    ):
        if role not in rules.ROLES:
            raise ValidationFailed(f"Unknown role {role!r}.", {"role": [f"Must be one of: {', '.join(rules.ROLES)}."]})
        if status not in rules.STATUSES:
            raise ValidationFailed(f"Unknown status {status!r}.", {"status": [f"Must be one of: {', '.join(rules.STATUSES)}."]})
        self.id = id
        self.email = rules.normalize_email(email)
        self.name = name.strip()
        self.password_hash = password_hash
        self.role = role
        self.department_id = department_id
        self.organization_id = organization_id
        self.skills = sorted(set(skills or []))
        self.phone = phone
        self.status = status
        self.availability = availability
        self.max_concurrent_tickets = max_concurrent_tickets
        self.max_concurrent_chats = max_concurrent_chats
        self.last_login_at: datetime | None = None
        self.tokens_valid_after: datetime | None = None
        self.created_at = now
        self.updated_at = now
        self.version = 1

    @property
    def is_active(self) -> bool:
        return self.status != "inactive"

    def update(self, changes: dict[str, Any], *, now: datetime) -> Changes:
        """Apply editable fields; return ``{field: {before, after}}`` for what really changed."""
        applied: Changes = {}
        for field, value in changes.items():
            if field not in self.EDITABLE:
                raise ValidationFailed(f"{field} cannot be changed here.", {field: ["Unknown or read-only field."]})
            if field == "email":
                value = rules.normalize_email(value)
            elif field == "name":
                value = value.strip()
            elif field == "skills":
                value = sorted(set(value))
            elif field == "status" and value not in rules.STATUSES:
                raise ValidationFailed(f"Unknown status {value!r}.", {"status": [f"Must be one of: {', '.join(rules.STATUSES)}."]})
            before = getattr(self, field)
            if before != value:
                setattr(self, field, value)
                applied[field] = {"before": before, "after": value}
        if not self.is_active and self.availability != "offline":
            # an inactive account cannot stay available for work
            applied["availability"] = {"before": self.availability, "after": "offline"}
            self.availability = "offline"
        if applied:
            self._touch(now)
        return applied

    def change_role(self, role: str, *, now: datetime) -> Changes:
        """Give the user another role; customers keep no availability."""
        if role not in rules.ROLES:
            raise ValidationFailed(f"Unknown role {role!r}.", {"role": [f"Must be one of: {', '.join(rules.ROLES)}."]})
        if role == self.role:
            return {}
        changes: Changes = {"role": {"before": self.role, "after": role}}
        self.role = role
        if not rules.is_staff(role) and self.availability != "offline":
            changes["availability"] = {"before": self.availability, "after": "offline"}
            self.availability = "offline"
        self._touch(now)
        return changes

    def set_availability(self, availability: str, *, now: datetime) -> str | None:
        """Set online/away/offline; return the previous value, or None when nothing changed."""
        if availability not in rules.AVAILABILITIES:
            raise ValidationFailed(
                f"Unknown availability {availability!r}.",
                {"availability": [f"Must be one of: {', '.join(rules.AVAILABILITIES)}."]},
            )
        if not rules.is_staff(self.role):
            raise ValidationFailed("Only agents have an availability.", {"availability": ["Customers have no availability."]})
        if availability != "offline" and not self.is_active:
            raise ValidationFailed("An inactive user cannot go online.", {"availability": ["The account is inactive."]})
        if availability == self.availability:
            return None
        previous = self.availability
        self.availability = availability
        self._touch(now)
        return previous

    def deactivate(self, *, now: datetime) -> Changes:
        """Mark the account inactive and offline."""
        changes: Changes = {}
        if self.status != "inactive":
            changes["status"] = {"before": self.status, "after": "inactive"}
            self.status = "inactive"
        if self.availability != "offline":
            changes["availability"] = {"before": self.availability, "after": "offline"}
            self.availability = "offline"
        if changes:
            self._touch(now)
        return changes

    def revoke_tokens(self, *, now: datetime) -> None:
        """Stop honouring the access tokens issued to this user before ``now``."""
        self.tokens_valid_after = now

    def record_login(self, *, now: datetime) -> None:
        self.last_login_at = now

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1


class Department:
    """A team tickets are routed to; unique by ``name_key`` (its name ignoring case, width and spacing)."""

    EDITABLE = ("name", "description", "default_sla_hours", "notification_email")

    def __init__(self, *, id: str, name: str, now: datetime, description: str | None = None,
                 default_sla_hours: float | None = None, notification_email: str | None = None):
        self.id = id
        self.name = name.strip()
        self.name_key = name_key(self.name)
        self.description = description
        self.default_sla_hours = default_sla_hours
        self.notification_email = notification_email
        self.created_at = now
        self.updated_at = now

    def update(self, changes: dict[str, Any], *, now: datetime) -> Changes:
        """Apply editable fields; return what changed."""
        return _apply(self, self.EDITABLE, changes, now)


class Organization:
    """A customer company; its members are contacts. Unique by ``name_key``, as departments are."""

    EDITABLE = ("name", "domain", "shared_tickets", "vip")

    def __init__(self, *, id: str, name: str, now: datetime, domain: str | None = None, shared_tickets: bool = False,
                 vip: bool = False):
        self.id = id
        self.name = name.strip()
        self.name_key = name_key(self.name)
        self.domain = domain
        self.shared_tickets = shared_tickets
        self.vip = vip
        self.created_at = now
        self.updated_at = now

    def update(self, changes: dict[str, Any], *, now: datetime) -> Changes:
        """Apply editable fields; return what changed."""
        return _apply(self, self.EDITABLE, changes, now)


def _apply(entity: Any, editable: tuple[str, ...], changes: dict[str, Any], now: datetime) -> Changes:
    applied: Changes = {}
    for field, value in changes.items():
        if field not in editable:
            raise ValidationFailed(f"{field} cannot be changed.", {field: ["Unknown or read-only field."]})
        if isinstance(value, str) and field == "name":
            value = value.strip()
        before = getattr(entity, field)
        if before != value:
            if field == "name":
                entity.name_key = name_key(value)  # before the change: a name too long once folded changes nothing
            setattr(entity, field, value)
            applied[field] = {"before": before, "after": value}
    if applied:
        entity.updated_at = now
    return applied


class RefreshToken:
    """One link of a refresh-token family (one login session); each is spent when rotated."""

    LIFETIME = timedelta(days=7)
    FAMILY_MAX_AGE = timedelta(days=30)  # however often it rotates, a session ends this long after its sign-in

    def __init__(self, *, jti: str, family_id: str, user_id: str, now: datetime,
                 family_started_at: datetime | None = None, family_max_age: timedelta | None = None):
        self.jti = jti
        self.family_id = family_id
        self.user_id = user_id
        self.issued_at = now
        self.family_started_at = family_started_at or now
        self.expires_at = min(now + self.LIFETIME, self.family_started_at + (family_max_age or self.FAMILY_MAX_AGE))
        self.used_at: datetime | None = None
        self.revoked_at: datetime | None = None

    def successor(self, *, jti: str, now: datetime, family_max_age: timedelta | None = None) -> RefreshToken:
        """Return the next link of this family; raise ``InvalidRefreshToken`` once the family is too old."""
        if now >= self.family_started_at + (family_max_age or self.FAMILY_MAX_AGE):
            raise InvalidRefreshToken()
        return RefreshToken(jti=jti, family_id=self.family_id, user_id=self.user_id, now=now,
                            family_started_at=self.family_started_at, family_max_age=family_max_age)

    def spend(self, *, now: datetime) -> None:
        """Use this token once; a second use means it was stolen (the caller revokes the family)."""
        if self.revoked_at is not None or self.expires_at <= now:
            raise InvalidRefreshToken()
        if self.used_at is not None:
            raise RefreshTokenReused()
        self.used_at = now
