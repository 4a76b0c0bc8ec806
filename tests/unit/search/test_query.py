"""The search syntax and the text folding every index shares, and how each index renders a query."""

import pytest

from services.tickets.adapters.search.embedded import fts5_expression, tsquery_expression, tsvector_literal
from services.tickets.domain.search.query import MAX_TERMS, MAX_WORD_CHARS, SearchQuery, Term, parse, unaccent, words


def terms(raw):
    return [(t.words, t.prefix) for t in parse(raw).terms]


# folding ---------------------------------------------------------------------------------------------------

def test_unaccent_keeps_length_and_case():
    assert unaccent("Cámara Ñandú ÇA") == "Camara Nandu CA"
    assert len(unaccent("ﬁ½ é")) == len("ﬁ½ é")  # a ligature has no one-letter base: kept


def test_unaccent_composes_decomposed_text_first():
    assert unaccent("ca\u0301mara") == "camara"


def test_words_are_lowercased_unaccented_and_split_on_punctuation():
    assert words("La CÁMARA_del e-mail: foo.bar@x.com (v2.1)") == ["la", "camara", "del", "e", "mail", "foo", "bar",
                                                                   "x", "com", "v2", "1"]


def test_words_drop_overlong_tokens():
    assert words("a" * (MAX_WORD_CHARS + 1) + " ok") == ["ok"]


# parsing ---------------------------------------------------------------------------------------------------

def test_bare_words_are_separate_terms():
    assert terms("printer  paper") == [(("printer",), False), (("paper",), False)]


def test_quoted_words_are_one_phrase():
    assert terms('"paper jam" tray') == [(("paper", "jam"), False), (("tray",), False)]


def test_star_makes_a_prefix_of_a_word_or_a_phrase_last_word():
    assert terms('config* "wi fi"*') == [(("config",), True), (("wi", "fi"), True)]


def test_star_inside_a_word_is_a_separator_not_a_prefix():
    assert terms("foo*bar") == [(("foo", "bar"), False)]


def test_punctuated_word_is_a_phrase_of_its_parts():
    assert terms("TKT-000042 e-mail*") == [(("tkt", "000042"), False), (("e", "mail"), True)]


def test_unclosed_quote_runs_to_the_end():
    assert terms('tray "paper jam') == [(("tray",), False), (("paper", "jam"), False)]


def test_operators_and_syntax_of_other_engines_are_plain_words():
    assert terms("printer OR NOT -paper title:foo") == [
        (("printer",), False), (("or",), False), (("not",), False), (("paper",), False), (("title", "foo"), False),
    ]


def test_accents_and_case_are_folded_in_queries():
    assert terms("CÁMARA") == terms("camara") == [(("camara",), False)]


@pytest.mark.parametrize("raw", ["", "   ", '""', "* -- !!", None])
def test_nothing_to_look_for_is_an_empty_query(raw):
    assert not parse(raw)


def test_repeated_terms_count_once():
    assert terms("vpn VPN vpn*") == [(("vpn",), False), (("vpn",), True)]


def test_terms_are_capped():
    assert len(parse(" ".join(f"w{n}" for n in range(MAX_TERMS + 10))).terms) == MAX_TERMS


def test_a_parsed_query_parses_to_itself():
    query = parse("a b")
    assert parse(query) is query


# rendering ---------------------------------------------------------------------------------------------------

def test_fts5_expression_for_staff_quotes_every_term():
    query = SearchQuery((Term(("paper", "jam")), Term(("config",), prefix=True)))
    assert fts5_expression(query, staff=True) == '"paper jam" AND "config"*'


def test_fts5_expression_for_customers_is_confined_to_public_columns():
    expression = fts5_expression(parse("vpn"), staff=False)
    assert expression == '{number title tags description comments} : ("vpn")'
    assert "internal" not in expression


def test_tsquery_expression_joins_phrase_words_and_ands_terms():
    query = SearchQuery((Term(("paper", "jam")), Term(("wi", "fi"), prefix=True)))
    assert tsquery_expression(query) == "('paper' <-> 'jam') & ('wi' <-> 'fi':*)"


def test_tsvector_literal_weights_words_and_leaves_a_gap_between_fields():
    literal = tsvector_literal([("Cámara rota", "A"), ("rota otra vez", "C")])
    assert literal == "'camara':1A 'rota':2A,4C 'otra':5C 'vez':6C"


def test_tsvector_literal_caps_positions():
    literal = tsvector_literal([("x " * 20000, "C")])
    entries = literal.split(":", 1)[1].split(",")
    assert len(entries) == 256
    assert entries[-1] == "256C"


@pytest.mark.parametrize("internal", ["", "   ", "¿?", "-- !!"])
def test_a_field_without_words_adds_nothing_to_a_tsvector_literal(internal):
    # the PostgreSQL index reuses the public document for staff when internal notes have no words
    public = [("Cámara rota", "A"), ("rota otra vez", "C")]
    assert tsvector_literal([*public, (internal, "D")]) == tsvector_literal(public)
