"""One contract for every ticket search index: the embedded one on SQLite and on PostgreSQL
(HELPDESK_TEST_POSTGRES_URL) and Elasticsearch (ELASTICSEARCH_URL). Each test runs once per adapter."""

from datetime import timedelta

import pytest

from tests.unit.search.conftest import admin, agent, customer, new_id

DEPT_A, DEPT_B = new_id(), new_id()


# words, phrases, prefixes ----------------------------------------------------------------------------

def test_words_must_all_match(world):
    both = world.add("Printer jammed", "The paper is stuck in tray two.")
    world.add("Printer offline", "It does not answer at all.")

    assert world.ids("printer paper") == [both]


def test_phrase_matches_adjacent_words_in_order_only(world):
    adjacent = world.add("Office", "There is a paper jam in the printer.")
    world.add("Office", "Jam the paper back in, it is a printer.")

    assert world.ids('"paper jam"') == [adjacent]


def test_prefix_matches_word_beginnings_only(world):
    found = world.add("Red", "La configuración de la red falla.")

    assert world.ids("config*") == [found]
    assert world.ids("onfig*") == []
    assert world.ids("config") == []  # without the star a word is a whole word


def test_phrase_prefix_matches_last_word_beginning(world):
    found = world.add("Wifi", "Needs the wifi password reset today.")
    world.add("Wifi", "Needs a password for the wifi.")

    assert world.ids('"wifi pass"*') == [found]


def test_punctuation_splits_words_like_the_index_does(world):
    found = world.add("Correo", "No llega el e-mail de bienvenida a foo.bar@example.com")

    assert world.ids("e-mail") == [found]
    assert world.ids('"e mail"') == [found]
    assert world.ids("foo bar") == [found]


def test_ticket_number_and_tags_are_searchable(world):
    numbered = world.add("Anything", number=42)
    tagged = world.add("Something", tags=("hardware", "vpn"))

    assert world.ids("TKT-000042") == [numbered]
    assert world.ids("vpn") == [tagged]


def test_empty_query_matches_nothing(world):
    world.add("Printer")

    result = world.search('"" * --', admin())
    assert (result.ids, result.total) == ([], 0)


# languages and accents ---------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["camara", "cámara", "CÁMARA", "Camara"])
def test_accents_and_case_are_ignored(world, query):
    accented = world.add("La cámara no enciende", "Desde ayer.")

    assert world.ids(query) == [accented]


def test_unaccented_text_is_found_by_an_accented_query(world):
    plain = world.add("La camara no enciende", "Sin tildes, como escriben muchos.")

    assert world.ids("cámara") == [plain]


def test_spanish_and_english_tickets_are_found_by_their_own_words(world):
    spanish = world.add("La impresora no imprime en color", "Configuración de red del equipo.")
    english = world.add("The printer does not print in colour", "Network settings of the computer.")

    assert world.ids("impresora color") == [spanish]
    assert world.ids('"configuración de red"') == [spanish]
    assert world.ids("printer colour") == [english]
    assert world.ids('"network settings"') == [english]


# replies and internal notes ------------------------------------------------------------------------------

def test_public_replies_are_searchable(world):
    asker = customer()
    found = world.add("Printer", requester=asker, comments=(("Hemos cambiado el tóner", False),))

    assert world.ids("toner", asker) == [found]


def test_customer_never_matches_internal_note_text(world):
    asker = customer()
    found = world.add("Printer", requester=asker, comments=(("sospechamos del proveedor Contoso", True),))

    assert world.ids("contoso", asker) == []
    assert world.ids("contoso", agent()) == [found]
    assert world.ids("contoso", admin()) == [found]


def test_customer_highlight_never_shows_internal_note_text(world):
    asker = customer()
    found = world.add("Printer", "Nada.", requester=asker,
                      comments=(("reinicio pendiente", False), ("reinicio pendiente por el proveedor Contoso", True)))

    result = world.search("reinicio", asker)

    assert result.ids == [found]
    assert "reinicio" in result.highlights[found]
    assert "Contoso" not in result.highlights[found]


# visibility and filters -----------------------------------------------------------------------------------

def test_customer_finds_only_own_tickets(world):
    me, someone = customer(), customer()
    mine = world.add("Router roto", requester=me)
    world.add("Router roto", requester=someone)

    assert world.ids("router", me) == [mine]


def test_agent_finds_own_department_unrouted_and_assigned_only(world):
    me = agent(DEPT_A)
    in_a = world.add("Router", department_id=DEPT_A)
    unrouted = world.add("Router")
    world.add("Router", department_id=DEPT_B)
    assigned = world.add("Router", department_id=DEPT_B, assignee_id=me.id)

    assert sorted(world.ids("router", me)) == sorted([in_a, unrouted, assigned])
    assert len(world.ids("router", admin())) == 4


