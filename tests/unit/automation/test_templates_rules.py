"""What a response template may say, and rendering one: plain text and the allowed ``{{ variable.attribute }}``
outputs only (checked on the parsed template), rendered in Jinja2's sandbox with StrictUndefined."""

from datetime import UTC, datetime

import pytest
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from services.automation.domain import templates
from services.automation.domain.errors import ValidationFailed
from services.automation.domain.templates import ALLOWED, ONLY_VARIABLES, ResponseTemplate

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CONTEXT = {
    "ticket": {"number": "TKT-000123", "title": "Printer on fire", "status": "open", "priority": "urgent",
               "category": "Hardware", "created_at": "2026-01-05T08:00:00+00:00"},
    "requester": {"name": "Rita Requester", "email": "rita@example.com"},
    "agent": {"name": "Alex Agent", "email": "alex@example.com"},
}


def _refused(body: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as raised:
        templates.check(body)
    assert list(raised.value.errors) == ["body"]
    return raised.value


def test_the_allowed_variables_are_the_ten_of_the_spec():
    assert ALLOWED == ("ticket.number", "ticket.title", "ticket.status", "ticket.priority", "ticket.category",
                       "ticket.created_at", "requester.name", "requester.email", "agent.name", "agent.email")


def test_every_allowed_variable_renders():
    body = "\n".join(f"{path}={{{{ {path} }}}}" for path in ALLOWED)

    rendered = templates.render(body, CONTEXT)

    assert rendered.splitlines() == [
        "ticket.number=TKT-000123", "ticket.title=Printer on fire", "ticket.status=open", "ticket.priority=urgent",
        "ticket.category=Hardware", "ticket.created_at=2026-01-05T08:00:00+00:00", "requester.name=Rita Requester",
        "requester.email=rita@example.com", "agent.name=Alex Agent", "agent.email=alex@example.com"]


def test_plain_text_comments_whitespace_control_and_raw_blocks_pass_and_render_as_written():
    body = "Hello {{- requester.name -}} !{# not shown #}\n{% raw %}{{ literal }}{% endraw %}\n"

    assert templates.variables(body) == ["requester.name"]
    assert templates.render(body, CONTEXT) == "HelloRita Requester!\n{{ literal }}\n"  # the last newline kept


def test_text_is_not_escaped_and_null_renders_as_nothing():
    context = {"ticket": {"title": "<b>R&D</b>", "category": None}}

    assert templates.render("{{ ticket.title }}|{{ ticket.category }}|", context) == "<b>R&D</b>||"


def test_variables_answers_each_one_once_in_order_of_first_use():
    assert templates.variables("{{ agent.name }} {{ ticket.number }} {{ agent.name }}") == ["agent.name",
                                                                                            "ticket.number"]


@pytest.mark.parametrize(("body", "unknown"), [
    ("Dear {{ ticket.foo }}", "ticket.foo"),  # an unknown attribute
    ("{{ customer.name }}", "customer.name"),  # an unknown variable
    ("{{ ticket }}", "ticket"),  # a variable without its attribute
    ("{{ ticket.number.upper }}", "ticket.number.upper"),  # an attribute of an attribute
    ("{{ ticket.__class__ }}", "ticket.__class__"),  # what a sandbox escape starts with
    ("{{ requester.password_hash }}", "requester.password_hash"),
])
def test_an_unknown_variable_is_refused_naming_it_and_the_allowed_ones(body, unknown):
    refused = _refused(body)

    assert refused.message == f"Unknown variable {unknown}; allowed: {', '.join(ALLOWED)}."
    assert refused.errors == {"body": [refused.message]}


def test_every_unknown_variable_is_named():
    refused = _refused("{{ ticket.foo }} {{ ticket.number }} {{ agent.phone }} {{ ticket.foo }}")

    assert refused.message.startswith("Unknown variables ticket.foo, agent.phone; allowed: ticket.number, ")
    assert [m.split(";")[0] for m in refused.errors["body"]] == ["Unknown variable ticket.foo",
                                                                 "Unknown variable agent.phone"]


@pytest.mark.parametrize("body", [
    "{{ ticket.number | upper }}",  # a filter
    "{{ ticket.title|e }}",
    "{% if ticket.priority %}urgent{% endif %}",  # statements
    "{% for x in ticket %}{{ x }}{% endfor %}",
    "{% set name = agent.name %}{{ name }}",
    "{% include 'other' %}",
    "{% macro m() %}x{% endmacro %}",
    "{{ ticket.number() }}",  # calls
    "{{ range(10) }}",
    "{{ lipsum() }}",
    "{{ 1 + 2 }}",  # arithmetic and constants
    "{{ ticket.number ~ '!' }}",
    "{{ 'text' }}",
    "{{ ticket['number'] }}",  # an item lookup is not the allowed spelling
    "{{ ticket.number if ticket.title }}",
    "{{ ticket.number is defined }}",
    "{{ [agent.name] }}",
    "{{ ().__class__.__base__ }}",
    "Dear {{ requester.name }}, {% if x %}{% endif %}",  # one statement among allowed text
])
def test_template_code_is_refused(body):
    refused = _refused(body)

    assert refused.message == ONLY_VARIABLES == "Only variables like {{ ticket.number }} are allowed."
    assert refused.errors == {"body": [ONLY_VARIABLES]}


@pytest.mark.parametrize(("body", "line"), [
    ("Hello {{ ticket.number ", "Line 1: unexpected end of template, expected 'end of print statement'."),
    ("Hello\n\n{% foo %}", "Line 3: Encountered unknown tag 'foo'."),
    ("{{ }}", "Line 1: Expected an expression, got 'end of print statement'"),
])
def test_a_syntax_error_is_refused_with_jinjas_message_and_line(body, line):
    refused = _refused(body)

    assert refused.errors == {"body": [line]}
    assert refused.message == f"The template does not parse: {line}"


def test_rendering_checks_the_body_again():
    with pytest.raises(ValidationFailed) as raised:
        templates.render("{{ ticket.__class__ }}", CONTEXT)
    assert "body" in raised.value.errors

    with pytest.raises(ValidationFailed) as raised:
        templates.render("{{ ticket.number|upper }}", CONTEXT)
    assert raised.value.errors == {"body": [ONLY_VARIABLES]}


@pytest.mark.parametrize("context", [
    {},
    {"ticket": {}},
    {"ticket": None},
    {"ticket": "TKT-000123"},
    {"agent": {"number": "TKT-000123"}},
])
def test_a_variable_the_context_does_not_give_is_refused_never_rendered_empty(context):
    with pytest.raises(ValidationFailed) as raised:
        templates.render("Ticket {{ ticket.number }}", context)

    assert raised.value.errors == {"context": ["No value for ticket.number."]}


@pytest.mark.parametrize("value", [{"a": 1}, ["TKT-1"], object()])
def test_a_value_that_is_not_plain_is_refused(value):
    with pytest.raises(ValidationFailed) as raised:
        templates.render("{{ ticket.number }}", {"ticket": {"number": value}})

    assert raised.value.errors == {"context": ["ticket.number: must be text, a number, a boolean or null."]}


def test_the_context_must_be_an_object():
    with pytest.raises(ValidationFailed) as raised:
        templates.render("{{ ticket.number }}", ["ticket"])

    assert raised.value.errors == {"context": ["Expected an object."]}


def test_only_the_variables_the_template_uses_reach_jinja_and_extra_values_are_ignored():
    context = {**CONTEXT, "secret": {"token": "s3cret"}, "ticket": {**CONTEXT["ticket"], "internal_note": "x"}}

    assert templates.render("plain text", context) == "plain text"
    assert templates.render("{{ ticket.number }}", context) == "TKT-000123"


def test_rendering_happens_in_the_sandbox_with_strict_undefined():
    environment = templates.ENVIRONMENT

    assert isinstance(environment, SandboxedEnvironment)
    assert environment.undefined is StrictUndefined
    # what the checks keep out would not get through the sandbox either
    with pytest.raises(SecurityError):
        environment.from_string("{{ ticket.number.__class__.__mro__ }}").render(ticket={"number": "x"})


# -- the entity ------------------------------------------------------------------------------------


def _template(**overrides) -> ResponseTemplate:
    fields = {"id": "t-1", "name": "  Greeting ", "body": "Hello {{ requester.name }}", "created_by": "u-1",
              "now": NOW, "category": " Openers "}
    fields.update(overrides)
    return ResponseTemplate(**fields)


def test_a_new_template_keeps_a_trimmed_name_its_key_and_its_body_as_written():
    template = _template(body="  Hi {{ agent.name }}\n")

    assert (template.name, template.name_key, template.category) == ("Greeting", "greeting", "Openers")
    assert template.body == "  Hi {{ agent.name }}\n"
    assert (template.created_by, template.created_at, template.updated_at) == ("u-1", NOW, NOW)


def test_a_new_template_with_template_code_is_refused():
    with pytest.raises(ValidationFailed) as raised:
        _template(body="{% if 1 %}x{% endif %}")

    assert raised.value.errors == {"body": [ONLY_VARIABLES]}


def test_update_answers_what_changed_and_moves_updated_at():
    template = _template()
    later = datetime(2026, 1, 6, tzinfo=UTC)

    changes = template.update({"name": "Welcome", "body": "Hello {{ requester.name }}", "category": None}, now=later)

    assert changes == {"name": {"before": "Greeting", "after": "Welcome"},
                       "category": {"before": "Openers", "after": None}}
    assert (template.name_key, template.updated_at) == ("welcome", later)
    assert template.update({"name": " Welcome "}, now=NOW) == {}
    assert template.updated_at == later


def test_update_with_a_refused_body_changes_nothing():
    template = _template()

    with pytest.raises(ValidationFailed):
        template.update({"name": "Other", "body": "{{ ticket.foo }}"}, now=NOW)

    assert (template.name, template.body) == ("Greeting", "Hello {{ requester.name }}")


def test_only_name_category_and_body_can_be_changed():
    with pytest.raises(ValidationFailed) as raised:
        _template().update({"created_by": "u-2"}, now=NOW)

    assert raised.value.errors == {"created_by": ["Unknown or read-only field."]}


def test_its_creator_and_managers_may_change_it():
    template = _template()

    assert template.may_be_changed_by("u-1", manager=False)
    assert template.may_be_changed_by("u-2", manager=True)
    assert not template.may_be_changed_by("u-2", manager=False)
    assert not template.may_be_changed_by(None, manager=False)
