"""Seed the rules the product comes with once: ``HELPDESK_DEMO=1 python -m services.automation.seed``.

Idempotent (looks rules up by name first; a rule an admin deleted comes back only on a fresh database
if it is missing by name). Their ``rule.created`` events go to the outbox and are published when the
service starts.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import SystemClock
from helpdesk_common.config import database_url
from helpdesk_common.db import make_engine
from services.automation import handlers
from services.automation.adapters.orm import start_mappers
from services.automation.adapters.uow import AutomationUnitOfWork
from services.automation.domain.predefined import PREDEFINED


def seed(url: str) -> list[str]:
    """Create whichever predefined rule is missing; return the names created."""
    start_mappers()
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    created = []
    for rule in PREDEFINED:
        with AutomationUnitOfWork(factory, producer="automation", clock=SystemClock()) as uow:
            if uow.rules.find_by_name(rule["name"]) is None:
                handlers.ship_rule(rule, uow=uow)
                created.append(rule["name"])
    engine.dispose()
    return created


def main() -> int:
    if os.environ.get("HELPDESK_DEMO") != "1":
        print("automation seed: HELPDESK_DEMO is not 1, nothing seeded")
        return 0
    created = seed(database_url("automation"))
    print("automation seed: " + (", ".join(created) if created else "the predefined rules are already there"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
