"""PostgreSQL's search rows carry the ticket's list columns (migration 0009): whoever writes a ticket, its
search row follows, and a search whose conditions use only carried columns reads ``ticket_search`` alone."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, insert, text, update
from sqlalchemy.orm import sessionmaker

from helpdesk_common.db import make_engine
from helpdesk_common.testing import POSTGRES_ENV
from services.tickets.adapters.orm import tickets
from services.tickets.adapters.search import document_for, embedded_index
from services.tickets.domain.model import Ticket
from tests.unit.search.conftest import ALEMBIC_INI, World, admin, agent, customer, new_id

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set")


@pytest.fixture
def pg(engine_for, clock):
    engine = engine_for("postgresql")
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    statements: list[str] = []

    def record(conn, cursor, statement, *rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    world = World("postgresql", clock, session=session)
    world.statements = statements
    try:
        yield world
    finally:
        event.remove(engine, "before_cursor_execute", record)
        session.close()


def _carried(world: World, ticket_id: str) -> dict:
    return dict(world.session.execute(
        text("SELECT status, department_id, assignee_id, updated_at, deleted_at FROM ticket_search WHERE ticket_id = :id"),
        {"id": ticket_id}).mappings().one())


def test_a_ticket_changed_by_any_statement_is_searched_by_its_new_columns(pg):
    department = new_id()
    ticket_id = pg.add("Impresora rota", "no imprime", status="new")
    later = pg.clock.now() + timedelta(hours=1)

    # a plain UPDATE of the tickets table, as a bulk statement or psql would do: no reindexing
    pg.session.execute(update(tickets).where(tickets.c.id == ticket_id)
                       .values(status="open", department_id=department, updated_at=later))
    pg.session.commit()

    assert _carried(pg, ticket_id)["status"] == "open"
    assert pg.ids("impresora", filters={"status": ["open"]}) == [ticket_id]
    assert pg.ids("impresora", filters={"status": ["new"]}) == []
    assert pg.ids("impresora", agent(department)) == [ticket_id]  # now routed to that department
    assert pg.ids("impresora", agent(new_id())) == []


def test_a_deleted_ticket_left_in_the_index_is_not_found(pg):
    ticket_id = pg.add("Impresora rota", "no imprime")
    pg.session.execute(update(tickets).where(tickets.c.id == ticket_id).values(deleted_at=pg.clock.now()))
    pg.session.commit()

    assert _carried(pg, ticket_id)["deleted_at"] is not None
    assert pg.ids("impresora") == []


def test_a_row_indexed_before_its_ticket_is_found_once_the_ticket_is_written(pg):
    requester = customer()
    ticket = Ticket(id=new_id(), number="TKT-000777", title="Impresora rota", description="no imprime",
                    requester_id=requester.id, now=pg.clock.now(), tags=[])
    embedded_index(pg.session).index(document_for(ticket, []))
    pg.session.commit()
    assert pg.ids("impresora", requester) == []  # no ticket row: nothing to check visibility against

    pg.session.add(ticket)
    pg.session.commit()

    assert pg.ids("impresora", requester) == [ticket.id]
    assert _carried(pg, ticket.id)["status"] == ticket.status


def test_recency_order_follows_the_tickets_updated_at(pg):
    older = pg.add("Impresora", "impresora")
    newer = pg.add("Impresora", "impresora")
    assert pg.ids("impresora") == [newer, older]

    pg.session.execute(update(tickets).where(tickets.c.id == older)
                       .values(updated_at=pg.clock.now() + timedelta(minutes=5)))
    pg.session.commit()

    assert pg.ids("impresora") == [older, newer]


def _window_statement(pg: World, query: str, actor, filters=None, sort=None) -> str:
    pg.statements.clear()
    pg.search(query, actor, filters, sort=sort)
    return next(s for s in pg.statements if "ticket_search" in s and "ts_headline" not in s)


@pytest.mark.parametrize("who", ["customer", "agent", "admin"])
def test_searches_on_carried_columns_read_the_index_alone(pg, who):
    actor = {"customer": customer(), "agent": agent(new_id()), "admin": admin()}[who]
    pg.add("Impresora", "impresora", requester=actor if who == "customer" else None)

    statement = _window_statement(pg, "impresora", actor, {"status": ["new"], "priority": ["medium"]})

    assert " JOIN tickets" not in statement
    assert "ticket_search.updated_at" in statement


def test_a_condition_on_a_column_not_carried_reads_through_the_join(pg):
    tagged = pg.add("Impresora", "impresora", tags=("hardware",))
    pg.add("Impresora", "impresora")

    statement = _window_statement(pg, "impresora", admin(), {"tag": "hardware"})

    assert " JOIN tickets" in statement
    assert pg.ids("impresora", filters={"tag": "hardware"}) == [tagged]


def test_sorting_by_a_carried_column_reads_the_index_alone_and_by_another_joins(pg):
    first = pg.add("Impresora", "impresora", priority="high")
    second = pg.add("Impresora", "impresora", priority="low")

    assert " JOIN tickets" not in _window_statement(pg, "impresora", admin(), sort=("priority", "asc"))
    assert pg.ids("impresora", sort=("priority", "asc")) == [second, first]
    assert " JOIN tickets" in _window_statement(pg, "impresora", admin(), sort=("title", "asc"))


def test_the_migration_fills_the_rows_that_existed_before_it(database_factory):
    url = database_factory.create("carried")
    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "0008")
    engine = make_engine(url)
    try:
        ticket_id, requester = new_id(), new_id()
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(insert(tickets).values(
                id=ticket_id, number="TKT-000001", title="Impresora", description="rota", status="open",
                priority="high", tags=[], requester_id=requester, source="web", metadata_={}, created_at=now,
                updated_at=now, reopen_count=0, version=1))
            conn.execute(text("INSERT INTO ticket_search (ticket_id, title, document_public, document_staff) "
                              "VALUES (:id, 'Impresora', 'impresora', 'impresora')"), {"id": ticket_id})

        command.upgrade(cfg, "head")

        with engine.connect() as conn:
            row = conn.execute(text("SELECT status, priority, requester_id, updated_at FROM ticket_search")).one()
        assert (row.status, row.priority, row.requester_id, row.updated_at) == ("open", "high", requester, now)
    finally:
        engine.dispose()
