"""The errors of the tickets service (the RPC contract's classes, re-exported for domain code)."""

from helpdesk_contracts.errors import (  # noqa: F401  (re-exported)
    Conflict,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    SearchUnavailable,
    ServiceError,
    StaleTicket,
    TicketNotFound,
    ValidationFailed,
)

TicketsError = ServiceError


def category_name_taken(name: str) -> Conflict:
    """Build the 409 a category name another category already has answers."""
    return Conflict(f"A category named {name!r} already exists.", {"name": ["Already taken."]})
