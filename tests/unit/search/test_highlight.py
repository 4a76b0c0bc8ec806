"""Snippets: markers to escaped HTML, the choice among fields, accents restored on PostgreSQL headlines."""

from services.tickets.adapters.search.embedded import restore_accents
from services.tickets.domain.search.highlight import END, START, best, clean, render
from services.tickets.domain.search.query import unaccent


def test_render_escapes_text_and_turns_markers_into_mark_tags():
    assert render(f"a <b> & {START}cámara{END}") == "a &lt;b&gt; &amp; <mark>cámara</mark>"


def test_clean_drops_forged_markers_and_composes_text():
    assert clean(f"x{START}y{END}z ca\u0301mara") == "xyz cámara"
    assert clean(None) == ""


def test_best_prefers_the_first_candidate_with_a_match():
    assert best(["plain description", None, f"note {START}hit{END}"]) == "note <mark>hit</mark>"


def test_best_falls_back_to_the_first_plain_excerpt():
    assert best([None, "  ", "plain description", "title"]) == "plain description"
    assert best([None, ""]) is None


def test_restore_accents_maps_a_headline_back_onto_the_original_text():
    original = "Desde ayer la cámara del portátil no funciona."
    fragment = f"la {START}camara{END} del portatil"

    restored = restore_accents(fragment, unaccent(original), original)

    assert restored == f"…la {START}cámara{END} del portátil…"


def test_restore_accents_leaves_a_fragment_it_cannot_place():
    fragment = f"{START}camara{END} rota"
    assert restore_accents(fragment, "otra cosa", "otra cosa") == fragment
