"""Search through the handlers, on a real database: a change is searchable as soon as it commits, the list's
``q`` and the search query agree with the list about who sees what, and the Elasticsearch feed copies the
ticket's current state from an event."""

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, text

from helpdesk_common.db import outbox_table
from helpdesk_contracts.envelope import Envelope
from services.tickets import handlers
from services.tickets.adapters.search import SearchResult
from services.tickets.adapters.search.elastic import ElasticsearchTicketSearchIndex
from services.tickets.domain.errors import SearchUnavailable, ValidationFailed
from tests.unit.search.conftest import admin, agent, as_dict, customer


@pytest.fixture
def requester():
    return as_dict(customer())


@pytest.fixture
def staff():
    return as_dict(agent())


@pytest.fixture
def open_ticket(run, requester, clock):
    def make(title="La impresora no imprime", description="Sale la hoja en blanco.", actor=None, **extra):
        clock.advance(minutes=1)
        return run(handlers.open_ticket, {"title": title, "description": description, **extra}, actor or requester)

    return make


def found(run, actor, query, **kwargs):
    return [item["id"] for item in run(handlers.search_tickets, actor, query, **kwargs)["items"]]


def test_opened_ticket_is_found_immediately_with_a_highlight(run, open_ticket, requester):
    ticket = open_ticket(description="Desde ayer la cámara no funciona.")

    result = run(handlers.search_tickets, requester, "camara")

    assert result["total"] == 1
    assert result["items"][0]["id"] == ticket["id"]
    assert result["items"][0]["title"] == ticket["title"]
    assert "<mark>cámara</mark>" in result["items"][0]["highlight"]


def test_public_reply_is_found_immediately(run, open_ticket, requester, staff):
    ticket = open_ticket()

    run(handlers.add_comment, ticket["id"], {"body": "Hemos cambiado el tóner"}, staff)

    assert found(run, requester, "toner") == [ticket["id"]]


def test_internal_note_is_found_by_agents_and_never_by_the_requester(run, open_ticket, requester, staff):
    ticket = open_ticket()
    run(handlers.add_comment, ticket["id"], {"body": "Sospechamos del proveedor Contoso", "internal": True}, staff)

    assert found(run, staff, "contoso") == [ticket["id"]]
    assert found(run, requester, "contoso") == []
    assert run(handlers.list_tickets, requester, {"q": "contoso"})["total"] == 0


def test_edited_text_replaces_the_old_words(run, open_ticket, requester, staff):
    ticket = open_ticket()
    run(handlers.add_comment, ticket["id"], {"body": "Revisado el cable"}, staff)

    run(handlers.update_ticket, ticket["id"], {"title": "El escáner no escanea", "tags": ["hardware"]}, staff)

    assert found(run, requester, "impresora") == []
    assert found(run, requester, "escaner") == [ticket["id"]]
    assert found(run, requester, "hardware") == [ticket["id"]]
    assert found(run, requester, "cable") == [ticket["id"]]  # the thread survived the rewrite


def test_filters_follow_ticket_changes_without_touching_the_index(run, open_ticket, staff):
    ticket = open_ticket()

    run(handlers.change_status, ticket["id"], "in_progress", staff)

    assert found(run, staff, "impresora", filters={"status": "in_progress"}) == [ticket["id"]]
    assert found(run, staff, "impresora", filters={"status": "new"}) == []


def test_deleted_ticket_is_not_found(run, open_ticket, requester):
    ticket = open_ticket()

    run(handlers.delete_ticket, ticket["id"], as_dict(admin()))

    assert found(run, requester, "impresora") == []


def test_reply_to_a_ticket_missing_from_the_index_rebuilds_its_row(run, open_ticket, requester, staff, engine):
    ticket = open_ticket()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ticket_search"))

    run(handlers.add_comment, ticket["id"], {"body": "Cambiado el fusor"}, staff)

    assert found(run, requester, "fusor") == [ticket["id"]]
    assert found(run, requester, "impresora") == [ticket["id"]]


def test_other_customers_tickets_are_never_found(run, open_ticket, requester):
    other = as_dict(customer())
    open_ticket(actor=other)

    assert found(run, requester, "impresora") == []
    assert run(handlers.list_tickets, requester, {"q": "impresora"})["total"] == 0


@pytest.mark.parametrize("query", ["", "  ", "*** --", "x" * 501, None])
def test_search_needs_words(run, requester, query):
    with pytest.raises(ValidationFailed):
        run(handlers.search_tickets, requester, query)


def test_search_pages_past_the_result_window_are_refused(run, requester):
    with pytest.raises(ValidationFailed):
        run(handlers.search_tickets, requester, "vpn", page=101, limit=100)


# the list's q -------------------------------------------------------------------------------------------

def test_list_q_keeps_the_list_sort_and_filters(run, open_ticket, staff):
    first = open_ticket("VPN caída", "La VPN no conecta, VPN VPN.", priority="high")
    second = open_ticket("VPN lenta", priority="high")
    open_ticket("VPN otra", priority="low")
    open_ticket("Impresora")

    page = run(handlers.list_tickets, staff, {"q": "vpn", "priority": "high"}, sort_by="created_at", sort_order="asc")

    assert [t["id"] for t in page["items"]] == [first["id"], second["id"]]
    assert page["total"] == 2
    assert "highlight" not in page["items"][0]


def test_list_q_without_words_is_the_plain_list(run, open_ticket, staff):
    open_ticket("Uno")
    open_ticket("Dos")

    assert run(handlers.list_tickets, staff, {"q": "***"})["total"] == 2


# an external index ---------------------------------------------------------------------------------------