def test_filters_narrow_matches(world):
    urgent_open = world.add("VPN caída", status="open", priority="urgent", tags=("vpn",), department_id=DEPT_A)
    low_new = world.add("VPN lenta", status="new", priority="low", category="network")
    assigned = world.add("VPN", status="in_progress", assignee_id=new_id())

    assert sorted(world.ids("vpn", filters={"status": ["open", "in_progress"]})) == sorted([assigned, urgent_open])
    assert world.ids("vpn", filters={"priority": ["urgent"]}) == [urgent_open]
    assert world.ids("vpn", filters={"tag": "vpn"}) == [urgent_open]
    assert world.ids("vpn", filters={"department_id": DEPT_A}) == [urgent_open]
    assert world.ids("vpn", filters={"category": "network"}) == [low_new]
    assert sorted(world.ids("vpn", filters={"assignee_id": "none"})) == sorted([urgent_open, low_new])
    created_of_low = world.tickets[low_new][0].created_at
    assert world.ids("vpn", filters={"created_from": created_of_low, "created_to": created_of_low}) == [low_new]
    assert world.ids("vpn", filters={"created_from": created_of_low + timedelta(seconds=1)}) == [assigned]


# ranking, highlights, pages, sorting --------------------------------------------------------------------

def test_title_match_ranks_above_description_match(world):
    in_title = world.add("El router falla", "Sin más detalles sobre el problema.")
    in_description = world.add("Problema de conexión", "El router falla desde ayer por la tarde.")  # newer

    assert world.ids("router") == [in_title, in_description]


def test_equal_matches_rank_the_most_recently_updated_first(world):
    older = world.add("Pantalla azul", "Tras actualizar.")
    newer = world.add("Pantalla azul", "Tras actualizar.")

    assert world.ids("pantalla") == [newer, older]
    world.change(older, status="open")  # touched now: the most recent
    assert world.ids("pantalla") == [older, newer]


def test_highlight_marks_the_match_in_the_original_text(world):
    found = world.add("Portátil", "Desde ayer la cámara del portátil no funciona.")

    result = world.search("camara", admin())

    assert "<mark>cámara</mark>" in result.highlights[found]


def test_highlight_is_escaped_html(world):
    found = world.add("Formulario", "El campo <script>alert(1)</script> rompe el formulario & más.")

    highlight = world.search("formulario", admin()).highlights[found]

    assert "<script>" not in highlight
    assert "&lt;script&gt;" in highlight
    assert "<mark>formulario</mark>" in highlight


def test_pages_are_disjoint_and_total_counts_every_match(world):
    made = {world.add(f"Teclado {n}") for n in range(5)}
    world.add("Ratón")

    pages = [world.search("teclado", admin(), page=page, limit=2) for page in (1, 2, 3, 4)]

    assert [len(p.ids) for p in pages] == [2, 2, 1, 0]
    assert {p.total for p in pages} == {5}
    assert set(pages[0].ids + pages[1].ids + pages[2].ids) == made


def test_list_sort_replaces_relevance_when_given(world):
    first = world.add("Zeta monitor", "monitor monitor monitor")
    second = world.add("Alfa monitor")

    assert world.ids("monitor", sort=("created_at", "asc")) == [first, second]
    assert world.ids("monitor", sort=("title", "asc")) == [second, first]


# changes ---------------------------------------------------------------------------------------------------

def test_indexing_again_replaces_the_old_text(world):
    ticket = world.add("Impresora", "Atasco de papel.")

    world.change(ticket, title="Escáner", description="No escanea.")

    assert world.ids("impresora") == []
    assert world.ids("escaner") == [ticket]


def test_deleted_ticket_is_not_found(world):
    gone = world.add("Monitor parpadea")
    kept = world.add("Monitor parpadea")

    world.delete(gone)

    result = world.search("monitor", admin())
    assert (result.ids, result.total) == ([kept], 1)


def test_out_of_order_versions_never_overwrite_newer_data(world):
    if world.backend != "elasticsearch":
        pytest.skip("the embedded index is written in the ticket's own transaction: it never sees an old version late")
    from services.tickets.adapters.search import document_for

    ticket_id = world.add("Versión nueva")
    ticket, thread = world.tickets[ticket_id]
    stale = document_for(ticket, thread)
    world.change(ticket_id, title="Versión más nueva")

    world.index.index(stale)  # an older event, redelivered late

    assert world.ids("mas") == [ticket_id]
    world.delete(ticket_id)
    world.index.index(stale)
    assert world.ids("version") == []
