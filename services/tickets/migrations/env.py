"""Alembic environment of the tickets database: the same URL the service uses."""

import services.tickets.adapters.attachments  # noqa: F401  (registers ticket_attachments on the metadata)
import services.tickets.adapters.departments  # noqa: F401  (registers ticket_departments on the metadata)
import services.tickets.adapters.organizations  # noqa: F401  (registers ticket_organizations on the metadata)
from helpdesk_common.migrations import run_migrations
from services.tickets.adapters.orm import metadata

run_migrations("tickets", metadata, unmanaged_prefixes=("ticket_search",))
