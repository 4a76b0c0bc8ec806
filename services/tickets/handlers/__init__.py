"""Commands and queries of the tickets service: one function each, given a unit of work.

Split by concept (``tickets``, ``comments``, ``queries``, ``attachments``, ``categories``,
``merge_links``, ``projections``, ``search_feed``); every public function is re-exported here, so
``service.py`` calls ``handlers.open_ticket(...)``. Handlers take repositories only from the unit of
work (``ports.TicketsUnitOfWork``) and import no adapter (an import-linter contract says so).
"""

from services.tickets.handlers.attachments import add_attachment, delete_attachment, get_attachment, list_attachments
from services.tickets.handlers.categories import (
    create_category,
    delete_category,
    get_category,
    list_categories,
    update_category,
)
from services.tickets.handlers.comments import add_comment, list_comments, mark_read
from services.tickets.handlers.common import actor_from
from services.tickets.handlers.merge_links import link_tickets, list_links, merge_tickets, unlink_tickets
from services.tickets.handlers.projections import (
    project_department,
    project_organization,
    sync_departments,
    sync_organizations,
)
from services.tickets.handlers.queries import (
    get_history,
    get_ticket,
    list_tags,
    list_tickets,
    search_tickets,
    ticket_stats,
)
from services.tickets.handlers.references import Directory
from services.tickets.handlers.search_feed import feed_search_index
from services.tickets.handlers.tickets import (
    assign_ticket,
    change_priority,
    change_status,
    close_ticket,
    delete_ticket,
    open_ticket,
    update_ticket,
)

__all__ = [
    "Directory",
    "actor_from",
    "add_attachment",
    "add_comment",
    "assign_ticket",
    "change_priority",
    "change_status",
    "close_ticket",
    "create_category",
    "delete_attachment",
    "delete_category",
    "delete_ticket",
    "feed_search_index",
    "get_attachment",
    "get_category",
    "get_history",
    "get_ticket",
    "link_tickets",
    "list_attachments",
    "list_categories",
    "list_comments",
    "list_links",
    "list_tags",
    "list_tickets",
    "mark_read",
    "merge_tickets",
    "open_ticket",
    "project_department",
    "project_organization",
    "search_tickets",
    "sync_departments",
    "sync_organizations",
    "ticket_stats",
    "unlink_tickets",
    "update_category",
    "update_ticket",
]
