"""Seed the demo data of API.md once: ``HELPDESK_DEMO=1 python -m services.users.seed``.

Idempotent (looks records up by e-mail and name first). Events go to the outbox and are published when
the service starts. Production never sets HELPDESK_DEMO.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import SystemClock
from helpdesk_common.config import database_url
from helpdesk_common.db import make_engine
from helpdesk_common.uow import UnitOfWork
from services.users import handlers
from services.users.adapters.orm import start_mappers
from services.users.adapters.passwords import Argon2PasswordHasher
from services.users.adapters.uow import UsersUnitOfWork

DEPARTMENTS = [
    ("Redes y Servidores", "Networks, servers and connectivity.", 4),
    ("Hardware y Impresoras", "Computers, peripherals and printers.", 8),
    ("Software y Bases de Datos", "Applications, licences and databases.", 8),
]
ORGANIZATION = "Acme S.A."  # a VIP customer, for the automation rules that match on it
# (email, password, name, role, department, skills)
USERS = [
    ("admin@example.com", "admin123", "Admin", "admin", None, []),
    ("carlos@example.com", "carlos123", "Ing. Carlos", "agent", "Redes y Servidores", ["redes", "servidores", "vpn"]),
    ("maria@example.com", "maria123", "Ing. María", "agent", "Hardware y Impresoras", ["hardware", "impresoras"]),
    ("jorge@example.com", "jorge123", "Ing. Jorge", "agent", "Software y Bases de Datos", ["software", "bases-de-datos"]),
    ("ana@example.com", "ana123", "Ana Cliente", "customer", None, []),
]


def seed(url: str) -> list[str]:
    """Create whatever demo record is missing; return what was created."""
    start_mappers()
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    passwords = Argon2PasswordHasher()
    created: list[str] = []

    def uow() -> UnitOfWork:
        return UsersUnitOfWork(factory, producer="users", clock=SystemClock())

    with uow() as u:
        department_ids = {}
        for name, *_ in DEPARTMENTS:
            found = u.departments.find_by_name(name)
            department_ids[name] = found.id if found else None
        organization = u.organizations.find_by_name(ORGANIZATION)
        organization_id = organization.id if organization else None
        existing = {email for email, *_ in USERS if u.users.find_user_by_email(email)}

    for name, description, sla in DEPARTMENTS:
        if department_ids[name] is None:
            with uow() as u:
                department_ids[name] = handlers.create_department(
                    {"name": name, "description": description, "default_sla_hours": sla}, uow=u
                )["id"]
            created.append(f"department {name}")
    if organization_id is None:
        with uow() as u:
            organization_id = handlers.create_organization(
                {"name": ORGANIZATION, "domain": "acme.example", "vip": True}, uow=u)["id"]
        created.append(f"organization {ORGANIZATION}")
    for email, password, name, role, department, skills in USERS:
        if email in existing:
            continue
        data = {"email": email, "password": password, "name": name, "role": role, "skills": skills}
        if department:
            data["department_id"] = department_ids[department]
        if role == "customer":
            data["organization_id"] = organization_id
        with uow() as u:
            # the demo passwords of API.md are shorter than the policy allows: seeded on purpose
            handlers.create_user(data, uow=u, passwords=passwords, enforce_password_policy=False)
        created.append(f"user {email}")
    engine.dispose()
    return created


def main() -> int:
    if os.environ.get("HELPDESK_DEMO") != "1":
        print("users seed: HELPDESK_DEMO is not 1, nothing seeded")
        return 0
    created = seed(database_url("users"))
    print("users seed: " + (", ".join(created) if created else "demo data already there"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
