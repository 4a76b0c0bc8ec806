"""Pure rules of the users domain: the password policy, e-mail normalisation and the role tables."""

import pytest

from services.users.domain import rules

EMAIL = "ana@example.com"


# e-mail normalisation


def test_normalize_email_lowercases_and_strips():
    assert rules.normalize_email("  Ana.Lee@Example.COM \n") == "ana.lee@example.com"


def test_normalize_email_is_idempotent():
    once = rules.normalize_email(" Bob@Example.com ")
    assert rules.normalize_email(once) == once


# password policy


def test_password_problems_accepts_minimum_length_with_letter_and_digit():
    assert rules.password_problems("abcdefg1", email=EMAIL) == []


def test_password_problems_rejects_one_below_minimum_length():
    problems = rules.password_problems("abcdef1", email=EMAIL)
    assert problems == [f"Password must be at least {rules.PASSWORD_MIN_LENGTH} characters long."]


def test_password_problems_accepts_maximum_length():
    assert rules.password_problems("a1" * (rules.PASSWORD_MAX_LENGTH // 2), email=EMAIL) == []


def test_password_problems_rejects_one_above_maximum_length():
    password = "a1" * (rules.PASSWORD_MAX_LENGTH // 2) + "x"
    assert len(password) == rules.PASSWORD_MAX_LENGTH + 1
    assert rules.password_problems(password, email=EMAIL) == [
        f"Password must be at most {rules.PASSWORD_MAX_LENGTH} characters long."
    ]


@pytest.mark.parametrize("password", ["onlyletters", "1234567890", "!!!!????....", "ＡＢＣＤＥＦＧＨ"])
def test_password_problems_requires_a_letter_and_a_digit_when_one_is_missing(password):
    assert rules.password_problems(password, email=EMAIL) == [
        "Password must contain at least one letter and one digit."
    ]


@pytest.mark.parametrize("password", ["Ana12345@Example.com", " ana12345@example.com ", "ANA12345"])
def test_password_problems_rejects_the_email_or_its_local_part_in_any_case(password):
    problems = rules.password_problems(password, email="ana12345@example.com")
    assert "Password must not be your e-mail address." in problems


def test_password_problems_accepts_a_password_merely_containing_the_local_part():
    assert rules.password_problems("ana12345-and-more", email="ana12345@example.com") == []


def test_password_problems_skips_the_email_rule_without_an_email():
    assert rules.password_problems("ana12345") == []


def test_password_problems_reports_every_problem_at_once():
    problems = rules.password_problems("abc", email=EMAIL)
    assert len(problems) == 2
    assert problems[0].startswith("Password must be at least")
    assert problems[1].startswith("Password must contain")


def test_password_problems_counts_characters_not_bytes():
    # eight characters, more than eight bytes in UTF-8
    assert rules.password_problems("äöüßé12x", email=EMAIL) == []


# roles


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_is_staff_true_for_staff_roles(role):
    assert rules.is_staff(role) is True


@pytest.mark.parametrize("role", ["customer", "Agent", "", "root"])
def test_is_staff_false_for_customers_and_unknown_roles(role):
    assert rules.is_staff(role) is False


def test_staff_roles_are_roles_except_customer():
    assert set(rules.STAFF_ROLES) == set(rules.ROLES) - {"customer"}