class CannedIndex:
    """A TicketSearchIndex answering what it was given (the port's fake)."""

    def __init__(self, result=None, error=None):
        self.result, self.error, self.calls = result, error, []

    def search(self, query, **options):
        self.calls.append((query, options))
        if self.error:
            raise self.error
        return self.result


def test_search_through_an_external_index_keeps_its_order_and_rechecks_visibility(run, open_ticket, requester):
    mine_a, mine_b = open_ticket("A"), open_ticket("B")
    not_mine = open_ticket("C", actor=as_dict(customer()))
    index = CannedIndex(SearchResult(ids=[mine_b["id"], not_mine["id"], mine_a["id"]], total=3,
                                     highlights={mine_b["id"]: "<mark>b</mark>"}))

    result = run(handlers.search_tickets, requester, "anything", index=index)

    assert [item["id"] for item in result["items"]] == [mine_b["id"], mine_a["id"]]  # a lagging index is overruled
    assert [item["highlight"] for item in result["items"]] == ["<mark>b</mark>", None]
    assert result["total"] == 3
    assert index.calls[0][1]["visibility"].id == requester["id"]


def test_search_unavailable_from_the_external_index_reaches_the_caller(run, requester):
    with pytest.raises(SearchUnavailable):
        run(handlers.search_tickets, requester, "vpn", index=CannedIndex(error=SearchUnavailable()))


def test_list_q_passes_its_sort_to_the_external_index(run, staff):
    index = CannedIndex(SearchResult(ids=[], total=0))

    run(handlers.list_tickets, staff, {"q": "vpn"}, sort_by="title", sort_order="asc", index=index)

    assert index.calls[0][1]["sort"] == ("title", "asc")
    assert index.calls[0][1]["highlight"] is False


# the Elasticsearch feed ---------------------------------------------------------------------------------

def envelopes(engine, event_type):
    with engine.connect() as conn:
        rows = conn.execute(select(outbox_table.c.envelope).where(outbox_table.c.event_type == event_type)
                            .order_by(outbox_table.c.id)).all()
    return [Envelope.from_dict(row.envelope) for row in rows]


def test_feed_copies_the_current_ticket_with_its_version(run, open_ticket, staff, engine, fake_es, clock):
    ticket = open_ticket(description="Descripción que el evento no trae")
    run(handlers.add_comment, ticket["id"], {"body": "Respuesta pública"}, staff)
    run(handlers.add_comment, ticket["id"], {"body": "Nota interna", "internal": True}, staff)
    index = ElasticsearchTicketSearchIndex(fake_es.client())
    created = envelopes(engine, "ticket.created")[0]
    clock.advance(seconds=30)

    run(handlers.feed_search_index, created, index=index)  # an old event: the current row is copied

    version, source = fake_es.doc("tickets", ticket["id"])
    assert version == ticket["version"] + 2
    assert (source["description"], source["comments"], source["internal_notes"]) == (
        "Descripción que el evento no trae", "Respuesta pública", "Nota interna")
    assert REGISTRY.get_sample_value("helpdesk_search_index_lag_seconds") >= 30


def test_feed_turns_a_deleted_ticket_into_a_tombstone(run, open_ticket, engine, fake_es):
    ticket = open_ticket()
    run(handlers.delete_ticket, ticket["id"], as_dict(admin()))
    index = ElasticsearchTicketSearchIndex(fake_es.client())

    run(handlers.feed_search_index, envelopes(engine, "ticket.deleted")[0], index=index)

    version, source = fake_es.doc("tickets", ticket["id"])
    assert source["deleted"] is True
    assert version == ticket["version"] + 1


# the stats' q -----------------------------------------------------------------------------------------

def test_stats_q_counts_only_what_the_search_finds(run, open_ticket, staff):
    vpn = open_ticket("VPN caída", "La VPN no conecta.", priority="high")
    open_ticket("VPN lenta", priority="low")
    open_ticket("Impresora atascada", priority="high")
    run(handlers.change_status, vpn["id"], "open", staff)

    stats = run(handlers.ticket_stats, staff, {"q": "vpn"})

    assert stats["total"] == 2
    assert stats["total_exact"] is True
    assert stats["by_status"]["open"] == 1 and stats["by_status"]["new"] == 1
    assert stats["by_priority"] == {"low": 1, "medium": 0, "high": 1, "urgent": 0}
    assert sum(stats["by_assignee"].values()) == 2


def test_stats_q_keeps_the_other_filters(run, open_ticket, staff):
    open_ticket("VPN caída", priority="high")
    open_ticket("VPN lenta", priority="low")
    open_ticket("Impresora", priority="high")

    stats = run(handlers.ticket_stats, staff, {"q": "vpn", "priority": "high"})

    assert stats["total"] == 1
    assert stats["by_priority"]["high"] == 1


def test_stats_q_counts_nothing_when_nothing_matches(run, open_ticket, requester):
    open_ticket("VPN caída")

    stats = run(handlers.ticket_stats, requester, {"q": "contoso"})

    assert stats["total"] == 0
    assert stats["unread_messages"] == 0


def test_stats_q_follows_visibility(run, open_ticket, requester):
    open_ticket("VPN caída", actor=as_dict(customer()))
    open_ticket("VPN lenta")

    assert run(handlers.ticket_stats, requester, {"q": "vpn"})["total"] == 1


def test_stats_q_without_words_counts_everything(run, open_ticket, staff):
    open_ticket("VPN caída")
    open_ticket("Impresora")

    assert run(handlers.ticket_stats, staff, {"q": "*** --"})["total"] == 2
