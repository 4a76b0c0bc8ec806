"""Alembic environment of the automation database: the same URL the service uses."""

from helpdesk_common.migrations import run_migrations
from services.automation.adapters.orm import metadata

run_migrations("automation", metadata)
