"""The input limits: what any client may send, checked the same way at the gateway and at the services."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_contracts import limits
from helpdesk_contracts.errors import ValidationFailed


def nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


# text -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "plain ascii", "Ñandú — 日本語 😀", "tab\tand\nnewline"])
def test_text_of_valid_unicode_without_nul_passes(text):
    assert limits.text_problem(text) is None


def test_text_with_nul_is_refused():
    assert limits.text_problem("a\x00b") == limits.NUL_CHARACTER


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "é\udc00"], ids=["high", "low-in-ascii", "low-in-unicode"])
def test_text_with_a_lone_surrogate_is_refused(text):
    assert limits.text_problem(text) == limits.LONE_SURROGATE


def test_a_surrogate_pair_in_json_is_one_valid_character():
    assert limits.parse_json(b'"\\ud83d\\ude00"') == ("😀", None)


# numbers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [0, -1, limits.INT64_MIN, limits.INT64_MAX])
def test_integers_of_64_bits_pass(number):
    assert limits.integer_problem(number) is None


@pytest.mark.parametrize("number", [limits.INT64_MIN - 1, limits.INT64_MAX + 1, 10**30])
def test_integers_past_64_bits_are_refused(number):
    assert limits.integer_problem(number) == limits.INTEGER_RANGE


@pytest.mark.parametrize("raw", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_non_finite_numbers_are_refused(raw):
    assert limits.parse_json(raw) == (None, limits.Problem(limits.WHOLE_BODY, limits.NOT_FINITE))


# nesting ----------------------------------------------------------------------------------------------

def test_nesting_up_to_the_limit_passes():
    assert limits.value_problem(nested(limits.MAX_DEPTH)) is None


def test_nesting_past_the_limit_is_malformed():
    problem = limits.value_problem({"metadata": nested(limits.MAX_DEPTH)})

    assert problem == limits.Problem("metadata" + ".0" * (limits.MAX_DEPTH - 1), limits.TOO_DEEP, malformed=True)


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_deeper_than_the_parser_goes_is_malformed_not_an_error(depth):
    raw = ("[" * depth + "]" * depth).encode()

    assert limits.parse_json(raw) == (None, limits.Problem(limits.WHOLE_BODY, limits.TOO_DEEP, malformed=True))


def test_not_json_is_malformed():
    for raw in (b'{"a": ', b"\xff\xfe\x00", "{'a': 1}", '{"a": 1}'.encode("utf-16"), b'\xef\xbb\xbf{"a": 1}'):
        _, problem = limits.parse_json(raw)
        assert problem == limits.Problem(limits.WHOLE_BODY, limits.NOT_JSON, malformed=True)


# where a problem is named -----------------------------------------------------------------------------

def test_a_problem_is_named_by_its_dotted_path():
    value = {"title": "ok", "metadata": {"items": [1, "x\x00"]}}

    assert limits.value_problem(value) == limits.Problem("metadata.items.1", limits.NUL_CHARACTER)


def test_a_bad_key_is_named_by_the_object_holding_it():
    problem = limits.value_problem({"metadata": {"k\x00": 1}})

    assert problem.field == "metadata" and "NUL" in problem.message and not problem.malformed


def test_a_bad_top_level_value_is_the_whole_body():
    assert limits.value_problem("\x00") == limits.Problem(limits.WHOLE_BODY, limits.NUL_CHARACTER)


def test_rpc_arguments_are_refused_with_validation_failed_naming_argument_and_field():
    with pytest.raises(ValidationFailed) as refused:
        limits.check_arguments({"self": None, "data": {"title": "\ud800"}, "actor": {"id": "x"}})

    assert refused.value.errors == {"data.title": [limits.LONE_SURROGATE]}


def test_rpc_arguments_within_the_limits_pass():
    limits.check_arguments({"data": {"title": "ok", "tags": ["a"], "n": 3, "x": 1.5, "flag": True, "none": None}})


# pages and moments ------------------------------------------------------------------------------------

def test_the_last_page_offset_fits_64_bits_for_the_largest_limit():
    assert (limits.PAGE_MAX - 1) * limits.PAGE_LIMIT_MAX <= limits.INT64_MAX
    assert limits.page_problem(limits.PAGE_MAX, limits.PAGE_LIMIT_MAX) is None


@pytest.mark.parametrize(("page", "limit", "field"), [(0, 20, "page"), (limits.PAGE_MAX + 1, 1, "page"), (1, 0, "limit"),
                                                      (1, limits.PAGE_LIMIT_MAX + 1, "limit")])
def test_pages_out_of_range_are_refused_naming_the_field(page, limit, field):
    assert limits.page_problem(page, limit).field == field


@pytest.mark.parametrize(
    "moment",
    [datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=5)))],
    ids=["before-year-1", "after-year-9999"],
)
def test_moments_leaving_years_1_to_9999_in_utc_are_refused(moment):
    with pytest.raises(ValueError, match="years 1 to 9999"):
        limits.utc_moment(moment)


def test_moments_are_converted_to_utc_and_naive_ones_taken_as_utc():
    assert limits.utc_moment(datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))) == datetime(
        2025, 1, 1, 10, tzinfo=UTC)
    assert limits.utc_moment(datetime(1, 1, 1)) == datetime(1, 1, 1, tzinfo=UTC)
    assert limits.utc_moment(datetime(9999, 12, 31, 23, 59, tzinfo=UTC)).year == 9999


# any JSON value: passes or is refused, never raises ---------------------------------------------------

_any_text = st.text(st.characters(exclude_categories=()))  # surrogates and NUL included
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | _any_text
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_any_text, inner, max_size=4),
                     max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_value_passes_or_is_refused_with_a_named_problem(value):
    problem = limits.value_problem(value)

    if problem is None:  # what passes, our encoders and databases can hold
        json.dumps(value, allow_nan=False).encode("utf-8")
    else:
        assert problem.field and problem.message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | _json.map(lambda v: json.dumps(v).encode()) | st.integers(0, 3000).map(
    lambda depth: b"[" * depth + b"1" + b"]" * depth))
def test_any_body_parses_or_is_refused_never_raises(raw):
    value, problem = limits.parse_json(raw)

    assert (problem is None) or (value is None and problem.message)
