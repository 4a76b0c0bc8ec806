"""Fakes for the gateway's unit tests: the users, tickets and automation services in memory behind a fake RPC
pool, and a scripted proxy to drive ``gateway.rpc.RpcPool`` without a broker."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.errors import ServiceTimeout, ServiceUnavailable, UnexpectedServiceError
from helpdesk_common.context import get_correlation_id
from helpdesk_common.payloads import page_args
from helpdesk_contracts.errors import (
    Conflict,
    DepartmentInUse,
    DepartmentNotFound,
    EmailAlreadyRegistered,
    IllegalTransition,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    NotFound,
    OrganizationInUse,
    OrganizationNotFound,
    PermissionDenied,
    RefreshTokenReused,
    StaleTicket,
    TicketNotFound,
    UserNotFound,
    ValidationFailed,
    WeakPassword,
)
from helpdesk_contracts.vocabulary import (
    AVAILABILITIES,
    INVERSE_LINK_KIND,
    LINK_KINDS,
    ROLES,
    ROUTING_STRATEGIES,
    STAFF_ROLES,
    TICKET_STATUSES,
)
from helpdesk_contracts.vocabulary import PRIORITIES as TICKET_PRIORITIES
from services.automation import handlers as automation_handlers
from services.automation.domain.model import (
    ASSIGNED,
    DEFAULT_STRATEGY,
    MANUAL_ONLY,
    PRIORITY_RANK,
    QUEUED,
    WORKING_STATUSES,
    TrackedTicket,
)
from services.automation.handlers import common as automation_rules
from services.tickets.domain import rules
from services.users.domain import rules as user_rules
from tests.unit.automation.fakes import FakeAutomationUnitOfWork

USER_FIELDS = (
    "email",
    "name",
    "password",
    "role",
    "department_id",
    "organization_id",
    "skills",
    "phone",
    "status",
    "max_concurrent_tickets",
    "max_concurrent_chats",
)
UPDATABLE_USER_FIELDS = (
    "name",
    "email",
    "phone",
    "department_id",
    "organization_id",
    "skills",
    "status",
    "max_concurrent_tickets",
    "max_concurrent_chats",
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _wire(value: Any) -> Any:
    """Round-trip through JSON, as nameko's serializer would: no shared objects, no Python types."""
    return json.loads(json.dumps(value))


