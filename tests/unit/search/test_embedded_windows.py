"""The embedded indexes' bounds on work per search: relevance ranked among the newest matches when a word
is in more tickets than the rank window holds, and totals counted no further than that window."""

import pytest

from services.tickets.adapters.search import embedded
from tests.unit.search.conftest import admin


@pytest.fixture
def small_windows(monkeypatch):
    monkeypatch.setattr(embedded.EmbeddedTicketSearchIndex, "RANK_WINDOW", 3)


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
    assert (result.total, result.total_exact) == (3, False)  # at least 3 match


def test_pages_cross_the_window_without_gaps_or_repeats(embedded_world, small_windows):
    world = embedded_world
    made = [world.add("Impresora", f"impresora {i}") for i in range(5)]

    pages = [world.search("impresora", admin(), page=page, limit=2).ids for page in (1, 2, 3)]

    assert sorted(sum(pages, [])) == sorted(made)
    assert [len(ids) for ids in pages] == [2, 2, 1]


def test_the_total_is_exact_up_to_the_window_and_a_lower_bound_past_it(embedded_world, small_windows):
    world = embedded_world
    for i in range(3):
        world.add("Impresora", f"impresora {i}")
    exactly = world.search("impresora", admin(), limit=2)
    world.add("Impresora", "impresora 3")

    more = world.search("impresora", admin(), limit=2)
    past = world.search("impresora", admin(), page=3, limit=2)  # a page past the ranked window counts alone

    assert (exactly.total, exactly.total_exact) == (3, True)
    assert (more.total, more.total_exact, len(more.ids)) == (3, False, 2)
    assert (past.total, past.total_exact, past.ids) == (3, False, [])


def test_a_sorted_search_counts_like_a_ranked_one(embedded_world, small_windows):
    world = embedded_world
    made = [world.add("Impresora", f"impresora {i}") for i in range(4)]

    result = world.search("impresora", admin(), limit=10, sort=("created_at", "desc"))

    assert result.ids == made[::-1]
    assert (result.total, result.total_exact) == (3, False)
