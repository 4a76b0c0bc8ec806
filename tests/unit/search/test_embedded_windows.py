"""The embedded indexes' bounds on work per search: totals counted only as deep as a page reaches, and
relevance ranked among the newest matches when a word is in more tickets than the rank window holds."""

import pytest

from services.tickets.adapters.search import embedded
from tests.unit.search.conftest import admin


@pytest.fixture
def small_windows(monkeypatch):
    monkeypatch.setattr(embedded.EmbeddedTicketSearchIndex, "RANK_WINDOW", 3)
    monkeypatch.setattr(embedded, "MAX_RESULT_WINDOW", 5)


@pytest.fixture
def embedded_world(world):
    if world.backend == "elasticsearch":
        pytest.skip("Elasticsearch bounds its own work (track_total_hits, max_result_window)")
    return world


def test_relevance_ranks_all_matches_while_they_fit_the_window(embedded_world, small_windows):
    world = embedded_world
    weak = world.add("Consulta", "La impresora hace ruido.")
    strong = world.add("Impresora rota", "La impresora no imprime.")
    assert world.ids("impresora") == [strong, weak]


def test_past_the_window_relevance_orders_the_newest_matches_then_the_rest_newest_first(embedded_world, small_windows):
    world = embedded_world
    oldest_strong = world.add("Impresora impresora", "impresora")  # most relevant, but older than the window
    older = world.add("Consulta", "la impresora de arriba")
    newest_weak = [world.add("Consulta", f"algo {i} sobre la impresora") for i in range(2)]
    newest_strong = world.add("Impresora", "la impresora otra vez")

    result = world.search("impresora", admin(), limit=10)

    assert result.ids[0] == newest_strong  # the window (3 newest) ranked by relevance
    assert set(result.ids[:3]) == {newest_strong, *newest_weak}
    assert result.ids[3:] == [older, oldest_strong]  # then the older matches, newest first
    assert (result.total, result.total_exact) == (5, True)


def test_pages_cross_the_window_without_gaps_or_repeats(embedded_world, small_windows):
    world = embedded_world
    made = [world.add("Impresora", f"impresora {i}") for i in range(5)]

    pages = [world.search("impresora", admin(), page=page, limit=2).ids for page in (1, 2, 3)]

    assert sorted(sum(pages, [])) == sorted(made)
    assert [len(ids) for ids in pages] == [2, 2, 1]


def test_the_total_stops_counting_at_the_deepest_page(embedded_world, small_windows):
    world = embedded_world
    for i in range(7):
        world.add("Impresora", f"impresora {i}")

    result = world.search("impresora", admin(), limit=2)

    assert (result.total, result.total_exact) == (5, False)
    assert len(result.ids) == 2
