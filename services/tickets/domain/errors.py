"""The errors of the tickets service (the RPC contract's families)."""

from helpdesk_contracts.errors import (  # noqa: F401  (re-exported)
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ServiceError,
    ValidationFailed,
)


class TicketNotFound(NotFound):
    """Ticket not found."""


class IllegalTransition(Conflict):
    """This status change is not allowed from the ticket's current status."""


class StaleTicket(PreconditionFailed):
    """The ticket changed since you read it."""


TicketsError = ServiceError
