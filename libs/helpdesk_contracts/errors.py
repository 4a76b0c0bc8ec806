"""Errors that cross the RPC boundary.

Services raise these; Nameko serializes them with their ``args`` and the gateway turns them back into
instances (see ``gateway.rpc``) and maps each family to an HTTP status in one table. Every error is
built from ``(message, errors)`` only, so it survives that round trip: ``errors`` is an optional
``{field: [messages]}`` mapping for the envelope.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service may answer an RPC with."""

    def __init__(self, message: str = "", errors: dict[str, list[str]] | None = None):
        super().__init__(message, errors or {})
        self.message = message or self.__class__.__doc__ or self.__class__.__name__
        self.errors = errors or {}

    def __str__(self) -> str:
        return self.message


# Families: the gateway maps each to one status code.
class NotFound(ServiceError):
    """The object does not exist or the caller may not know it does."""


class Conflict(ServiceError):
    """The request conflicts with the current state."""


class ValidationFailed(ServiceError):
    """The input is not acceptable."""


class AuthenticationFailed(ServiceError):
    """The caller could not be authenticated."""


class PermissionDenied(ServiceError):
    """The caller may not do this."""


class PreconditionFailed(ServiceError):
    """The object changed since the caller last read it."""


class Unavailable(ServiceError):
    """A dependency of the service is down; try again later."""


# users
class UserNotFound(NotFound):
    """User not found."""


class DepartmentNotFound(NotFound):
    """Department not found."""


class OrganizationNotFound(NotFound):
    """Organization not found."""


class EmailAlreadyRegistered(Conflict):
    """This e-mail address is already registered."""


class DepartmentInUse(Conflict):
    """The department still has members."""


class OrganizationInUse(Conflict):
    """The organization still has members."""


class InvalidCredentials(AuthenticationFailed):
    """Invalid e-mail or password."""


class InvalidRefreshToken(AuthenticationFailed):
    """The refresh token is invalid, expired or revoked."""


class RefreshTokenReused(AuthenticationFailed):
    """The refresh token was already used; the whole session family is revoked."""


class WeakPassword(ValidationFailed):
    """The password is too weak."""


class InvalidResetToken(ValidationFailed):
    """The password reset token is invalid, used or expired."""


# tickets
class TicketNotFound(NotFound):
    """Ticket not found."""


class IllegalTransition(Conflict):
    """This status change is not allowed from the ticket's current status."""


class StaleTicket(PreconditionFailed):
    """The ticket changed since you read it."""


class SearchUnavailable(Unavailable):
    """Search is unavailable right now; try again later."""


# automation
class TemplateNotFound(NotFound):
    """Response template not found."""


class RuleNotFound(NotFound):
    """Automation rule not found."""


def all_error_types() -> list[type[ServiceError]]:
    """Return every ServiceError subclass, transitively."""
    found: list[type[ServiceError]] = []
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
