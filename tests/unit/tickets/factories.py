"""Builders shared by the tickets tests: callers (actor dicts), domain tickets and a fake users directory."""

from __future__ import annotations

import uuid
from typing import Any

DEPT_A = str(uuid.uuid4())
DEPT_B = str(uuid.uuid4())
ORG = str(uuid.uuid4())


def new_id() -> str:
    return str(uuid.uuid4())


def actor(
    role: str, *, department_id: str | None = None, organization_id: str | None = None, id: str | None = "new"
) -> dict[str, Any]:
    """Return the actor dict the gateway passes with every call (a fresh id unless given)."""
    return {
        "id": new_id() if id == "new" else id,
        "role": role,
        "department_id": department_id,
        "organization_id": organization_id,
    }


class FakeDirectory:
    """The users service as the tickets handlers see it: ``get_*`` answer a copy or None.

    Departments DEPT_A and DEPT_B and the organization ORG exist unless a test removes them.
    """

    def __init__(self):
        self.users: dict[str, dict[str, Any]] = {}
        self.departments: dict[str, dict[str, Any]] = {d: _department(d) for d in (DEPT_A, DEPT_B)}
        self.organizations: dict[str, dict[str, Any]] = {ORG: {"id": ORG, "name": "Acme S.A."}}
        self.looked_up: list[str] = []
        self.searched: list[list[str]] = []

    def add(
        self, role: str = "agent", *, status: str = "active", department_id: str | None = None, id: str | None = None,
        email: str | None = None, organization_id: str | None = None,
    ) -> dict[str, Any]:
        user_id = id or new_id()
        user = {"id": user_id, "role": role, "status": status, "department_id": department_id,
                "organization_id": organization_id, "email": email or f"{role}-{user_id[:8]}@example.com"}
        self.users[user["id"]] = user
        return dict(user)

    def find_users(self, handles: list[str]) -> list[dict[str, Any]]:
        """Answer as the users service's ``find_users``: every whole-e-mail or local-part match."""
        self.searched.append(list(handles))
        return [dict(u) for u in self.users.values()
                if any(u["email"] == h if "@" in h else u["email"].startswith(f"{h}@") for h in handles)]

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        self.looked_up.append(user_id)
        user = self.users.get(user_id)
        return dict(user) if user else None

    def get_department(self, department_id: str) -> dict[str, Any] | None:
        self.looked_up.append(department_id)
        department = self.departments.get(department_id)
        return dict(department) if department else None

    def get_organization(self, organization_id: str) -> dict[str, Any] | None:
        self.looked_up.append(organization_id)
        organization = self.organizations.get(organization_id)
        return dict(organization) if organization else None


def _department(department_id: str) -> dict[str, Any]:
    return {"id": department_id, "name": f"Dept {department_id[:6]}", "updated_at": "2026-01-01T00:00:00+00:00"}
