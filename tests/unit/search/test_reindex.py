"""Rebuilding indexes from the database: the reindex command (Elasticsearch against the in-memory stand-in,
and the embedded index), and migration 0002 filling the embedded index from tickets already there."""

from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, insert, text
from sqlalchemy.orm import sessionmaker

from helpdesk_common.clock import FakeClock
from helpdesk_common.db import make_engine
from helpdesk_common.testing import DatabaseFactory
from services.tickets import handlers
from services.tickets.adapters.search import embedded_index
from services.tickets.adapters.search import reindex as reindex_command
from services.tickets.adapters.search.elastic import ElasticsearchTicketSearchIndex
from services.tickets.domain.model import Comment, Ticket
from tests.unit.search.conftest import ALEMBIC_INI, admin, agent, as_dict, customer, new_id


@pytest.fixture
def tickets(run, clock):
    """Three tickets: one with a reply and a note, one deleted, one plain."""
    asker, staff = as_dict(customer()), as_dict(agent())
    first = run(handlers.open_ticket, {"title": "Router", "description": "Se cae."}, asker)
    run(handlers.add_comment, first["id"], {"body": "Cambiado el router"}, staff)
    run(handlers.add_comment, first["id"], {"body": "Nota Contoso", "internal": True}, staff)
    gone = run(handlers.open_ticket, {"title": "Borrado", "description": "Ya no."}, asker)
    run(handlers.delete_ticket, gone["id"], as_dict(admin()))
    plain = run(handlers.open_ticket, {"title": "Pantalla", "description": "Azul."}, asker)
    return {"first": first["id"], "gone": gone["id"], "plain": plain["id"], "asker": asker}


def test_reindex_builds_a_new_index_swaps_the_alias_and_keeps_the_old_one(engine, tickets, fake_es):
    index = ElasticsearchTicketSearchIndex(fake_es.client())
    index.ensure_index()

    done = reindex_command.rebuild_elasticsearch(engine, index, batch_size=2, drop_old=False, clock=FakeClock())

    assert done["index"] == "tickets-v2"
    assert fake_es.alias_targets("tickets") == ["tickets-v2"]
    assert "tickets-v1" in fake_es.indices
    docs = fake_es.indices["tickets-v2"]["docs"]
    assert docs[tickets["first"]][1]["comments"] == "Cambiado el router"
    assert docs[tickets["first"]][1]["internal_notes"] == "Nota Contoso"
    assert docs[tickets["first"]][0] == 3  # created, replied, noted
    assert docs[tickets["gone"]][1]["deleted"] is True  # the catch-up pass leaves a tombstone
    assert done["tickets"] == 2


def test_reindex_catch_up_copies_only_recent_changes(engine, tickets, fake_es):
    index = ElasticsearchTicketSearchIndex(fake_es.client())
    long_after = FakeClock()
    long_after.advance(days=30)

    done = reindex_command.rebuild_elasticsearch(engine, index, batch_size=500, drop_old=False, clock=long_after)

    assert done["caught_up"] == 0
    assert tickets["gone"] not in fake_es.indices[done["index"]]["docs"]


def test_reindex_can_drop_the_old_indices(engine, tickets, fake_es):
    index = ElasticsearchTicketSearchIndex(fake_es.client())
    index.ensure_index()

    reindex_command.rebuild_elasticsearch(engine, index, batch_size=500, drop_old=True)

    assert list(fake_es.indices) == ["tickets-v2"]


def test_reindex_command_needs_elasticsearch_or_embedded(monkeypatch, engine, capsys):
    monkeypatch.setenv("TICKETS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)

    assert reindex_command.main([]) == 2
    assert "ELASTICSEARCH_URL" in capsys.readouterr().err


def test_reindex_command_rebuilds_the_embedded_index(monkeypatch, engine, tickets, run, capsys):
    monkeypatch.setenv("TICKETS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ticket_search"))
    assert run(handlers.search_tickets, tickets["asker"], "router")["total"] == 0

    assert reindex_command.main(["--embedded"]) == 0

    assert "2 tickets" in capsys.readouterr().out
    assert [i["id"] for i in run(handlers.search_tickets, tickets["asker"], "router")["items"]] == [tickets["first"]]
    assert run(handlers.search_tickets, tickets["asker"], "contoso")["total"] == 0
    assert run(handlers.search_tickets, as_dict(admin()), "contoso")["total"] == 1
    assert run(handlers.search_tickets, as_dict(admin()), "borrado")["total"] == 0


# migration 0002 ------------------------------------------------------------------------------------------

def _alembic(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = url
    return config


def test_migration_fills_the_index_from_existing_tickets_and_downgrades(tmp_path):
    factory = DatabaseFactory(tmp_path)
    url = factory.create("search_migration")
    engine = make_engine(url)
    try:
        command.upgrade(_alembic(url), "0001")
        clock = FakeClock()
        asker = customer()
        ticket = Ticket(id=new_id(), number="TKT-000001", title="Cámara rota", description="No enciende.",
                        requester_id=asker.id, now=clock.now())
        ticket_id = ticket.id
        with sessionmaker(bind=engine)() as session:
            # the tickets table as revision 0001 made it (later revisions add columns the mapper knows)
            then = Table("tickets", MetaData(), autoload_with=engine)
            session.execute(insert(then).values({c.name: getattr(ticket, c.name) for c in then.columns}))
            session.add(Comment(id=new_id(), ticket_id=ticket_id, author_id=new_id(), author_role="agent",
                                body="Nota Contoso", internal=True, mentions=[], now=clock.now() + timedelta(1)))
            session.commit()

        command.upgrade(_alembic(url), "head")

        with sessionmaker(bind=engine)() as session:
            index = embedded_index(session)
            assert index.search("camara", visibility=asker, filters={}, page=1, limit=5).ids == [ticket_id]
            assert index.search("contoso", visibility=asker, filters={}, page=1, limit=5).ids == []
            assert index.search("contoso", visibility=admin(), filters={}, page=1, limit=5).ids == [ticket_id]

        command.downgrade(_alembic(url), "0001")
        with engine.connect() as conn:
            assert "ticket_search" not in engine.dialect.get_table_names(conn)
    finally:
        engine.dispose()
        factory.drop_all()
