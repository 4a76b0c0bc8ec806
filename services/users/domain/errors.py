"""The errors of the users service (the RPC contract's classes, re-exported for domain code)."""

from helpdesk_contracts.errors import (  # noqa: F401  (re-exported)
    Conflict,
    DepartmentInUse,
    DepartmentNotFound,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    OrganizationInUse,
    OrganizationNotFound,
    RefreshTokenReused,
    ServiceError,
    UserNotFound,
    ValidationFailed,
    WeakPassword,
)

UsersError = ServiceError
