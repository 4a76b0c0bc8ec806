"""Response templates (canned responses): the entity, what a template may say, and rendering one.

A template is plain text with ``{{ variable.attribute }}`` outputs from ``ALLOWED`` (the one list), in
Jinja2 syntax. It is checked when saved (created or changed) by walking the parsed template: any other
node - a ``{% ... %}`` statement, a filter, a call, a constant, arithmetic, an item lookup - is template
code and refused, as is a variable not in the list. ``{% raw %}...{% endraw %}`` is the one tag that
passes: the parser turns it into plain text (the way to write a literal ``{{``). Rendering happens in
Jinja2's sandbox with ``StrictUndefined``: a variable the context does not give is refused, never
rendered as an empty string; a ``None`` value (a ticket without a category) renders as nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import SandboxedEnvironment

from helpdesk_contracts.names import name_key
from helpdesk_contracts.vocabulary import TEMPLATE_VARIABLES
from services.automation.domain.errors import ValidationFailed

# what a template may print, {{ <variable>.<attribute> }}: one list, shared with the gateway (which documents
# it in the OpenAPI) as the vocabulary's
ALLOWED: tuple[str, ...] = TEMPLATE_VARIABLES

ONLY_VARIABLES = "Only variables like {{ ticket.number }} are allowed."
SCALARS = (str, int, float, bool, type(None))

Changes = dict[str, dict[str, Any]]

ENVIRONMENT = SandboxedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,  # text for a reply, not HTML
    keep_trailing_newline=True,  # the text as written, to its last character
    finalize=lambda value: "" if value is None else value,
)


def _refuse(message: str, problems: list[str]) -> ValidationFailed:
    return ValidationFailed(message, {"body": problems})


def _parse(body: str) -> nodes.Template:
    try:
        return ENVIRONMENT.parse(body)
    except TemplateSyntaxError as exc:
        line = f"Line {exc.lineno}: {exc.message}"
        raise _refuse(f"The template does not parse: {line}", [line]) from None


def _dotted(node: nodes.Node) -> str | None:
    """``ticket.number`` for a chain of attribute lookups on a name; None for anything else."""
    if isinstance(node, nodes.Name) and node.ctx == "load":
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _outputs(tree: nodes.Template) -> Iterator[nodes.Node]:
    """Every printed node of the template; template code raises."""
    for statement in tree.body:
        if not isinstance(statement, nodes.Output):
            raise _refuse(ONLY_VARIABLES, [ONLY_VARIABLES])
        yield from statement.nodes


def variables(body: str) -> list[str]:
    """Check a template's body; answer the variables it uses (``ticket.number``...), in order of first use.

    Raises ValidationFailed naming ``body``: a syntax error (Jinja's message and line), template code, or
    a variable not in ``ALLOWED``.
    """
    used: list[str] = []
    for node in _outputs(_parse(body)):
        if isinstance(node, nodes.TemplateData):
            continue
        path = _dotted(node)
        if path is None:
            raise _refuse(ONLY_VARIABLES, [ONLY_VARIABLES])
        if path not in used:
            used.append(path)
    unknown = [path for path in used if path not in ALLOWED]
    if unknown:
        allowed = ", ".join(ALLOWED)
        messages = [f"Unknown variable {path}; allowed: {allowed}." for path in unknown]
        summary = messages[0] if len(unknown) == 1 else f"Unknown variables {', '.join(unknown)}; allowed: {allowed}."
        raise _refuse(summary, messages)
    return used


def check(body: str) -> None:
    """Refuse a body that is not plain text and allowed variables (see ``variables``)."""
    variables(body)


def render(body: str, context: Any) -> str:
    """Render a template with ``{variable: {attribute: value}}`` (``{"ticket": {"number": "TKT-000123"}}``).

    The body is checked again (the allowed variables may have narrowed since it was saved). A variable the
    template uses and the context does not give, or gives as anything but text, a number, a boolean or
    null, is a ValidationFailed naming ``context``. Only the variables the template uses reach Jinja.
    """
    used = variables(body)
    if not isinstance(context, dict):
        raise ValidationFailed("The context must be an object.", {"context": ["Expected an object."]})
    given: dict[str, dict[str, Any]] = {}
    for path in used:
        variable, attribute = path.split(".")
        values = context.get(variable)
        if not isinstance(values, dict) or attribute not in values:
            raise ValidationFailed(f"No value for {path}.", {"context": [f"No value for {path}."]})
        if not isinstance(values[attribute], SCALARS):
            raise ValidationFailed(f"The value of {path} must be text, a number, a boolean or null.",
                                   {"context": [f"{path}: must be text, a number, a boolean or null."]})
        given.setdefault(variable, {})[attribute] = values[attribute]
    try:
        return ENVIRONMENT.from_string(body).render(given)
    except UndefinedError as exc:  # the checks above leave none; StrictUndefined still says so, never ""
        raise ValidationFailed(f"No value for a variable: {exc.message}", {"context": [str(exc.message)]}) from None
    except TemplateError as exc:  # the sandbox refused something (the checks above leave nothing to refuse)
        raise _refuse(f"The template cannot be rendered: {exc.message}", [str(exc.message)]) from None


def context_of(ticket: dict[str, Any], *, requester: dict[str, Any] | None,
               agent: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The values a template is rendered with for a ticket: the ticket's, its requester's and the agent's."""
    return {
        "ticket": {name: ticket.get(name) for name in ("number", "title", "status", "priority", "category",
                                                       "created_at")},
        "requester": {"name": (requester or {}).get("name"), "email": (requester or {}).get("email")},
        "agent": {"name": (agent or {}).get("name"), "email": (agent or {}).get("email")},
    }


class ResponseTemplate:
    """A canned response staff insert into replies; unique by ``name_key`` (its name ignoring case,
    width and spacing). Its creator and managers may change or delete it."""

    EDITABLE = ("name", "category", "body")

    def __init__(self, *, id: str, name: str, body: str, created_by: str, now: datetime,
                 category: str | None = None):
        check(body)
        self.id = id
        self.name = name.strip()
        self.name_key = name_key(self.name)
        self.category = _category(category)
        self.body = body
        self.created_by = created_by
        self.created_at = now
        self.updated_at = now

    def update(self, changes: dict[str, Any], *, now: datetime) -> Changes:
        """Apply editable fields (a new body is checked first); return ``{field: {before, after}}``."""
        if "body" in changes:
            check(changes["body"])  # before anything changes
        applied: Changes = {}
        for field, value in changes.items():
            if field not in self.EDITABLE:
                raise ValidationFailed(f"{field} cannot be changed.", {field: ["Unknown or read-only field."]})
            if field == "name":
                value = value.strip()
            elif field == "category":
                value = _category(value)
            before = getattr(self, field)
            if before != value:
                if field == "name":
                    self.name_key = name_key(value)  # before the change: a name too long once folded changes nothing
                setattr(self, field, value)
                applied[field] = {"before": before, "after": value}
        if applied:
            self.updated_at = now
        return applied

    def may_be_changed_by(self, actor_id: str | None, *, manager: bool) -> bool:
        """Its creator and managers (supervisors, admins) may change or delete it."""
        return manager or (actor_id is not None and actor_id == self.created_by)


def _category(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value
