"""The key names are unique by: case-folded in full Unicode, NFKC, blanks collapsed; and the renaming a
migration applies to names that collide once folded."""

import pytest

from helpdesk_contracts.errors import ValidationFailed
from helpdesk_contracts.names import NAME_KEY_MAX_CHARS, fold_name, name_key, unique_names


@pytest.mark.parametrize(("a", "b"), [("Équipe", "équipe"), ("Straße", "STRASSE"), ("Ｆｉｘ", "fix"), ("ﬁx", "FIX"),
                                      ("  Help   Desk ", "help desk"), ("e\u0301", "é"), ("ΣΊΣΥΦΟΣ", "σίσυφος")])
def test_names_that_are_one_name_share_a_key(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [("Equipe", "Équipe"), ("helpdesk", "help desk"), ("I", "ı")])
def test_different_names_keep_different_keys(a, b):
    assert name_key(a) != name_key(b)


def test_a_name_whose_key_does_not_fit_is_refused_naming_the_field():
    assert len(fold_name("\ufdfa" * 23)) > NAME_KEY_MAX_CHARS

    with pytest.raises(ValidationFailed) as raised:
        name_key("\ufdfa" * 23, field="title")

    assert list(raised.value.errors) == ["title"]


def test_unique_names_keeps_the_first_and_numbers_the_later_ones():
    rows = [("1", "Équipe"), ("2", "équipe"), ("3", "Other"), ("4", "ÉQUIPE"), ("5", "équipe (2)")]

    renamed = unique_names(rows, max_chars=200)

    assert {i: name for i, (name, _) in renamed.items()} == {
        "1": "Équipe", "2": "équipe (2)", "3": "Other", "4": "ÉQUIPE (3)", "5": "équipe (2) (2)"}
    assert len({key for _, key in renamed.values()}) == 5


def test_unique_names_cuts_a_long_name_to_fit_its_suffix():
    renamed = unique_names([("1", "x" * 100), ("2", "X" * 100)], max_chars=100)

    assert renamed["2"][0] == "X" * 96 + " (2)"