class FakeUsersService:
    """The RPC contract of ``services/users/README.md``, in memory, raising the contract's errors."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.passwords: dict[str, str] = {}
        self.departments: dict[str, dict[str, Any]] = {}
        self.organizations: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}  # jti -> {family_id, user_id, spent}
        self.revoked_families: set[str] = set()
        self.reset_tokens: dict[str, str] = {}  # token -> user id
        self.open_tickets: dict[str, int] = {}  # user id -> open tickets, for open_slots

    # -- test helpers -------------------------------------------------------------------------
    def add_user(self, *, email: str, password: str, role: str = "customer", **fields: Any) -> dict[str, Any]:
        """Store a user directly (skipping the password rules, like the demo seed)."""
        user_id = str(uuid.uuid4())
        now = _now()
        user = {
            "id": user_id,
            "email": email.lower(),
            "name": fields.pop("name", email.split("@")[0].title()),
            "role": role,
            "status": "active",
            "availability": None if role == "customer" else "offline",
            "department_id": None,
            "organization_id": None,
            "skills": [],
            "phone": None,
            "max_concurrent_tickets": None if role == "customer" else 10,
            "max_concurrent_chats": None if role == "customer" else 3,
            "last_login_at": None,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        user.update(fields)
        self.users[user_id] = user
        self.passwords[user_id] = password
        return _wire(user)

    def active_families(self, user_id: str) -> set[str]:
        """Return the refresh-token families of a user that are not revoked."""
        return {
            token["family_id"]
            for token in self.refresh_tokens.values()
            if token["user_id"] == user_id and token["family_id"] not in self.revoked_families
        }

    # -- RPC methods --------------------------------------------------------------------------
    def ping(self) -> str:
        return "pong"

    def authenticate(self, email: str, password: str) -> dict[str, Any]:
        user = self._by_email(email)
        if user is None or self.passwords[user["id"]] != password or user["status"] != "active":
            raise InvalidCredentials()
        user["last_login_at"] = _now()
        return _wire(user)

    def register_customer(self, data: dict[str, Any]) -> dict[str, Any]:
        self._reject_unknown(data, ("email", "name", "password", "phone", "organization_id"))
        return self._create({**data, "role": "customer"})

    def create_user(self, data: dict[str, Any]) -> dict[str, Any]:
        self._reject_unknown(data, USER_FIELDS)
        return self._create(data)

    def get_user(self, user_id: str) -> dict[str, Any]:
        return _wire(self._user(user_id))

    def list_users(self, filters: dict[str, Any] | None = None, page: int = 1, limit: int = 20) -> dict[str, Any]:
        filters = filters or {}
        self._reject_unknown(filters, ("role", "status", "availability", "department_id", "organization_id", "q"))
        found = []
        for user in self.users.values():
            if any(user.get(key) != value for key, value in filters.items() if key != "q"):
                continue
            q = filters.get("q", "").lower()
            if q and q not in user["name"].lower() and q not in user["email"]:
                continue
            found.append(user)
        found.sort(key=lambda user: user["email"])
        return _wire({"items": found[(page - 1) * limit : page * limit], "total": len(found)})

    def update_user(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self._reject_unknown(changes, UPDATABLE_USER_FIELDS)
        user = self._user(user_id)
        if "email" in changes:
            other = self._by_email(changes["email"])
            if other is not None and other["id"] != user_id:
                raise EmailAlreadyRegistered()
            changes = {**changes, "email": changes["email"].lower()}
        self._check_references(changes)
        return self._touch(user, changes)

    def update_profile(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self._reject_unknown(changes, ("name", "phone"))
        return self._touch(self._user(user_id), changes)

    def change_password(self, user_id: str, current_password: str, new_password: str) -> None:
        user = self._user(user_id)
        if self.passwords[user_id] != current_password:
            raise InvalidCredentials()
        self._check_password(new_password, user["email"])
        self.passwords[user_id] = new_password
        self._revoke_all(user_id)

    def deactivate_user(self, user_id: str) -> dict[str, Any]:
        user = self._user(user_id)
        self._revoke_all(user_id)
        return self._touch(user, {"status": "inactive"})

    def change_role(self, user_id: str, role: str) -> dict[str, Any]:
        user = self._user(user_id)
        if role not in ROLES:
            raise ValidationFailed("Unknown role.", {"role": ["Unknown role."]})
        return self._touch(user, {"role": role})

    def set_availability(self, user_id: str, availability: str) -> dict[str, Any]:
        user = self._user(user_id)
        if user["role"] == "customer":
            raise ValidationFailed("Customers have no availability.", {"availability": ["Customers have none."]})
        if availability not in AVAILABILITIES:
            raise ValidationFailed("Unknown availability.", {"availability": ["Unknown availability."]})
        return self._touch(user, {"availability": availability})

    def list_available_agents(self, department_id: str | None = None, skill: str | None = None) -> list[dict]:
        agents = []
        for user in self.users.values():
            if user["role"] not in ("agent", "supervisor") or user["status"] != "active":
                continue
            if user["availability"] != "online":
                continue
            if department_id is not None and user["department_id"] != department_id:
                continue
            if skill is not None and skill not in user["skills"]:
                continue
            open_slots = (user["max_concurrent_tickets"] or 0) - self.open_tickets.get(user["id"], 0)
            if open_slots > 0:
                agents.append({**user, "open_slots": open_slots})
        return _wire(agents)

    def create_department(self, data: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
        self._reject_unknown(data, ("name", "description", "default_sla_hours", "notification_email"))
        self._unique_name(self.departments, data["name"])
        now = _now()
        department = {
            "id": str(uuid.uuid4()),
            "description": None,
            "default_sla_hours": 24,
            "notification_email": None,
            "member_count": 0,
            "created_at": now,
            "updated_at": now,
            **data,
        }
        self.departments[department["id"]] = department
        return _wire(department)

    def update_department(self, department_id: str, changes: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
        department = self._department(department_id)
        if "name" in changes:
            self._unique_name(self.departments, changes["name"], exclude=department_id)
        department.update(changes, updated_at=_now())
        return _wire(department)

    def get_department(self, department_id: str) -> dict[str, Any]:
        return _wire(self._with_members(self._department(department_id), "department_id"))

    def list_departments(self, page: int = 1, limit: int = 20) -> dict[str, Any]:
        items = sorted(self.departments.values(), key=lambda d: d["name"])
        chosen = [self._with_members(d, "department_id") for d in items[(page - 1) * limit : page * limit]]
        return _wire({"items": chosen, "total": len(items)})

    def delete_department(self, department_id: str, actor: str | None = None) -> None:
        department = self._department(department_id)
        if self._with_members(department, "department_id")["member_count"]:
            raise DepartmentInUse()
        del self.departments[department_id]

    def create_organization(self, data: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
        self._reject_unknown(data, ("name", "domain", "shared_tickets", "vip"))
        self._unique_name(self.organizations, data["name"])
        now = _now()
        organization = {
            "id": str(uuid.uuid4()),
            "domain": None,
            "shared_tickets": False,
            "vip": False,
            "member_count": 0,
            "created_at": now,
            "updated_at": now,
            **data,
        }
        self.organizations[organization["id"]] = organization
        return _wire(organization)

    def update_organization(self, organization_id: str, changes: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
        organization = self._organization(organization_id)
        if "name" in changes:
            self._unique_name(self.organizations, changes["name"], exclude=organization_id)
        organization.update(changes, updated_at=_now())
        return _wire(organization)

    def get_organization(self, organization_id: str) -> dict[str, Any]:
        return _wire(self._with_members(self._organization(organization_id), "organization_id"))

    def list_organizations(self, page: int = 1, limit: int = 20) -> dict[str, Any]:
        items = sorted(self.organizations.values(), key=lambda o: o["name"])
        chosen = [self._with_members(o, "organization_id") for o in items[(page - 1) * limit : page * limit]]
        return _wire({"items": chosen, "total": len(items)})

    def delete_organization(self, organization_id: str, actor: str | None = None) -> None:
        organization = self._organization(organization_id)
        if self._with_members(organization, "organization_id")["member_count"]:
            raise OrganizationInUse()
        del self.organizations[organization_id]

    def start_session(self, user_id: str) -> dict[str, Any]:
        user = self._user(user_id)
        if user["status"] != "active":
            raise InvalidCredentials()
        return self._issue(user_id, str(uuid.uuid4()))

    def rotate_refresh_token(self, jti: str) -> dict[str, Any]:
        token = self.refresh_tokens.get(jti)
        if token is None or token["family_id"] in self.revoked_families:
            raise InvalidRefreshToken()
        if token["spent"]:
            self.revoked_families.add(token["family_id"])
            raise RefreshTokenReused()
        token["spent"] = True
        session = self._issue(token["user_id"], token["family_id"])
        return {**session, "user": _wire(self.users[token["user_id"]])}

    def revoke_session(self, jti: str) -> None:
        token = self.refresh_tokens.get(jti)
        if token is not None:
            self.revoked_families.add(token["family_id"])

    def request_password_reset(self, email: str) -> None:
        user = self._by_email(email)
        if user is not None:
            self.reset_tokens[uuid.uuid4().hex] = user["id"]

    def reset_password(self, token: str, new_password: str) -> None:
        user_id = self.reset_tokens.get(token)
        if user_id is None:
            raise InvalidResetToken()
        self._check_password(new_password, self.users[user_id]["email"])
        del self.reset_tokens[token]
        self.passwords[user_id] = new_password
        self._revoke_all(user_id)

    # -- internals ----------------------------------------------------------------------------
    def _create(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._by_email(data["email"]) is not None:
            raise EmailAlreadyRegistered()
        self._check_password(data["password"], data["email"])
        self._check_references(data)
        fields = {key: value for key, value in data.items() if key not in ("email", "password", "role")}
        return self.add_user(
            email=data["email"], password=data["password"], role=data.get("role", "customer"), **fields
        )

    def _check_references(self, data: dict[str, Any]) -> None:
        if data.get("department_id") and data["department_id"] not in self.departments:
            raise ValidationFailed("Unknown department.", {"department_id": ["No such department."]})
        if data.get("organization_id") and data["organization_id"] not in self.organizations:
            raise ValidationFailed("Unknown organization.", {"organization_id": ["No such organization."]})

    @staticmethod
    def _check_password(password: str, email: str) -> None:
        problems = user_rules.password_problems(password, email=email)  # the service's own rule
        if problems:
            raise WeakPassword(problems[0], {"password": problems})

    @staticmethod
    def _reject_unknown(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:  # a real service would answer IncorrectSignature or ignore it; either hides a gateway bug
            raise AssertionError(f"the gateway sent fields outside the contract: {unknown}")

    @staticmethod
    def _unique_name(store: dict[str, dict[str, Any]], name: str, exclude: str | None = None) -> None:
        if any(item["name"].lower() == name.lower() and item["id"] != exclude for item in store.values()):
            raise Conflict("The name is taken.", {"name": ["The name is taken."]})

    def _by_email(self, email: str) -> dict[str, Any] | None:
        return next((user for user in self.users.values() if user["email"] == email.lower()), None)

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            raise UserNotFound()
        return self.users[user_id]

    def _department(self, department_id: str) -> dict[str, Any]:
        if department_id not in self.departments:
            raise DepartmentNotFound()
        return self.departments[department_id]

    def _organization(self, organization_id: str) -> dict[str, Any]:
        if organization_id not in self.organizations:
            raise OrganizationNotFound()
        return self.organizations[organization_id]

    def _with_members(self, item: dict[str, Any], key: str) -> dict[str, Any]:
        members = sum(1 for user in self.users.values() if user[key] == item["id"])
        return {**item, "member_count": members}

    @staticmethod
    def _touch(user: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        user.update(changes, updated_at=_now(), version=user["version"] + 1)
        return _wire(user)

    def _issue(self, user_id: str, family_id: str) -> dict[str, Any]:
        jti = uuid.uuid4().hex
        self.refresh_tokens[jti] = {"family_id": family_id, "user_id": user_id, "spent": False}
        expires_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        return {"jti": jti, "family_id": family_id, "expires_at": expires_at}

    def _revoke_all(self, user_id: str) -> None:
        self.revoked_families |= self.active_families(user_id)

ACTOR_KEYS = {"id", "role", "department_id", "organization_id", "via"}
TICKET_FIELDS = (
    "title", "description", "priority", "urgency", "impact", "category", "tags", "department_id", "source",
    "metadata", "requester_id",
)
EDITABLE_TICKET_FIELDS = ("title", "description", "priority", "urgency", "impact", "category", "tags", "metadata")
LIST_FILTERS = (
    "status", "priority", "assignee_id", "department_id", "requester_id", "category", "tag", "source",
    "created_from", "created_to", "q",
)
SORTABLE = ("created_at", "updated_at", "priority", "status", "number", "title")
CATEGORY_FIELDS = ("name", "description", "default_department_id", "required_skills")


class FakeTicketsService:
    """The RPC contract of ``services/tickets/service.py``, in memory, raising the contract's errors.

    Visibility as the service's ``rules.can_view``: managers see all; agents their department's, the
    unrouted and their own assigned tickets; customers the tickets they requested.
    """

    def __init__(self, users: FakeUsersService | None = None) -> None:
        self.users = users
        self.tickets: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.deleted: set[str] = set()
        self.categories: dict[str, dict[str, Any]] = {}
        self.link_rows: dict[frozenset[str], dict[str, Any]] = {}  # one per pair: {ticket_id, linked_id, kind, ...}
        self._sequence = 0
        self._clock = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    # -- test helpers -------------------------------------------------------------------------
    def add_ticket(self, requester_id: str, **fields: Any) -> dict[str, Any]:
        """Store a ticket directly (any status, any field) and return it as an agent sees it."""
        self._sequence += 1
        now = self._tick()
        ticket = {
            "id": str(uuid.uuid4()),
            "number": f"TKT-{self._sequence:06d}",
            "title": "Printer on fire",
            "description": "It smokes.",
            "status": "new",
            "priority": "medium",
            "urgency": None,
            "impact": None,
            "category": None,
            "tags": [],
            "requester_id": requester_id,
            "assignee_id": None,
            "department_id": None,
            "organization_id": None,
            "source": "web",
            "created_at": now,
            "updated_at": now,
            "first_response_at": None,
            "resolved_at": None,
            "closed_at": None,
            "reopen_count": 0,
            "version": 1,
            "resolution": None,
            "metadata": {},
            "unread": 0,
        }
        ticket.update(fields)
        self.tickets[ticket["id"]] = ticket
        self.comments[ticket["id"]] = []
        self.entries[ticket["id"]] = []
        self._record(ticket["id"], {"id": None, "role": "system", "via": "test"}, "created", None)
        return self._view(ticket, {"role": "admin"})

    # -- RPC methods --------------------------------------------------------------------------
    def ping(self) -> str:
        return "pong"

    def create(self, data: dict[str, Any], actor: dict[str, Any]) -> dict[str, Any]:
        self._check_actor(actor)
        self._reject_unknown(data, TICKET_FIELDS)
        requester_id = data.get("requester_id") or actor["id"]
        if requester_id != actor["id"]:
            self._staff(actor)
        fields = {key: value for key, value in data.items() if key != "requester_id"}
        if actor["role"] not in STAFF_ROLES:
            fields["organization_id"] = actor["organization_id"]
        fields["tags"] = sorted({tag.lower() for tag in fields.get("tags", [])})
        ticket = self.add_ticket(requester_id, **fields)
        return self._view(self.tickets[ticket["id"]], actor)

    def get(self, ticket_id: str, actor: dict[str, Any]) -> dict[str, Any]:
        self._check_actor(actor)
        return self._view(self._visible(ticket_id, actor), actor)

    def list(self, actor, filters=None, page=1, limit=20, sort_by="created_at", sort_order="desc"):
        self._check_actor(actor)
        if not 1 <= limit <= 100:
            raise ValidationFailed("limit must be between 1 and 100.", {"limit": ["Must be between 1 and 100."]})
        if sort_by not in SORTABLE or sort_order not in ("asc", "desc"):
            raise ValidationFailed("Unknown sort.", {"sort_by": ["Unknown sort field."]})
        found = self._matching(actor, filters or {})
        found.sort(key=lambda ticket: (ticket[sort_by], ticket["id"]), reverse=sort_order == "desc")
        chosen = found[(page - 1) * limit : page * limit]
        return {"items": [self._view(ticket, actor) for ticket in chosen], "total": len(found)}

    def search(self, actor, query, filters=None, page=1, limit=20):
        self._check_actor(actor)
        result = self.list(actor, {**(filters or {}), "q": query}, page=page, limit=limit, sort_by="updated_at")
        for item in result["items"]:
            item["highlight"] = item["title"]
        return result

    def update(self, ticket_id, changes, actor, expected_version=None):
        self._check_actor(actor)
        self._reject_unknown(changes, EDITABLE_TICKET_FIELDS)
        ticket = self._visible(ticket_id, actor)
        self._check_version(ticket, expected_version)
        if actor["role"] not in STAFF_ROLES and (set(changes) - {"title", "description"} or ticket["status"] != "new"):
            raise PermissionDenied("Only agents can change this ticket now.")
        return self._change(ticket, actor, "updated", changes)

    def change_status(self, ticket_id, status, actor, resolution=None, expected_version=None):
        self._check_actor(actor)
        if status not in TICKET_STATUSES:
            raise ValidationFailed(f"Unknown status {status!r}.", {"status": ["Unknown status."]})
        ticket = self._visible(ticket_id, actor)
        self._check_version(ticket, expected_version)
        if actor["role"] not in STAFF_ROLES:
            reopening = status == "open" and ticket["status"] in rules.REOPEN_FROM
            if actor["id"] != ticket["requester_id"] or not (status == "closed" or reopening):
                raise PermissionDenied("Customers can only close or reopen their own tickets.")
        legal = rules.legal_next(ticket["status"])
        if status not in legal:
            raise IllegalTransition(
                f"Cannot move a ticket from {ticket['status']} to {status}; allowed: {', '.join(legal)}.",
                {"status": [f"Allowed from {ticket['status']}: {', '.join(legal)}."]},
            )
        changes: dict[str, Any] = {"status": status}
        if status == "closed":
            changes["closed_at"] = self._tick()
        if resolution is not None and status in ("resolved", "closed"):
            changes["resolution"] = resolution
        return self._change(ticket, actor, "status_changed", changes)

    def close(self, ticket_id, actor, resolution=None, expected_version=None):
        return self.change_status(ticket_id, "closed", actor, resolution=resolution, expected_version=expected_version)

    def assign(self, ticket_id, actor, assignee_id=None, department_id=None, set_department=False,
               set_assignee=True, expected_version=None):
        self._check_actor(actor)
        self._staff(actor)
        if set_assignee and assignee_id is not None and self.users is not None:
            agent = self.users.users.get(assignee_id)
            if agent is None or agent["role"] not in STAFF_ROLES:
                raise ValidationFailed("The assignee must be an active agent.", {"assignee_id": ["Not an agent."]})
        ticket = self._visible(ticket_id, actor)
        self._check_version(ticket, expected_version)
        changes: dict[str, Any] = {"assignee_id": assignee_id} if set_assignee else {}
        if set_department:
            changes["department_id"] = department_id
        if assignee_id and ticket["status"] == "new":
            changes["status"] = "open"
        return self._change(ticket, actor, "assigned", changes)

    def change_priority(self, ticket_id, priority, actor, expected_version=None):
        self._check_actor(actor)
        self._staff(actor)
        if priority not in TICKET_PRIORITIES:
            raise ValidationFailed("Invalid input.", {"priority": ["Unknown priority."]})
        return self.update(ticket_id, {"priority": priority}, actor, expected_version=expected_version)

    def add_comment(self, ticket_id, data, actor):
        self._check_actor(actor)
        self._reject_unknown(data, ("body", "internal", "mentions"))
        internal = bool(data.get("internal", False))
        if internal and actor["role"] not in STAFF_ROLES:
            raise PermissionDenied("Only agents can write internal notes.")
        ticket = self._visible(ticket_id, actor)
        comment = {
            "id": str(uuid.uuid4()),
            "ticket_id": ticket["id"],
            "author_id": actor["id"],
            "author_role": actor["role"],
            "body": data["body"],
            "internal": internal,
            "mentions": list(data.get("mentions", [])),
            "created_at": self._tick(),
        }
        self.comments[ticket["id"]].append(comment)
        self._change(ticket, actor, "internal_note" if internal else "replied", {}, public=not internal)
        return comment

    def list_comments(self, ticket_id, actor):
        self._check_actor(actor)
        ticket = self._visible(ticket_id, actor)
        staff = actor["role"] in STAFF_ROLES
        return [comment for comment in self.comments[ticket["id"]] if staff or not comment["internal"]]

    def mark_read(self, ticket_id, actor):
        self._check_actor(actor)
        ticket = self._visible(ticket_id, actor)
        ticket["unread"] = 0
        return self._view(ticket, actor)

    def history(self, ticket_id, actor):
        self._check_actor(actor)
        ticket = self._visible(ticket_id, actor)
        staff = actor["role"] in STAFF_ROLES
        return [
            {key: value for key, value in entry.items() if key != "public"}
            for entry in self.entries[ticket["id"]]
            if staff or entry["public"]
        ]

    def delete(self, ticket_id, actor):
        self._check_actor(actor)
        if actor["role"] != "admin":
            raise PermissionDenied("Only admins can delete tickets.")
        ticket = self._visible(ticket_id, actor)
        self.deleted.add(ticket["id"])
        return None

    def stats(self, actor, filters=None):
        self._check_actor(actor)
        found = self._matching(actor, filters or {})  # as the service: "me" is the caller
        stats = {
            "total": len(found),
            "total_exact": True,
            "by_status": {status: sum(t["status"] == status for t in found) for status in TICKET_STATUSES},
            "by_priority": {p: sum(t["priority"] == p for t in found) for p in TICKET_PRIORITIES},
            "unread_messages": sum(t["unread"] or 0 for t in found),
            "unread_tickets": sum(bool(t["unread"]) for t in found),
        }
        if actor["role"] in STAFF_ROLES:
            stats["by_assignee"] = {}
            for ticket in found:
                key = ticket["assignee_id"] or "unassigned"
                stats["by_assignee"][key] = stats["by_assignee"].get(key, 0) + 1
            stats["by_department"] = {}
            for ticket in found:
                key = ticket["department_id"] or "none"
                stats["by_department"][key] = stats["by_department"].get(key, 0) + 1
        return stats

    def tags(self, actor):
        self._check_actor(actor)
        counts: dict[str, int] = {}
        for ticket in self._matching(actor, {}):
            for tag in ticket["tags"]:
                counts[tag] = counts.get(tag, 0) + 1
        return [{"tag": tag, "count": count} for tag, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    # -- categories, merging, links ---------------------------------------------------------------
    def create_category(self, data, actor):
        self._check_actor(actor)
        self._reject_unknown(data, CATEGORY_FIELDS)
        self._admin(actor)
        self._unique_category(data["name"])
        now = self._tick()
        category = {"id": str(uuid.uuid4()), "name": data["name"], "description": data.get("description"),
                    "default_department_id": data.get("default_department_id"),
                    "required_skills": list(dict.fromkeys(data.get("required_skills", []))),
                    "created_at": now, "updated_at": now}
        self.categories[category["id"]] = category
        return dict(category)

    def list_categories(self, actor):
        self._check_actor(actor)
        items = sorted(self.categories.values(), key=lambda c: c["name"].lower())
        return {"items": [dict(c) for c in items], "total": len(items)}

    def get_category(self, category_id, actor):
        self._check_actor(actor)
        return dict(self._category(category_id))

    def update_category(self, category_id, changes, actor):
        self._check_actor(actor)
        self._reject_unknown(changes, CATEGORY_FIELDS)
        self._admin(actor)
        category = self._category(category_id)
        if "name" in changes:
            self._unique_category(changes["name"], exclude=category_id)
        if "required_skills" in changes:
            changes = {**changes, "required_skills": list(dict.fromkeys(changes["required_skills"]))}
        category.update(changes, updated_at=self._tick())
        return dict(category)

    def delete_category(self, category_id, actor):
        self._check_actor(actor)
        self._admin(actor)
        del self.categories[self._category(category_id)["id"]]

    def merge(self, ticket_id, target_id, actor, confirm_different_requesters=False):
        self._check_actor(actor)
        self._staff(actor)
        if ticket_id == target_id:
            raise Conflict("A ticket cannot be merged into itself.", {"target_id": ["Same ticket."]})
        duplicate, target = self._visible(ticket_id, actor), self._visible(target_id, actor)
        if duplicate["metadata"].get("merged_into") or target["metadata"].get("merged_into"):
            raise Conflict("Already merged.", {"target_id": ["Merged ticket."]})
        if "closed" in (duplicate["status"], target["status"]):
            raise Conflict("Cannot merge a closed ticket; reopen it first.", {"target_id": ["Closed ticket."]})
        if duplicate["requester_id"] != target["requester_id"] and confirm_different_requesters is not True:
            raise Conflict("The tickets have different requesters; send confirm_different_requesters: true.",
                           {"confirm_different_requesters": ["Required when the requesters differ."]})
        moved = self.comments[duplicate["id"]]
        self.comments[target["id"]].extend({**c, "ticket_id": target["id"]} for c in moved)
        self.comments[duplicate["id"]] = []
        self._change(duplicate, actor, "merged", {"status": "closed", "closed_at": self._tick(),
                                                   "resolution": f"Merged into {target['number']}.",
                                                   "metadata": {**duplicate["metadata"], "merged_into": target["id"]}})
        self._change(target, actor, "merged", {})
        return {"ticket": self._view(duplicate, actor), "target": self._view(target, actor)}

    def link(self, ticket_id, other_id, kind, actor):
        self._check_actor(actor)
        self._staff(actor)
        if kind not in LINK_KINDS:
            raise ValidationFailed("Invalid input.", {"kind": ["Unknown kind."]})
        if ticket_id == other_id:
            raise Conflict("A ticket cannot be linked to itself.", {"other_id": ["Same ticket."]})
        ticket, other = self._visible(ticket_id, actor), self._visible(other_id, actor)
        pair = frozenset((ticket["id"], other["id"]))
        if pair in self.link_rows:
            raise Conflict("These tickets are already linked.", {"other_id": ["Already linked."]})
        self.link_rows[pair] = {"ticket_id": ticket["id"], "linked_id": other["id"], "kind": kind,
                            "created_at": self._tick(), "created_by": actor["id"]}
        return self._link_view(ticket["id"], self.link_rows[pair])

    def unlink(self, ticket_id, other_id, actor):
        self._check_actor(actor)
        self._staff(actor)
        ticket, other = self._visible(ticket_id, actor), self._visible(other_id, actor)
        if self.link_rows.pop(frozenset((ticket["id"], other["id"])), None) is None:
            raise NotFound("These tickets are not linked.")

    def links(self, ticket_id, actor):
        self._check_actor(actor)
        ticket = self._visible(ticket_id, actor)
        found = [link for pair, link in self.link_rows.items() if ticket["id"] in pair]
        return [
            self._link_view(ticket["id"], link) for link in found
            if self._can_view(actor, self.tickets[link["linked_id"] if link["ticket_id"] == ticket["id"]
                                                  else link["ticket_id"]])
        ]

    @staticmethod
    def _admin(actor: dict[str, Any]) -> None:
        if actor["role"] != "admin":
            raise PermissionDenied("Only admins can manage categories.")

    def _category(self, category_id: str) -> dict[str, Any]:
        if category_id not in self.categories:
            raise NotFound("No such category.")
        return self.categories[category_id]

    def _unique_category(self, name: str, exclude: str | None = None) -> None:
        if any(c["name"].lower() == name.lower() and c["id"] != exclude for c in self.categories.values()):
            raise Conflict(f"A category named {name!r} already exists.", {"name": ["Already taken."]})

    def _link_view(self, ticket_id: str, link: dict[str, Any]) -> dict[str, Any]:
        mine = link["ticket_id"] == ticket_id
        other = self.tickets[link["linked_id"] if mine else link["ticket_id"]]
        kind = link["kind"] if mine else INVERSE_LINK_KIND[link["kind"]]
        return {"ticket_id": ticket_id, "other_id": other["id"], "kind": kind, "number": other["number"],
                "title": other["title"], "status": other["status"], "created_at": link["created_at"],
                "created_by": link["created_by"]}

    # -- internals ----------------------------------------------------------------------------
    @staticmethod
    def _check_actor(actor: Any) -> None:
        if not isinstance(actor, dict) or set(actor) != ACTOR_KEYS or actor["via"] != "gateway":
            raise AssertionError(f"the gateway sent an actor outside the contract: {actor!r}")
        if actor["role"] not in ROLES:
            raise ValidationFailed("A valid actor is required.", {"actor": ["Must carry id and role."]})

    @staticmethod
    def _staff(actor: dict[str, Any]) -> None:
        if actor["role"] not in STAFF_ROLES:
            raise PermissionDenied("Only agents can do this.")

    @staticmethod
    def _reject_unknown(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise AssertionError(f"the gateway sent fields outside the contract: {unknown}")

    @staticmethod
    def _can_view(actor: dict[str, Any], ticket: dict[str, Any]) -> bool:
        # the service's own rule (organization sharing aside: the fake keeps no organizations projection)
        return rules.can_view(
            rules.Actor(id=actor["id"], role=actor["role"], department_id=actor["department_id"]),
            requester_id=ticket["requester_id"], department_id=ticket["department_id"],
            assignee_id=ticket["assignee_id"],
        )

    def _visible(self, ticket_id: str, actor: dict[str, Any]) -> dict[str, Any]:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ticket_id in self.deleted or not self._can_view(actor, ticket):
            raise TicketNotFound()
        return ticket

    @staticmethod
    def _check_version(ticket: dict[str, Any], expected_version: int | None) -> None:
        if expected_version is not None and int(expected_version) != ticket["version"]:
            raise StaleTicket(
                f"The ticket changed since you read it (you had version {expected_version}, "
                f"it is now {ticket['version']}).",
                {"version": [str(ticket["version"])]},
            )

    def _matching(self, actor: dict[str, Any], filters: dict[str, Any]) -> list[dict]:
        self._reject_unknown(filters, LIST_FILTERS)
        for key in ("created_from", "created_to"):
            if key in filters and datetime.fromisoformat(filters[key]).tzinfo is None:
                raise ValidationFailed("Invalid input.", {key: ["Not a valid aware datetime."]})
        found = []
        for ticket in self.tickets.values():
            if ticket["id"] in self.deleted or not self._can_view(actor, ticket):
                continue
            if not self._passes(ticket, filters, actor):
                continue
            found.append(ticket)
        return found

    @staticmethod
    def _passes(ticket: dict[str, Any], filters: dict[str, Any], actor: dict[str, Any]) -> bool:
        for key in ("status", "priority"):
            wanted = filters.get(key)
            if isinstance(wanted, str):
                wanted = wanted.split(",")
            if wanted and ticket[key] not in wanted:
                return False
        for key in ("department_id", "requester_id", "category", "source"):
            if filters.get(key) and ticket[key] != filters[key]:
                return False
        assignee = filters.get("assignee_id")
        if assignee == "me":
            assignee = actor["id"]
        if assignee == "none" and ticket["assignee_id"] is not None:
            return False
        if assignee and assignee != "none" and ticket["assignee_id"] != assignee:
            return False
        if filters.get("tag") and filters["tag"] not in ticket["tags"]:
            return False
        created = datetime.fromisoformat(ticket["created_at"])
        if filters.get("created_from") and created < datetime.fromisoformat(filters["created_from"]):
            return False
        if filters.get("created_to") and created > datetime.fromisoformat(filters["created_to"]):
            return False
        q = (filters.get("q") or "").lower()
        return not q or q in ticket["title"].lower() or q in ticket["description"].lower()

    def _change(self, ticket, actor, action, changes, *, public=True):
        for field_name, value in changes.items():
            if ticket[field_name] != value:
                self._record(ticket["id"], actor, action, field_name, ticket[field_name], value, public=public)
                ticket[field_name] = value
        if not changes:
            self._record(ticket["id"], actor, action, None, public=public)
        ticket["updated_at"] = self._tick()
        ticket["version"] += 1
        return self._view(ticket, actor)

    def _record(self, ticket_id, actor, action, field_name, before=None, after=None, *, public=True):
        entries = self.entries.setdefault(ticket_id, [])
        entries.append(
            {
                "id": sum(len(e) for e in self.entries.values()) + 1,
                "at": self._clock.isoformat(),
                "actor_id": actor["id"],
                "actor_role": actor["role"],
                "via": actor["via"],
                "action": action,
                "field": field_name,
                "before": before,
                "after": after,
                "public": public,
            }
        )

    def _view(self, ticket: dict[str, Any], actor: dict[str, Any]) -> dict[str, Any]:
        view = _wire(ticket)
        if actor["role"] not in STAFF_ROLES:
            view.pop("metadata")
        # its category's skills as they are now (none for a name no category has), as the service answers
        category = next((c for c in self.categories.values()
                         if ticket["category"] and c["name"].casefold() == ticket["category"].casefold()), None)
        view["required_skills"] = list(category.get("required_skills", [])) if category else []
        return view

    def _tick(self) -> str:
        self._clock += timedelta(minutes=1)
        return self._clock.isoformat()


@dataclass
class RecordedCall:
    """One call the gateway made through the fake pool."""

    service: str
    method: str
    args: tuple
    kwargs: dict
    correlation_id: str | None


class FakeRpc:
    """The gateway's RPC pool, dispatching to in-memory services; ``failures`` makes a service fail."""

    def __init__(self, **services: Any):
        self.services = services
        self.calls: list[RecordedCall] = []
        self.failures: dict[str, Exception] = {}

    def call(self, service: str, method: str, *args: Any, rpc_timeout: float | None = None, **kwargs: Any) -> Any:
        self.calls.append(RecordedCall(service, method, args, kwargs, get_correlation_id()))
        if service in self.failures:
            raise self.failures[service]
        target = self.services.get(service)
        if target is None:  # what RpcPool answers for nameko's UnknownService
            raise ServiceUnavailable.for_service(service)
        handler = getattr(target, method, None)
        if handler is None or method.startswith("_"):  # nameko's MethodNotFound, which RpcPool answers as a 500
            raise UnexpectedServiceError()
        return _wire(handler(*_wire(list(args)), **_wire(kwargs)))

    def ping_all(self, services: list[str], timeout: float = 1.5) -> dict[str, str]:
        states = {}
        for service in services:
            try:
                states[service] = "ok" if self.call(service, "ping", rpc_timeout=timeout) == "pong" else "error"
            except ServiceTimeout:
                states[service] = "timeout"
            except ServiceUnavailable:
                states[service] = "unavailable"
        return states

    def methods_called(self, service: str = "users") -> list[str]:
        return [call.method for call in self.calls if call.service == service]

    def calls_to(self, service: str, method: str) -> list[RecordedCall]:
        """Return the calls made to ``service.method``, oldest first."""
        return [call for call in self.calls if call.service == service and call.method == method]


