"""The shared vocabulary is written once: no other module spells out one of its sets again."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpdesk_contracts import vocabulary

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("services", "gateway", "libs", "bench", "tests", "fuzz")
# migrations freeze the values of their day on purpose; the vocabulary is the one definition. Test modules
# are left out (see _sources), their fakes, fixtures and conftests are not.
EXEMPT = ("libs/helpdesk_contracts/vocabulary.py",)

SETS = {
    "ROLES": vocabulary.ROLES,
    "STAFF_ROLES": vocabulary.STAFF_ROLES,
    "USER_STATUSES": vocabulary.USER_STATUSES,
    "AVAILABILITIES": vocabulary.AVAILABILITIES,
    "TICKET_STATUSES": vocabulary.TICKET_STATUSES,
    "PRIORITIES": vocabulary.PRIORITIES,
    "LEVELS": vocabulary.LEVELS,
    "SOURCES": vocabulary.SOURCES,
    "LINK_KINDS": vocabulary.LINK_KINDS,
    "ROUTING_STRATEGIES": vocabulary.ROUTING_STRATEGIES,
    "TEMPLATE_VARIABLES": vocabulary.TEMPLATE_VARIABLES,
}


def _sources() -> list[Path]:
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in EXEMPT or "/.venv/" in relative:
                continue
            if path.name.startswith("test_"):  # a test may state the values it expects on its own
                continue
            found.append(path)
    return found


def _strings(node: ast.AST) -> frozenset[str] | None:
    """Return the strings of a literal collection made only of strings (None ignored), or None.

    A dict counts when it is a transition table (its values are collections of strings too): a table
    keyed by the vocabulary that maps it to something else (counts) is not a restatement.
    """
    if isinstance(node, ast.Dict):
        if not all(isinstance(v, ast.Tuple | ast.List | ast.Set) for v in node.values):
            return None
        elements = node.keys
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        elements = node.elts
    else:
        return None
    values = [e.value for e in elements if isinstance(e, ast.Constant) and e.value is not None]
    if len(values) < 3 or not all(isinstance(v, str) for v in values):
        return None
    if len(values) != sum(1 for e in elements if not (isinstance(e, ast.Constant) and e.value is None)):
        return None  # mixed with names or calls: not a restatement
    return frozenset(values)


def restatements(source: str) -> list[tuple[int, str]]:
    """Return (line, set name) for each literal collection in ``source`` that spells out a shared set."""
    wanted = {frozenset(values): name for name, values in SETS.items()}
    found = []
    for node in ast.walk(ast.parse(source)):
        strings = _strings(node)
        name = wanted.get(strings) if strings is not None else None
        # a dict keyed by levels with priorities for values is the ITIL matrix, not a restatement
        if name is not None and (not isinstance(node, ast.Dict) or name == "TICKET_STATUSES"):
            found.append((node.lineno, name))
    return found


def test_restatements_finds_a_tuple_of_the_statuses_in_any_order():
    source = 'STATES = ("closed", "new", "open", "in_progress", "waiting", "resolved")\nOK = ("new", "open")\n'
    assert restatements(source) == [(1, "TICKET_STATUSES")]


def test_restatements_finds_a_transition_table_and_an_enum_list_with_null_but_not_counts():
    source = (
        'T = {"new": ("open",), "open": (), "in_progress": (), "waiting": (), "resolved": (), "closed": ()}\n'
        'E = {"enum": ["low", "medium", "high", "critical", None]}\n'
        'COUNTS = {"new": 1, "open": 1, "in_progress": 1, "waiting": 1, "resolved": 1, "closed": 1}\n'
    )
    assert restatements(source) == [(1, "TICKET_STATUSES"), (2, "LEVELS")]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_restates_a_shared_set(path: Path):
    found = restatements(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} spells out {found}: import it from helpdesk_contracts.vocabulary"


def _max_length(schema: type, name: str) -> int | None:
    from marshmallow import validate

    field = schema._declared_fields[name]
    lengths = [v.max for v in field.validators if isinstance(v, validate.Length)]
    return lengths[0] if lengths else None


def _length_cases():
    from gateway.schemas import automation as gateway_automation
    from gateway.schemas import tickets as gateway_tickets
    from gateway.schemas import users as gateway_users
    from services.automation import schemas as automation_schemas
    from services.tickets import schemas as tickets_schemas
    from services.users import schemas as users_schemas

    return [
        (gateway_tickets.CreateTicketSchema, tickets_schemas.OpenTicket, "title", vocabulary.TITLE_MAX),
        (gateway_tickets.CreateTicketSchema, tickets_schemas.OpenTicket, "description", vocabulary.DESCRIPTION_MAX),
        (gateway_tickets.CreateCommentSchema, tickets_schemas.AddComment, "body", vocabulary.COMMENT_MAX),
        (gateway_tickets.CreateCategorySchema, tickets_schemas.CategoryInput, "name", vocabulary.CATEGORY_NAME_MAX),
        (gateway_tickets.CreateCategorySchema, tickets_schemas.CategoryInput, "required_skills", vocabulary.SKILLS_MAX),
        (gateway_users.CreateUserSchema, users_schemas.CreateUser, "name", vocabulary.NAME_MAX),
        (gateway_users.CreateUserSchema, users_schemas.CreateUser, "phone", vocabulary.PHONE_MAX),
        (gateway_automation.CreateTemplateSchema, automation_schemas.TemplateInput, "name", vocabulary.NAME_MAX),
        (gateway_automation.CreateTemplateSchema, automation_schemas.TemplateInput, "category",
         vocabulary.TEMPLATE_CATEGORY_MAX),
        (gateway_automation.CreateTemplateSchema, automation_schemas.TemplateInput, "body",
         vocabulary.TEMPLATE_BODY_MAX),
    ]


@pytest.mark.parametrize(("gateway_schema", "service_schema", "name", "limit"), _length_cases(),
                         ids=lambda value: getattr(value, "__name__", str(value)))
def test_gateway_and_service_hold_a_field_to_the_shared_length(gateway_schema, service_schema, name, limit):
    assert _max_length(gateway_schema, name) == limit
    assert _max_length(service_schema, name) == limit
