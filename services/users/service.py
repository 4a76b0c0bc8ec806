"""The users service: accounts, roles, departments, organizations, agents' availability and sessions.

Each entrypoint parses its arguments, calls one handler with a fresh unit of work and returns plain
dicts. RPC callers get the errors of ``helpdesk_contracts.errors`` (declared as expected).
"""

from __future__ import annotations

from datetime import timedelta

from nameko.dependency_providers import Config

from helpdesk_common.nameko_ext import Database, Observability, rpc
from helpdesk_contracts.errors import ServiceError
from services.users import handlers
from services.users.adapters.orm import start_mappers
from services.users.adapters.uow import UsersUnitOfWork
from services.users.dependencies import PasswordHasher

start_mappers()

expected = rpc(expected_exceptions=ServiceError)


class UsersService:
    """Who people are and what they may do."""

    name = "users"

    db = Database(uow_class=UsersUnitOfWork)
    passwords = PasswordHasher()
    observability = Observability()
    config = Config()

    def _family_max_age(self) -> timedelta:
        return timedelta(seconds=float(self.config.get("REFRESH_FAMILY_MAX_AGE") or 30 * 24 * 3600))

    @expected
    def ping(self) -> str:
        """Answer readiness probes."""
        return "pong"

    # accounts
    @expected
    def authenticate(self, email, password):
        """Return the user with these credentials."""
        with self.db() as uow:
            return handlers.authenticate(email, password, uow=uow, passwords=self.passwords)

    @expected
    def register_customer(self, data):
        """Create a customer account."""
        with self.db() as uow:
            return handlers.register_customer(data, uow=uow, passwords=self.passwords)

    @expected
    def create_user(self, data):
        """Create a user of any role."""
        with self.db() as uow:
            return handlers.create_user(data, uow=uow, passwords=self.passwords)

    @expected
    def get_user(self, user_id):
        """Return one user."""
        with self.db() as uow:
            return handlers.get_user(user_id, uow=uow)

    @expected
    def find_users(self, handles):
        """Return the users some e-mails or handles (e-mail local parts) name, for @mentions."""
        with self.db() as uow:
            return handlers.find_users(handles, uow=uow)

    @expected
    def list_users(self, filters=None, page=1, limit=20):
        """Return a page of users."""
        with self.db() as uow:
            return handlers.list_users(filters, page, limit, uow=uow)

    @expected
    def update_user(self, user_id, changes):
        """Change a user's fields."""
        with self.db() as uow:
            return handlers.update_user(user_id, changes, uow=uow)

    @expected
    def update_profile(self, user_id, changes):
        """Change one's own profile."""
        with self.db() as uow:
            return handlers.update_profile(user_id, changes, uow=uow)

    @expected
    def change_password(self, user_id, current_password, new_password):
        """Change one's password."""
        with self.db() as uow:
            return handlers.change_password(user_id, current_password, new_password, uow=uow, passwords=self.passwords)

    @expected
    def deactivate_user(self, user_id):
        """Deactivate an account."""
        with self.db() as uow:
            return handlers.deactivate_user(user_id, uow=uow)

    @expected
    def change_role(self, user_id, role):
        """Change a user's role."""
        with self.db() as uow:
            return handlers.change_role(user_id, role, uow=uow)

    @expected
    def set_availability(self, user_id, availability):
        """Set an agent's availability."""
        with self.db() as uow:
            return handlers.set_availability(user_id, availability, uow=uow)

    @expected
    def list_available_agents(self, department_id=None, skill=None):
        """Return online agents."""
        with self.db() as uow:
            return handlers.list_available_agents(department_id, skill, uow=uow)

    # sessions
    @expected
    def start_session(self, user_id):
        """Open a refresh-token family."""
        with self.db() as uow:
            return handlers.start_session(user_id, uow=uow, family_max_age=self._family_max_age())

    @expected
    def rotate_refresh_token(self, jti):
        """Spend a refresh token and issue its successor."""
        with self.db() as uow:
            return handlers.rotate_refresh_token(jti, uow=uow, family_max_age=self._family_max_age())

    @expected
    def list_revocations(self, since):
        """Return the users whose access tokens stopped being honoured since ``since`` (ISO 8601), with that moment."""
        with self.db() as uow:
            return handlers.list_revocations(since, uow=uow)

    @expected
    def revoke_session(self, jti):
        """End a session."""
        with self.db() as uow:
            return handlers.revoke_session(jti, uow=uow)

    @expected
    def request_password_reset(self, email):
        """Issue a password reset token."""
        with self.db() as uow:
            return handlers.request_password_reset(email, uow=uow)

    @expected
    def reset_password(self, token, new_password):
        """Set a new password with a reset token."""
        with self.db() as uow:
            return handlers.reset_password(token, new_password, uow=uow, passwords=self.passwords)

    # departments
    @expected
    def create_department(self, data, actor=None):
        """Create a department (``actor``: who, recorded in its event)."""
        with self.db() as uow:
            return handlers.create_department(data, uow=uow, actor=actor)

    @expected
    def get_department(self, department_id):
        """Return a department."""
        with self.db() as uow:
            return handlers.get_department(department_id, uow=uow)

    @expected
    def list_departments(self, page=1, limit=20):
        """Return a page of departments."""
        with self.db() as uow:
            return handlers.list_departments(page, limit, uow=uow)

    @expected
    def update_department(self, department_id, changes, actor=None):
        """Change a department."""
        with self.db() as uow:
            return handlers.update_department(department_id, changes, uow=uow, actor=actor)

    @expected
    def delete_department(self, department_id, actor=None):
        """Delete a department."""
        with self.db() as uow:
            return handlers.delete_department(department_id, uow=uow, actor=actor)

    # organizations
    @expected
    def create_organization(self, data, actor=None):
        """Create an organization (``actor``: who, recorded in its event)."""
        with self.db() as uow:
            return handlers.create_organization(data, uow=uow, actor=actor)

    @expected
    def get_organization(self, organization_id):
        """Return an organization."""
        with self.db() as uow:
            return handlers.get_organization(organization_id, uow=uow)

    @expected
    def list_organizations(self, page=1, limit=20):
        """Return a page of organizations."""
        with self.db() as uow:
            return handlers.list_organizations(page, limit, uow=uow)

    @expected
    def update_organization(self, organization_id, changes, actor=None):
        """Change an organization."""
        with self.db() as uow:
            return handlers.update_organization(organization_id, changes, uow=uow, actor=actor)

    @expected
    def delete_organization(self, organization_id, actor=None):
        """Delete an organization."""
        with self.db() as uow:
            return handlers.delete_organization(organization_id, uow=uow, actor=actor)