@dataclass
class ScriptedProxy:
    """A pooled proxy whose calls answer from a script: a value, or an exception to raise.

    ``hang`` makes calls wait that long first (to stand in for a slow service), unless ``release`` is set.
    """

    script: list[Any] = field(default_factory=list)
    healthy: bool = True
    start_error: BaseException | None = None
    hang: float = 0.0
    started: bool = False
    stopped: bool = False
    replayed: bool = False  # what AmqpProxy says of a reply answered from a service's command record
    calls: list[dict[str, Any]] = field(default_factory=list)
    called: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        if self.start_error is not None:
            raise self.start_error
        self.started = True

    def is_healthy(self) -> bool:
        return self.healthy

    def call(self, service, method, args, kwargs, *, timeout, correlation_id, command=None):
        self.calls.append(
            {
                "service": service,
                "method": method,
                "args": args,
                "kwargs": kwargs,
                "timeout": timeout,
                "correlation_id": correlation_id,
                "command": command,
            }
        )
        self.called.set()
        if self.hang:
            self.release.wait(self.hang)  # stands in for a slow service
        outcome = self.script.pop(0) if self.script else "pong"
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self) -> None:
        self.stopped = True


class ProxyFactory:
    """Hands out prepared proxies (then default ones) and remembers every proxy it made."""

    def __init__(self, *prepared: ScriptedProxy):
        self.prepared = list(prepared)
        self.made: list[ScriptedProxy] = []
        self._lock = threading.Lock()

    def __call__(self) -> ScriptedProxy:
        with self._lock:
            proxy = self.prepared.pop(0) if self.prepared else ScriptedProxy()
            self.made.append(proxy)
            return proxy


