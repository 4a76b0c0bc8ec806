"""Every service's migrations build exactly the schema its code maps (no drift), up and down."""

import pytest
from alembic import command
from alembic.config import Config

from helpdesk_common.testing import REPO_ROOT

SERVICES = ["users", "tickets"]


def _config(service, url):
    cfg = Config(str(REPO_ROOT / f"services/{service}/alembic.ini"))
    cfg.attributes["database_url"] = url
    return cfg


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_mapped_tables(service, database_factory):
    cfg = _config(service, database_factory.create(service))
    command.upgrade(cfg, "head")

    command.check(cfg)  # raises when autogenerate would still find something to do


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_downgrade_to_base_and_up_again(service, database_factory):
    cfg = _config(service, database_factory.create(service))
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")

    command.upgrade(cfg, "head")
    command.check(cfg)


@pytest.mark.parametrize(("service", "before", "table", "extra"), [
    ("users", "0001", "departments", {}),
    ("users", "0001", "organizations", {"shared_tickets": False}),
    ("tickets", "0010", "ticket_categories", {}),
])
def test_name_keys_migration_renames_names_that_collide_once_folded(service, before, table, extra, database_factory):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine, text

    url = database_factory.create(service)
    cfg = _config(service, url)
    command.upgrade(cfg, before)
    engine = create_engine(url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    columns = ", ".join(["id", "name", "created_at", "updated_at", *extra])
    values = ", ".join([":id", ":name", ":at", ":at", *(f":{k}" for k in extra)])
    with engine.begin() as conn:
        for i, name in enumerate(["Équipe", "équipe", "Other", "ÉQUIPE"]):
            conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"),
                         {"id": f"{i:036d}", "name": name, "at": t0 + timedelta(minutes=i), **extra})

    command.upgrade(cfg, "head")

    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT name, name_key FROM {table} ORDER BY id")).all()
    engine.dispose()
    assert rows == [("Équipe", "équipe"), ("équipe (2)", "équipe (2)"), ("Other", "other"), ("ÉQUIPE (3)", "équipe (3)")]
