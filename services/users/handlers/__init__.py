"""Commands of the users service: one function each, given a unit of work and the password hasher.

Each validates, changes state, records its events and commits; nothing here knows about Nameko or about
the adapters: repositories come from the unit of work (``uow.users``, ``uow.departments``, ...), so a
fake one (``tests/unit/users/fakes.py``) can stand in. By concept: ``users`` (accounts), ``sessions``
(passwords and sign-in tokens), ``directory`` (departments and organizations).
"""

from services.users.handlers._common import MAX_PAGE_SIZE, PasswordHasher, UnitOfWork
from services.users.handlers.directory import (
    DEPARTMENTS,
    ORGANIZATIONS,
    create_department,
    create_organization,
    delete_department,
    delete_organization,
    get_department,
    get_organization,
    list_departments,
    list_organizations,
    update_department,
    update_organization,
)
from services.users.handlers.sessions import (
    RESET_TOKEN_LIFETIME,
    change_password,
    list_revocations,
    request_password_reset,
    reset_password,
    revoke_session,
    rotate_refresh_token,
    start_session,
)
from services.users.handlers.users import (
    MAX_HANDLES,
    authenticate,
    change_role,
    create_user,
    deactivate_user,
    find_users,
    get_user,
    list_available_agents,
    list_users,
    register_customer,
    set_availability,
    update_profile,
    update_user,
)

__all__ = [
    "DEPARTMENTS",
    "MAX_HANDLES",
    "MAX_PAGE_SIZE",
    "ORGANIZATIONS",
    "PasswordHasher",
    "RESET_TOKEN_LIFETIME",
    "UnitOfWork",
    "authenticate",
    "change_password",
    "change_role",
    "create_department",
    "create_organization",
    "create_user",
    "deactivate_user",
    "delete_department",
    "delete_organization",
    "find_users",
    "get_department",
    "get_organization",
    "get_user",
    "list_available_agents",
    "list_departments",
    "list_organizations",
    "list_revocations",
    "list_users",
    "register_customer",
    "request_password_reset",
    "reset_password",
    "revoke_session",
    "rotate_refresh_token",
    "set_availability",
    "start_session",
    "update_department",
    "update_organization",
    "update_profile",
    "update_user",
]
