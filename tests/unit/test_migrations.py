"""Every service's migrations build exactly the schema its code maps (no drift), up and down."""

import pytest
from alembic import command
from alembic.config import Config

from helpdesk_common.services import discover
from helpdesk_common.testing import REPO_ROOT

SERVICES = discover()


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


def test_tickets_categories_from_before_required_skills_require_none(database_factory):
    """Categories stored before migration 0014 read ``[]`` through the service's repository, and take skills."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from helpdesk_common.db import make_engine
    from services.tickets import schemas
    from services.tickets.adapters.categories import SqlAlchemyCategoryRepository

    url = database_factory.create("tickets")
    cfg = _config("tickets", url)
    command.upgrade(cfg, "0013")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ticket_categories (id, name, name_key, created_at, updated_at) "
                          "VALUES ('c1', 'Network', 'network', :at, :at)"), {"at": datetime(2026, 1, 1, tzinfo=UTC)})

    command.upgrade(cfg, "head")

    with Session(engine) as session:
        repo = SqlAlchemyCategoryRepository(session)
        assert schemas.category_view(repo.get("c1"))["required_skills"] == []
        repo.change("c1", {"required_skills": ["vpn", "Cisco"]})
        session.commit()
    with Session(engine) as session:
        assert SqlAlchemyCategoryRepository(session).find_by_name("NETWORK")["required_skills"] == ["vpn", "Cisco"]
    engine.dispose()


def test_users_migrations_upgrade_a_database_whose_users_reference_departments(database_factory):
    """A database made by an earlier release, with users in departments and organizations, upgrades to head
    (on SQLite, rebuilding a referenced table with the foreign keys on would fail)."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from helpdesk_common.db import make_engine

    url = database_factory.create("users")
    cfg = _config("users", url)
    command.upgrade(cfg, "0001")
    engine = make_engine(url)  # the services' engine: foreign keys enforced on SQLite too
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (id, name, created_at, updated_at) VALUES ('d1', 'Redes', :at, :at)"),
                     {"at": at})
        conn.execute(text("INSERT INTO organizations (id, name, shared_tickets, created_at, updated_at) "
                          "VALUES ('o1', 'Acme', false, :at, :at)"), {"at": at})
        conn.execute(text(
            "INSERT INTO users (id, email, name, password_hash, role, department_id, organization_id, skills, status, "
            "availability, max_concurrent_tickets, max_concurrent_chats, created_at, updated_at, version) VALUES "
            "('u1', 'carlos@example.com', 'Carlos', 'x', 'agent', 'd1', 'o1', '[]', 'active', 'online', 10, 5, "
            ":at, :at, 1)"), {"at": at})

    command.upgrade(cfg, "head")

    with engine.connect() as conn:
        assert conn.execute(text("SELECT name_key FROM departments")).scalar_one() == "redes"
        assert conn.execute(text("SELECT department_id FROM users")).scalar_one() == "d1"
        assert conn.execute(text("SELECT COUNT(*) FROM organizations WHERE vip = false")).scalar_one() == 1  # 0005
    engine.dispose()


def test_the_outbox_and_inbox_helper_builds_exactly_the_mapped_tables(database_factory):
    """A new service's first migration gets the relay's and the reliable handler's tables from one helper."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import MetaData, inspect

    from helpdesk_common.db import inbox_table, make_engine, outbox_table
    from helpdesk_common.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

    expected = MetaData()
    for table in (outbox_table, inbox_table):
        table.to_metadata(expected)
    engine = make_engine(database_factory.create("helper"))
    with engine.begin() as conn:
        create_outbox_and_inbox(Operations(MigrationContext.configure(conn, opts={"render_as_batch": True})))
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {"outbox", "inbox"}
        assert compare_metadata(MigrationContext.configure(conn), expected) == []
    with engine.begin() as conn:
        drop_outbox_and_inbox(Operations(MigrationContext.configure(conn, opts={"render_as_batch": True})))
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
    engine.dispose()
