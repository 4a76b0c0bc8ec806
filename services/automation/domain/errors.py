"""The errors of the automation service (the RPC contract's classes, re-exported for domain code)."""

from helpdesk_contracts.errors import (  # noqa: F401  (re-exported)
    Conflict,
    DepartmentNotFound,
    NotFound,
    PermissionDenied,
    RuleNotFound,
    ServiceError,
    TemplateNotFound,
    TicketNotFound,
    Unavailable,
    UserNotFound,
    ValidationFailed,
)

AutomationError = ServiceError


class TicketChanged(Exception):
    """The ticket changed since the router read it (the tickets service refused the expected version)."""


class AssigneeRefused(Exception):
    """The tickets service refused the agent (it knows them as inactive, or not as staff)."""


class ActionRefused(Exception):
    """The tickets service refused a rule's action (a status it cannot move to, an agent gone inactive)."""