ATTACHMENT_TYPES = {"png": "image/png", "pdf": "application/pdf", "txt": "text/plain", "csv": "text/csv"}


class FakeTicketsServiceWithAttachments(FakeTicketsService):
    """The fake tickets service plus the attachments RPCs, reading uploads from ``storage_root``.

    Like the service: the gateway must have stored the bytes under ``meta["storage_key"]`` before the
    call; an upload refused here (type, size, visibility) is deleted from the storage.
    """

    def __init__(self, users: FakeUsersService | None = None, *, storage_root=None, max_bytes: int = 10 * 1024 * 1024):
        super().__init__(users)
        self.storage_root = storage_root
        self.max_bytes = max_bytes
        self.attachments: dict[str, dict[str, Any]] = {}

    def _blob(self, key: str):
        return self.storage_root / key[:2] / key

    def add_attachment(self, ticket_id, meta, actor):
        self._check_actor(actor)
        self._reject_unknown(meta, ("storage_key", "filename", "comment_id", "internal"))
        blob = self._blob(meta["storage_key"])
        try:
            ticket = self._visible(ticket_id, actor)
            if meta.get("internal"):
                self._staff(actor)
            ext = meta["filename"].rpartition(".")[2].lower()
            if ext not in ATTACHMENT_TYPES:
                raise ValidationFailed("This type of file is not accepted.", {"file": ["Not allowed."]})
            data = blob.read_bytes()
            if ext == "png" and not data.startswith(b"\x89PNG"):
                raise ValidationFailed("The file's content does not match its extension.", {"file": ["Not a png."]})
            if len(data) > self.max_bytes:
                raise ValidationFailed("The file is too large.", {"file": ["Too large."]})
        except Exception:
            blob.unlink(missing_ok=True)
            raise
        attachment = {
            "id": str(uuid.uuid4()), "ticket_id": ticket["id"], "comment_id": meta.get("comment_id"),
            "filename": meta["filename"], "content_type": ATTACHMENT_TYPES[ext], "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "uploaded_by": actor["id"],
            "internal": bool(meta.get("internal")), "created_at": self._tick(), "storage_key": meta["storage_key"],
        }
        self.attachments[attachment["id"]] = attachment
        return self._attachment_view(attachment)

    def list_attachments(self, ticket_id, actor):
        self._check_actor(actor)
        ticket = self._visible(ticket_id, actor)
        staff = actor["role"] in STAFF_ROLES
        return [self._attachment_view(a) for a in self.attachments.values()
                if a["ticket_id"] == ticket["id"] and (staff or not a["internal"])]

    def get_attachment(self, attachment_id, actor):
        self._check_actor(actor)
        attachment = self._visible_attachment(attachment_id, actor)
        key = attachment["storage_key"]
        return {**self._attachment_view(attachment), "storage_key": key, "storage_path": f"{key[:2]}/{key}"}

    def delete_attachment(self, attachment_id, actor):
        self._check_actor(actor)
        attachment = self._visible_attachment(attachment_id, actor)
        if attachment["uploaded_by"] != actor["id"] and actor["role"] not in STAFF_ROLES:
            raise PermissionDenied("Only its uploader or an agent can remove an attachment.")
        del self.attachments[attachment_id]
        self._blob(attachment["storage_key"]).unlink(missing_ok=True)

    def _visible_attachment(self, attachment_id, actor):
        attachment = self.attachments.get(attachment_id)
        try:
            if attachment is None:
                raise TicketNotFound()
            self._visible(attachment["ticket_id"], actor)
        except TicketNotFound:
            raise NotFound("Attachment not found.") from None
        if attachment["internal"] and actor["role"] not in STAFF_ROLES:
            raise NotFound("Attachment not found.")
        return attachment

    @staticmethod
    def _attachment_view(attachment):
        return _wire({k: v for k, v in attachment.items() if k != "storage_key"})


