"""Tables of the users database and their mapping onto the domain classes."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text, false
from sqlalchemy.orm import registry

from helpdesk_common.db import UtcDateTime
from helpdesk_contracts.names import NAME_KEY_MAX_CHARS
from services.users.domain.model import Department, Organization, RefreshToken, User

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

departments = Table(
    "departments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("name_key", String(NAME_KEY_MAX_CHARS), nullable=True),  # helpdesk_contracts.names.name_key(name), always set (migration 0002)
    Index("uq_departments_name_key", "name_key", unique=True),  # unique ignoring case, in the database
    Column("description", Text),
    Column("default_sla_hours", Float),
    Column("notification_email", String(254)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("name_key", String(NAME_KEY_MAX_CHARS), nullable=True),  # helpdesk_contracts.names.name_key(name), always set (migration 0002)
    Index("uq_organizations_name_key", "name_key", unique=True),  # unique ignoring case, in the database
    Column("domain", String(253)),
    Column("shared_tickets", Boolean, nullable=False, default=False),
    Column("vip", Boolean, nullable=False, default=False, server_default=false()),  # rows before migration 0005: false
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    Column("department_id", String(36), ForeignKey("departments.id")),
    Column("organization_id", String(36), ForeignKey("organizations.id")),
    Column("skills", JSON, nullable=False),
    Column("phone", String(40)),
    Column("status", String(20), nullable=False),
    Column("availability", String(20), nullable=False),
    Column("max_concurrent_tickets", Integer, nullable=False),
    Column("max_concurrent_chats", Integer, nullable=False),
    Column("last_login_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("tokens_valid_after", UtcDateTime),  # access tokens issued before it are refused (see list_revocations)
    Index("ix_users_role_status", "role", "status"),
    Index("ix_users_tokens_valid_after", "tokens_valid_after"),
    Index("ix_users_department", "department_id"),
    Index("ix_users_organization", "organization_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("family_id", String(64), nullable=False, index=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Column("family_started_at", UtcDateTime, nullable=False),  # the family's sign-in: its absolute lifetime counts from it
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

_mapped = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (once per process)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Department, departments)
    mapper_registry.map_imperatively(Organization, organizations)
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(RefreshToken, refresh_tokens)
    _mapped = True
