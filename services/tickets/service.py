"""The tickets service: tickets, their lifecycle, threads and history.

Entrypoints parse, call one handler with a fresh unit of work and return plain dicts. Every call
carries the caller as ``actor`` (``{id, role, department_id, organization_id}``), which the gateway
takes from the access token; visibility is enforced here, not in the gateway.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from helpdesk_common.config import env_int
from helpdesk_common.nameko_ext import (
    RETRY_SOON,
    Database,
    Observability,
    configured_timer,
    reliable_event_handler,
    rpc,
)
from helpdesk_contracts.errors import ServiceError
from services.tickets import handlers
from services.tickets.adapters.orm import start_mappers
from services.tickets.adapters.uow import TicketsUnitOfWork
from services.tickets.dependencies import AttachmentStore, SearchIndex, UsersDirectory
from services.tickets.domain.attachments import DEFAULT_MAX_BYTES

start_mappers()

expected = rpc(expected_exceptions=ServiceError)
SEARCH_FEED = "ELASTICSEARCH_URL"
DIRECTORY_SYNC_RPC_TIMEOUT = 10.0  # seconds per page of organizations or departments asked of the users service
log = logging.getLogger(__name__)


class TicketsService:
    """Support requests from open to closed."""

    name = "tickets"

    db = Database(uow_class=TicketsUnitOfWork)
    directory = UsersDirectory()
    observability = Observability()
    search_index = SearchIndex()
    attachment_storage = AttachmentStore()

    @expected
    def ping(self) -> str:
        """Answer readiness probes."""
        return "pong"

    @expected
    def create(self, data, actor):
        """Open a ticket."""
        with self.db() as uow:
            return handlers.open_ticket(data, actor, uow=uow, directory=self.directory)

    @expected
    def get(self, ticket_id, actor):
        """Return a ticket."""
        with self.db() as uow:
            return handlers.get_ticket(ticket_id, actor, uow=uow)

    @expected
    def list(self, actor, filters=None, page=1, limit=20, sort_by="created_at", sort_order="desc"):
        """Return a page of tickets."""
        with self.db() as uow:
            return handlers.list_tickets(actor, filters, page, limit, sort_by, sort_order, uow=uow,
                                         index=self.search_index)

    @expected
    def search(self, actor, query, filters=None, page=1, limit=20):
        """Find tickets by full text, most relevant first, with highlights."""
        with self.db() as uow:
            return handlers.search_tickets(actor, query, filters, page, limit, uow=uow, index=self.search_index)

    @expected
    def update(self, ticket_id, changes, actor, expected_version=None):
        """Edit a ticket."""
        with self.db() as uow:
            return handlers.update_ticket(ticket_id, changes, actor, uow=uow, expected_version=expected_version)

    @expected
    def change_status(self, ticket_id, status, actor, resolution=None, expected_version=None):
        """Move a ticket through its lifecycle."""
        with self.db() as uow:
            return handlers.change_status(ticket_id, status, actor, uow=uow, resolution=resolution,
                                          expected_version=expected_version)

    @expected
    def close(self, ticket_id, actor, resolution=None, expected_version=None):
        """Close a ticket."""
        with self.db() as uow:
            return handlers.close_ticket(ticket_id, actor, uow=uow, resolution=resolution,
                                         expected_version=expected_version)

    @expected
    def assign(self, ticket_id, actor, assignee_id=None, department_id=None, set_department=False, set_assignee=True,
               expected_version=None):
        """Assign a ticket to an agent and/or a department."""
        with self.db() as uow:
            return handlers.assign_ticket(ticket_id, actor, uow=uow, assignee_id=assignee_id,
                                          department_id=department_id, set_department=set_department, set_assignee=set_assignee,
                                          directory=self.directory, expected_version=expected_version)

    @expected
    def change_priority(self, ticket_id, priority, actor, expected_version=None):
        """Set a ticket's priority."""
        with self.db() as uow:
            return handlers.change_priority(ticket_id, priority, actor, uow=uow, expected_version=expected_version)

    @expected
    def add_comment(self, ticket_id, data, actor):
        """Add a reply or an internal note."""
        with self.db() as uow:
            return handlers.add_comment(ticket_id, data, actor, uow=uow, directory=self.directory)

    @expected
    def list_comments(self, ticket_id, actor):
        """Return a ticket's thread."""
        with self.db() as uow:
            return handlers.list_comments(ticket_id, actor, uow=uow)

    @expected
    def mark_read(self, ticket_id, actor):
        """Mark a ticket's public thread read for the caller's side."""
        with self.db() as uow:
            return handlers.mark_read(ticket_id, actor, uow=uow)

    @expected
    def history(self, ticket_id, actor):
        """Return a ticket's change history."""
        with self.db() as uow:
            return handlers.get_history(ticket_id, actor, uow=uow)

    @expected
    def delete(self, ticket_id, actor):
        """Soft-delete a ticket."""
        with self.db() as uow:
            return handlers.delete_ticket(ticket_id, actor, uow=uow)

    @expected
    def stats(self, actor, filters=None):
        """Count visible tickets (with ``filters["q"]``: those the search finds)."""
        with self.db() as uow:
            return handlers.ticket_stats(actor, filters, uow=uow, index=self.search_index)

    @expected
    def tags(self, actor):
        """Return tags with counts."""
        with self.db() as uow:
            return handlers.list_tags(actor, uow=uow)

    # categories
    @expected
    def create_category(self, data, actor):
        """Create a ticket category (admins)."""
        with self.db() as uow:
            return handlers.create_category(data, actor, uow=uow, directory=self.directory)

    @expected
    def list_categories(self, actor):
        """Return every category."""
        with self.db() as uow:
            return handlers.list_categories(actor, uow=uow)

    @expected
    def get_category(self, category_id, actor):
        """Return a category."""
        with self.db() as uow:
            return handlers.get_category(category_id, actor, uow=uow)

    @expected
    def update_category(self, category_id, changes, actor):
        """Change a category (admins)."""
        with self.db() as uow:
            return handlers.update_category(category_id, changes, actor, uow=uow, directory=self.directory)

    @expected
    def delete_category(self, category_id, actor):
        """Delete a category (admins)."""
        with self.db() as uow:
            return handlers.delete_category(category_id, actor, uow=uow)

    # merging and links
    @expected
    def merge(self, ticket_id, target_id, actor, confirm_different_requesters=False):
        """Merge a duplicate ticket into a target (of another requester only when confirmed)."""
        with self.db() as uow:
            return handlers.merge_tickets(ticket_id, target_id, actor, uow=uow,
                                          confirm_different_requesters=confirm_different_requesters)

    @expected
    def link(self, ticket_id, other_id, kind, actor):
        """Link two tickets."""
        with self.db() as uow:
            return handlers.link_tickets(ticket_id, other_id, kind, actor, uow=uow)

    @expected
    def unlink(self, ticket_id, other_id, actor):
        """Remove the link between two tickets."""
        with self.db() as uow:
            return handlers.unlink_tickets(ticket_id, other_id, actor, uow=uow)

    @expected
    def links(self, ticket_id, actor):
        """Return a ticket's links to tickets the caller may see."""
        with self.db() as uow:
            return handlers.list_links(ticket_id, actor, uow=uow)

    # attachments: the bytes never travel over RPC; the gateway writes them to the shared storage first
    @expected
    def add_attachment(self, ticket_id, meta, actor):
        """Record a file the gateway stored under ``meta["storage_key"]`` on a ticket (or one of its comments)."""
        max_bytes = env_int("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES)
        with self.db() as uow:
            return handlers.add_attachment(ticket_id, meta, actor, uow=uow, storage=self.attachment_storage,
                                           max_bytes=max_bytes)

    @expected
    def list_attachments(self, ticket_id, actor):
        """Return a ticket's attachments."""
        with self.db() as uow:
            return handlers.list_attachments(ticket_id, actor, uow=uow)

    @expected
    def get_attachment(self, attachment_id, actor):
        """Return an attachment's metadata and storage key, if the caller may read it."""
        with self.db() as uow:
            return handlers.get_attachment(attachment_id, actor, uow=uow)

    @expected
    def delete_attachment(self, attachment_id, actor):
        """Remove an attachment and its bytes."""
        with self.db() as uow:
            return handlers.delete_attachment(attachment_id, actor, uow=uow, storage=self.attachment_storage)

    # what the tickets service knows of organizations: whether their members share tickets
    @reliable_event_handler("users", "organization.created")
    @reliable_event_handler("users", "organization.updated")
    @reliable_event_handler("users", "organization.deleted")
    def project_organization(self, envelope):
        """Keep the local copy of an organization's ticket sharing up to date."""
        with self.db() as uow:
            handlers.project_organization(envelope, uow=uow)

    @configured_timer("ORGANIZATION_SYNC_SECONDS", default=600, eager=True)
    def sync_organizations(self):
        """Reconcile the copy of organizations with the users service: at start, then every 10 minutes."""
        started = datetime.now(UTC)
        try:
            listing, complete = self.directory.all_organizations(timeout=DIRECTORY_SYNC_RPC_TIMEOUT)
        except Exception as exc:  # users away or slow: the events still flow; the next round tries again
            log.warning("could not list organizations from the users service (trying again soon): %r", exc)
            return RETRY_SOON
        with self.db() as uow:
            return handlers.sync_organizations(listing, uow=uow, listed_since=started, complete=complete)

    # what the tickets service knows of departments: which exist (a ticket's department_id is checked against it)
    @reliable_event_handler("users", "department.created")
    @reliable_event_handler("users", "department.updated")
    @reliable_event_handler("users", "department.deleted")
    def project_department(self, envelope):
        """Keep the local copy of which departments exist up to date."""
        with self.db() as uow:
            handlers.project_department(envelope, uow=uow)

    @configured_timer("DEPARTMENT_SYNC_SECONDS", default=600, eager=True)
    def sync_departments(self):
        """Reconcile the copy of departments with the users service: at start, then every 10 minutes."""
        started = datetime.now(UTC)
        try:
            listing, complete = self.directory.all_departments(timeout=DIRECTORY_SYNC_RPC_TIMEOUT)
        except Exception as exc:  # users away or slow: the events still flow, unknown ids are asked one by one
            log.warning("could not list departments from the users service (trying again soon): %r", exc)
            return RETRY_SOON
        with self.db() as uow:
            return handlers.sync_departments(listing, uow=uow, listed_since=started, complete=complete)

    # Elasticsearch feed: one queue per type; each event only names the ticket whose current row is copied.
    # The consumers exist only when ELASTICSEARCH_URL is set (the embedded index is written in each change's
    # own transaction and needs no feed).
    @reliable_event_handler("tickets", "ticket.created", enabled_by=SEARCH_FEED)
    @reliable_event_handler("tickets", "ticket.updated", enabled_by=SEARCH_FEED)
    @reliable_event_handler("tickets", "ticket.status_changed", enabled_by=SEARCH_FEED)
    @reliable_event_handler("tickets", "ticket.assigned", enabled_by=SEARCH_FEED)
    @reliable_event_handler("tickets", "ticket.unassigned", enabled_by=SEARCH_FEED)
    @reliable_event_handler("tickets", "ticket.commented", enabled_by=SEARCH_FEED)
    @reliable_event_handler("tickets", "ticket.merged", enabled_by=SEARCH_FEED)
    @reliable_event_handler("tickets", "ticket.deleted", enabled_by=SEARCH_FEED)
    def feed_search_index(self, envelope):
        """Copy the ticket an event is about into Elasticsearch (nothing to do without it)."""
        if self.search_index is None:
            return
        with self.db() as uow:
            handlers.feed_search_index(envelope, uow=uow, index=self.search_index)