class FakeAutomationService:
    """The RPC contract of ``services/automation/service.py`` (its questions and the strategies), in memory.

    The rules are the service's own: who may ask and what agents see (``services.automation.handlers.common``),
    which statuses count against an agent's capacity (``domain.model``). Tests seed what the router would have
    learnt from the events: the tickets it follows (``track_ticket``) and its decisions (``add_decision``);
    its agents are the fake users service's staff. Response templates and automation rules are the service's own
    handlers on its in-memory unit of work (``tests/unit/automation/fakes.py``): every rule is the real one; the
    people, departments and tickets they look up are the fake users and tickets services' (``add_rule_run``
    seeds what a rule did, which only ticket events make happen).
    """

    def __init__(self, users: FakeUsersService | None = None, tickets: FakeTicketsService | None = None) -> None:
        self.users = users
        self.store = FakeAutomationUnitOfWork()  # the templates and rules, and the events they emitted
        self.directory = _UsersDirectory(users)
        self.desk = _TicketsDesk(tickets)
        self.tickets: dict[str, TrackedTicket] = {}
        self.decisions: list[dict[str, Any]] = []
        self.strategies: dict[str, dict[str, Any]] = {}
        self.last_assigned: dict[str, datetime] = {}
        self._sequence = 0
        self._clock = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    # -- test helpers -------------------------------------------------------------------------
    def track_ticket(self, **fields: Any) -> TrackedTicket:
        """Have the router follow a ticket: one new, open or in progress without ``assignee_id`` is in its backlog."""
        self._sequence += 1
        ticket = TrackedTicket(**{
            "id": str(uuid.uuid4()), "number": f"TKT-{self._sequence:06d}", "title": "Printer on fire",
            "status": "new", "priority": "medium", "department_id": None, "category": None, "assignee_id": None,
            "requester_id": str(uuid.uuid4()), "created_at": self._tick(), "version": 1, **fields,
        })
        self.tickets[ticket.id] = ticket
        return ticket

    def add_decision(self, ticket: TrackedTicket, *, agent_id: str | None = None, strategy: str = DEFAULT_STRATEGY,
                     trigger: str = "ticket.created", candidates: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Record a decision on a followed ticket: to ``agent_id``, or (without one) to the backlog."""
        at = self._tick()
        decision = {
            "id": str(uuid.uuid4()), "ticket_id": ticket.id, "ticket_number": ticket.number,
            "department_id": ticket.department_id, "at": at, "outcome": ASSIGNED if agent_id else QUEUED,
            "agent_id": agent_id, "strategy": strategy, "trigger": trigger,
            "reason": "least loaded in any department" if agent_id else "no agent in any department",
            "candidates": candidates if candidates is not None else [],
        }
        self.decisions.append(decision)
        if agent_id:
            ticket.assignee_id = agent_id
            self.last_assigned[agent_id] = at
        elif ticket.queued_since is None:
            ticket.queued_since = at
        return _wire({**decision, "at": at.isoformat()})

    def add_rule_run(self, rule: dict[str, Any], ticket_id: str, *, outcome: str = "applied",
                     steps: list[dict[str, Any]] | None = None, error: str | None = None,
                     trigger: str = "ticket.created") -> dict[str, Any]:
        """Record that a rule ran on a ticket (as running it on an event would), one minute after the last run."""
        with self.store as uow:
            run = uow.rule_runs.add({
                "rule_id": rule["id"], "rule_name": rule["name"], "ticket_id": ticket_id, "event_id": str(uuid.uuid4()),
                "trigger": trigger, "at": self._tick(), "outcome": outcome, "steps": steps or [], "error": error,
            })
            uow.commit()
        return _wire({**run, "at": run["at"].isoformat()})

    # -- RPC methods --------------------------------------------------------------------------
    def ping(self) -> str:
        return "pong"

    def list_decisions(self, actor, ticket_id=None, page=1, limit=20):
        caller = self._staff(actor)
        page, limit = page_args(page, limit)
        if ticket_id is not None:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or not automation_rules.may_see(caller, ticket):
                raise TicketNotFound()
            found = [d for d in self.decisions if d["ticket_id"] == ticket.id]
        else:
            seen = automation_rules.departments_seen(caller)
            found = [d for d in self.decisions if seen is None or d["department_id"] in seen]
        found.sort(key=lambda d: d["id"])
        found.sort(key=lambda d: d["at"], reverse=True)
        chosen = found[(page - 1) * limit : page * limit]
        return _wire({"items": [{**d, "at": d["at"].isoformat()} for d in chosen], "total": len(found)})

    def backlog(self, actor, department_id=None, page=1, limit=20):
        caller = self._staff(actor)
        page, limit = page_args(page, limit)
        seen = automation_rules.departments_seen(caller)
        if department_id is not None:
            if seen is not None and department_id not in seen:
                return {"items": [], "total": 0}
            seen = [department_id]
        manual = {d for d, row in self.strategies.items() if row["strategy"] == MANUAL_ONLY}
        waiting = [t for t in self.tickets.values()
                   if t.working and t.assignee_id is None and t.department_id not in manual
                   and (seen is None or t.department_id in seen)]
        # the service's order: SLA due time (none last), priority (urgent first), age (oldest first)
        waiting.sort(key=lambda t: (t.sla_due_at is None, t.sla_due_at or self._clock, -PRIORITY_RANK[t.priority],
                                    t.created_at, t.id))
        offset = (page - 1) * limit
        return _wire({"items": [{
            "position": offset + number, "ticket_id": t.id, "number": t.number, "title": t.title,
            "priority": t.priority, "status": t.status, "department_id": t.department_id, "category": t.category,
            "created_at": t.created_at.isoformat(), "queued_since": _iso(t.queued_since),
            "sla_due_at": _iso(t.sla_due_at),
        } for number, t in enumerate(waiting[offset : offset + limit], start=1)], "total": len(waiting)})

    def workload(self, user_id, actor):
        caller = self._staff(actor)
        if not caller.is_manager and caller.id != user_id:
            raise UserNotFound("Agents see only their own workload.")
        user = (self.users.users if self.users is not None else {}).get(user_id)
        if user is None or user["role"] not in STAFF_ROLES:  # the router keeps no customers
            raise UserNotFound()
        by_status: dict[str, int] = {}
        for ticket in self.tickets.values():
            if ticket.assignee_id == user_id and not ticket.deleted:
                by_status[ticket.status] = by_status.get(ticket.status, 0) + 1
        working = sum(by_status.get(status, 0) for status in WORKING_STATUSES)
        maximum = int(user["max_concurrent_tickets"] or 0)
        return _wire({
            "user_id": user["id"], "name": user["name"], "role": user["role"], "status": user["status"],
            "availability": user["availability"] or "offline", "department_id": user["department_id"],
            "skills": sorted(set(user["skills"])), "max_concurrent_tickets": maximum, "working_tickets": working,
            "capacity_left": max(maximum - working, 0), "at_capacity": working >= maximum,
            "by_status": dict(sorted(by_status.items())), "last_assigned_at": _iso(self.last_assigned.get(user_id)),
        })

    def list_strategies(self, actor):
        self._staff(actor)
        rows = [self._strategy_view(row) for _, row in sorted(self.strategies.items())]
        return {"items": rows, "total": len(rows)}

    def set_strategy(self, department_id, strategy, actor):
        FakeTicketsService._check_actor(actor)
        caller = automation_rules.actor_from(actor)
        automation_rules.require_admin(caller)
        if strategy not in ROUTING_STRATEGIES:
            raise ValidationFailed(f"Unknown strategy {strategy!r}.",
                                   {"strategy": [f"Must be one of: {', '.join(ROUTING_STRATEGIES)}."]})
        if self.users is None or department_id not in self.users.departments:
            raise DepartmentNotFound()
        self.strategies[department_id] = {"department_id": department_id, "strategy": strategy,
                                          "updated_at": self._tick(), "updated_by": caller.id}
        return self._strategy_view(self.strategies[department_id])

    def create_template(self, data, actor):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.create_template(data, actor, uow=uow))

    def get_template(self, template_id, actor):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.get_template(template_id, actor, uow=uow))

    def list_templates(self, actor, page=1, limit=20):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.list_templates(actor, page, limit, uow=uow))

    def update_template(self, template_id, changes, actor):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.update_template(template_id, changes, actor, uow=uow))

    def delete_template(self, template_id, actor):
        self._check_actor(actor)
        with self.store as uow:
            return automation_handlers.delete_template(template_id, actor, uow=uow)

    def render_template(self, template_id, context, actor, ticket_id=None):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.render_template(template_id, context, actor, uow=uow, desk=self.desk,
                                                             directory=self.directory, ticket_id=ticket_id))

    def create_rule(self, data, actor):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.create_rule(data, actor, uow=uow, directory=self.directory))

    def get_rule(self, rule_id, actor):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.get_rule(rule_id, actor, uow=uow))

    def list_rules(self, actor, page=1, limit=20):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.list_rules(actor, page, limit, uow=uow))

    def update_rule(self, rule_id, changes, actor):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.update_rule(rule_id, changes, actor, uow=uow, directory=self.directory))

    def toggle_rule(self, rule_id, actor, enabled=None):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.toggle_rule(rule_id, enabled, actor, uow=uow))

    def delete_rule(self, rule_id, actor):
        self._check_actor(actor)
        with self.store as uow:
            return automation_handlers.delete_rule(rule_id, actor, uow=uow)

    def test_rules(self, data, actor):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.dry_run(data, actor, uow=uow, desk=self.desk, directory=self.directory))

    def list_rule_runs(self, actor, ticket_id=None, rule_id=None, page=1, limit=20):
        self._check_actor(actor)
        with self.store as uow:
            return _wire(automation_handlers.list_rule_runs(actor, uow=uow, ticket_id=ticket_id, rule_id=rule_id,
                                                            page=page, limit=limit))

    # -- internals ----------------------------------------------------------------------------
    @staticmethod
    def _check_actor(actor: Any) -> None:
        FakeTicketsService._check_actor(actor)  # the gateway's actor, as every service receives it

    @staticmethod
    def _staff(actor: Any) -> automation_rules.Actor:
        FakeTicketsService._check_actor(actor)  # the gateway's actor, as every service receives it
        caller = automation_rules.actor_from(actor)
        automation_rules.require_staff(caller)
        return caller

    @staticmethod
    def _strategy_view(row: dict[str, Any]) -> dict[str, Any]:
        return _wire({**row, "updated_at": row["updated_at"].isoformat()})

    def _tick(self) -> datetime:
        self._clock += timedelta(minutes=1)
        return self._clock


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class _UsersDirectory:
    """The people and departments the automation handlers look up (``handlers.ports.Directory``): the fake users
    service's."""

    def __init__(self, users: FakeUsersService | None) -> None:
        self.users = users or FakeUsersService()

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        user = self.users.users.get(user_id)
        return _wire(user) if user is not None else None

    def get_organization(self, organization_id: str) -> dict[str, Any] | None:
        organization = self.users.organizations.get(organization_id)
        return _wire(organization) if organization is not None else None

    def department_exists(self, department_id: str) -> bool:
        return department_id in self.users.departments

    def staff(self) -> Iterator[list[dict[str, Any]]]:
        yield [_wire(user) for user in self.users.users.values() if user["role"] in STAFF_ROLES]


class _TicketsDesk:
    """The tickets the automation handlers read (``handlers.ports.TicketDesk``): the fake tickets service's.

    Reading only: a dry run changes nothing, and no gateway call runs rules on an event.
    """

    def __init__(self, tickets: FakeTicketsService | None) -> None:
        self.tickets = tickets or FakeTicketsService()

    def get(self, ticket_id: str) -> dict[str, Any] | None:
        ticket = self.tickets.tickets.get(ticket_id)
        return _wire(ticket) if ticket is not None and ticket_id not in self.tickets.deleted else None

    def get_as(self, ticket_id: str, actor: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return _wire(self.tickets.get(ticket_id, actor))
        except (NotFound, PermissionDenied):  # not found, or not the caller's to see
            return None
