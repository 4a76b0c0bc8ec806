"""Alembic environment of the tickets database: the same URL the service uses."""

from helpdesk_common.migrations import run_migrations
from services.tickets.adapters.orm import metadata

run_migrations("tickets", metadata, unmanaged_prefixes=("ticket_search",))
