"""Alembic environment of the users database: the same URL the service uses."""

from helpdesk_common.migrations import run_migrations
from services.users.adapters.orm import metadata

run_migrations("users", metadata)
