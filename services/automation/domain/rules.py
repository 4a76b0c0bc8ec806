"""Automation rules: when a ticket event comes (``triggers``), if the ticket matches (``conditions``), do
these things to it in order (``actions``). Plain data and pure functions: checking a rule as saved,
evaluating its conditions on a ticket's facts, and planning what its actions would change. Acting on the
plan (through the tickets service) is the handlers'.

Conditions are a tree: a leaf ``{"field", "operator", "value"}``, or ``{"all": [...]}`` / ``{"any": [...]}``
nesting others (``{"all": []}`` always matches). Fields, operators and actions are the vocabulary's
``RULE_FIELDS``, ``RULE_OPERATORS`` and ``RULE_ACTIONS``. Every problem is reported at its path inside the
JSON (``conditions.all.1.operator``), all of them at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpdesk_contracts.names import name_key
from helpdesk_contracts.vocabulary import (
    PRIORITIES,
    RULE_ACTIONS,
    RULE_ACTIONS_MAX,
    RULE_CONDITIONS_MAX,
    RULE_DEPTH_MAX,
    RULE_FIELDS,
    RULE_MESSAGE_MAX,
    RULE_OPERATORS,
    RULE_RECIPIENTS,
    RULE_TRIGGERS,
    TAG_MAX,
    TICKET_STATUSES,
)
from services.automation.domain.errors import ValidationFailed

Changes = dict[str, dict[str, Any]]

# what kind of value each field holds (which operators make sense, what a value must look like)
TEXT, LIST, NUMBER, BOOL, ID, CHOICE = "text", "list", "number", "bool", "id", "choice"
KINDS: dict[str, str] = {
    "title": TEXT, "description": TEXT, "category": TEXT, "source": TEXT, "urgency": TEXT, "impact": TEXT,
    "status": CHOICE, "priority": CHOICE, "tags": LIST,
    "department_id": ID, "assignee_id": ID, "requester_id": ID, "organization_id": ID,
    "reopen_count": NUMBER, "requester.email": TEXT, "requester.name": TEXT, "organization.name": TEXT,
    "organization.vip": BOOL,
    "minutes_since_created": NUMBER, "minutes_without_activity": NUMBER, "minutes_in_status": NUMBER,
    "minutes_without_agent_reply": NUMBER, "sla_minutes_remaining": NUMBER,
}
TIME_FIELDS = ("minutes_since_created", "minutes_without_activity", "minutes_in_status",
               "minutes_without_agent_reply", "sla_minutes_remaining")
assert set(KINDS) == set(RULE_FIELDS), "every rule field has a kind"
CHOICES = {"status": TICKET_STATUSES, "priority": PRIORITIES}
OPERATORS_OF: dict[str, tuple[str, ...]] = {
    TEXT: ("equals", "not_equals", "contains", "starts_with", "in", "not_in", "is_empty"),
    LIST: ("contains", "not_equals", "equals", "is_empty", "in", "not_in"),
    NUMBER: ("equals", "not_equals", "greater_than", "less_than", "in", "not_in", "is_empty"),
    BOOL: ("equals", "not_equals", "is_empty"),
    ID: ("equals", "not_equals", "in", "not_in", "is_empty"),
    CHOICE: ("equals", "not_equals", "greater_than", "less_than", "in", "not_in"),
}
IN_MAX = 100  # values an in/not_in list may hold

# what each action takes: {parameter: (required, check)}
STATUSES_SET = tuple(s for s in TICKET_STATUSES if s != "new")


class Problems:
    """Every problem found, by its path inside the JSON."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.found.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.found:
            path, messages = next(iter(self.found.items()))
            more = f" (and {len(self.found) - 1} more)" if len(self.found) > 1 else ""
            raise ValidationFailed(f"{path}: {messages[0]}{more}", dict(self.found))


# -- checking a rule as saved -----------------------------------------------------------------------


def check_triggers(raw: Any, problems: Problems, path: str = "triggers") -> list[str]:
    if not isinstance(raw, list) or not raw:
        problems.add(path, "Give a non-empty list of triggers.")
        return []
    found: list[str] = []
    for index, trigger in enumerate(raw):
        if trigger not in RULE_TRIGGERS:
            problems.add(f"{path}.{index}", f"Unknown trigger {trigger!r}; one of {', '.join(RULE_TRIGGERS)}.")
        elif trigger not in found:
            found.append(trigger)
    return found


def fields_named(conditions: dict[str, Any]) -> set[str]:
    """Every field a conditions tree looks at."""
    if "all" in conditions or "any" in conditions:
        return set().union(*(fields_named(item) for item in conditions.get("all", conditions.get("any", []))))
    return {conditions["field"]} if "field" in conditions else set()


LOOKUPS = ("description", "requester.email", "requester.name", "organization.name", "organization.vip",
           "sla_minutes_remaining")  # what an event's ticket snapshot does not carry: asked for or read


def may_match(rule: Rule, facts: Facts) -> bool:
    """Whether a rule may match an event's ticket judging by the snapshot alone (``facts`` without lookups):
    exactly, unless a condition names what must be asked for (then maybe: the rule is run to find out)."""
    return rule.needs_lookup or rule.predicate(facts)


def check_time_rule(triggers: list[str], conditions: dict[str, Any], problems: Problems) -> None:
    """A time rule must wait for something: a condition on a time field (else it would act on every ticket)."""
    if "time" in triggers and not fields_named(conditions) & set(TIME_FIELDS):
        problems.add("conditions", f"A time rule needs a condition on {', '.join(TIME_FIELDS)}.")


def check_conditions(raw: Any, problems: Problems, path: str = "conditions") -> dict[str, Any]:
    """Return the conditions tree normalised (a bare leaf stays a leaf); problems are added, not raised."""
    counter = [0]
    return _check_node(raw, problems, path, depth=0, counter=counter)


def _check_node(raw: Any, problems: Problems, path: str, *, depth: int, counter: list[int]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.add(path, "Expected an object: {\"field\", \"operator\", \"value\"}, {\"all\": [...]} or {\"any\": [...]}.")
        return {}
    groups = [key for key in ("all", "any") if key in raw]
    if groups:
        key = groups[0]
        if len(raw) != 1:
            problems.add(path, f"A group has only {key!r}: {', '.join(sorted(set(raw) - {key}))} not allowed.")
        if depth >= RULE_DEPTH_MAX:
            problems.add(path, f"Groups nest at most {RULE_DEPTH_MAX} deep.")
            return {}
        items = raw[key]
        if not isinstance(items, list):
            problems.add(f"{path}.{key}", "Expected a list of conditions.")
            return {}
        return {key: [_check_node(item, problems, f"{path}.{key}.{index}", depth=depth + 1, counter=counter)
                      for index, item in enumerate(items)]}
    counter[0] += 1
    if counter[0] == RULE_CONDITIONS_MAX + 1:
        problems.add(path, f"A rule has at most {RULE_CONDITIONS_MAX} conditions.")
    unknown = set(raw) - {"field", "operator", "value"}
    for key in sorted(unknown):
        problems.add(f"{path}.{key}", "Unknown key: a condition has field, operator and value.")
    name, operator = raw.get("field"), raw.get("operator")
    if name not in KINDS:
        problems.add(f"{path}.field", f"Unknown field {name!r}; one of {', '.join(RULE_FIELDS)}.")
        return {}
    kind = KINDS[name]
    if operator not in RULE_OPERATORS:
        problems.add(f"{path}.operator", f"Unknown operator {operator!r}; one of {', '.join(RULE_OPERATORS)}.")
        return {}
    if operator not in OPERATORS_OF[kind]:
        problems.add(f"{path}.operator", f"{name} does not take {operator}; it takes {', '.join(OPERATORS_OF[kind])}.")
        return {}
    if "value" not in raw:
        problems.add(f"{path}.value", "Missing value.")
        return {}
    value = _check_value(name, kind, operator, raw["value"], problems, f"{path}.value")
    return {"field": name, "operator": operator, "value": value}


def _check_value(name: str, kind: str, operator: str, value: Any, problems: Problems, path: str) -> Any:
    if operator == "is_empty":
        if not isinstance(value, bool):
            problems.add(path, "is_empty takes true (the field is empty) or false (it is not).")
        return value
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > IN_MAX:
            problems.add(path, f"{operator} takes a list of 1 to {IN_MAX} values.")
            return value
        return [_check_one(name, kind, operator, item, problems, f"{path}.{index}") for index, item in enumerate(value)]
    return _check_one(name, kind, operator, value, problems, path)


def _check_one(name: str, kind: str, operator: str, value: Any, problems: Problems, path: str) -> Any:
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.add(path, "Expected a number.")
        return value
    if kind == BOOL:
        if not isinstance(value, bool):
            problems.add(path, "Expected true or false.")
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > RULE_MESSAGE_MAX:
        problems.add(path, f"Expected text (1 to {RULE_MESSAGE_MAX} characters).")
        return value
    if kind == CHOICE and value not in CHOICES[name]:
        problems.add(path, f"Unknown {name} {value!r}; one of {', '.join(CHOICES[name])}.")
    if kind == ID and not _looks_like_id(value):
        problems.add(path, "Expected an id (a UUID).")
    return value


def _looks_like_id(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# action: {parameter: (required, kind)} - kinds: priority, status, id, tag, text, recipient, bool
ACTION_PARAMETERS: dict[str, dict[str, tuple[bool, str]]] = {
    "set_priority": {"priority": (True, "priority")},
    "assign_agent": {"agent_id": (True, "id")},
    "assign_department": {"department_id": (True, "id")},
    "add_tag": {"tag": (True, "tag")},
    "remove_tag": {"tag": (True, "tag")},
    "set_status": {"status": (True, "status")},
    "send_notification": {"to": (True, "recipient"), "user_id": (False, "id"), "message": (True, "text")},
    "add_comment": {"body": (False, "text"), "template_id": (False, "id"), "internal": (False, "bool")},
    "escalate": {"message": (False, "text")},
    "auto_resolve": {"resolution": (False, "text")},
    "close": {"resolution": (False, "text")},
}
assert set(ACTION_PARAMETERS) == set(RULE_ACTIONS), "every rule action has its parameters"


def check_actions(raw: Any, problems: Problems, path: str = "actions") -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw or len(raw) > RULE_ACTIONS_MAX:
        problems.add(path, f"Give a list of 1 to {RULE_ACTIONS_MAX} actions.")
        return []
    return [_check_action(item, problems, f"{path}.{index}") for index, item in enumerate(raw)]


def _check_action(raw: Any, problems: Problems, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.add(path, "Expected an object with a type.")
        return {}
    kind = raw.get("type")
    if kind not in ACTION_PARAMETERS:
        problems.add(f"{path}.type", f"Unknown action {kind!r}; one of {', '.join(RULE_ACTIONS)}.")
        return {}
    parameters = ACTION_PARAMETERS[kind]
    action: dict[str, Any] = {"type": kind}
    for key in sorted(set(raw) - set(parameters) - {"type"}):
        problems.add(f"{path}.{key}", f"Unknown parameter of {kind}; it takes {', '.join(parameters) or 'none'}.")
    for name, (required, value_kind) in parameters.items():
        if name not in raw or raw[name] is None:
            if required:
                problems.add(f"{path}.{name}", "Missing.")
            continue
        action[name] = _check_parameter(raw[name], value_kind, problems, f"{path}.{name}")
    if kind == "send_notification" and action.get("to") == "user" and "user_id" not in action:
        problems.add(f"{path}.user_id", "Name the user to notify.")
    if kind == "add_comment" and ("body" in action) == ("template_id" in action):
        problems.add(path, "Give either a body or a template_id.")
    return action


def _check_parameter(value: Any, kind: str, problems: Problems, path: str) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            problems.add(path, "Expected true or false.")
        return value
    if not isinstance(value, str) or not value.strip():
        problems.add(path, "Expected text.")
        return value
    value = value.strip()
    if kind == "priority" and value not in PRIORITIES:
        problems.add(path, f"Unknown priority {value!r}; one of {', '.join(PRIORITIES)}.")
    elif kind == "status" and value not in STATUSES_SET:
        problems.add(path, f"Unknown status {value!r}; one of {', '.join(STATUSES_SET)}.")
    elif kind == "id" and not _looks_like_id(value):
        problems.add(path, "Expected an id (a UUID).")
    elif kind == "tag" and len(value) > TAG_MAX:
        problems.add(path, f"At most {TAG_MAX} characters.")
    elif kind == "recipient" and value not in RULE_RECIPIENTS:
        problems.add(path, f"Unknown recipient {value!r}; one of {', '.join(RULE_RECIPIENTS)}.")
    elif kind == "text" and len(value) > RULE_MESSAGE_MAX:
        problems.add(path, f"At most {RULE_MESSAGE_MAX} characters.")
    return value


def referenced(actions: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The agents, users, departments and templates a rule's actions name (checked to exist at save)."""
    found: dict[str, set[str]] = {"agents": set(), "users": set(), "departments": set(), "templates": set()}
    for action in actions:
        if action.get("type") == "assign_agent":
            found["agents"].add(action["agent_id"])
        elif action.get("type") == "assign_department":
            found["departments"].add(action["department_id"])
        elif action.get("type") == "send_notification" and action.get("user_id"):
            found["users"].add(action["user_id"])
        elif action.get("type") == "add_comment" and action.get("template_id"):
            found["templates"].add(action["template_id"])
    return found


# -- the entity -------------------------------------------------------------------------------------


class Rule:
    """An automation rule; unique by ``name_key``; run in ``position`` order (then by name)."""

    EDITABLE = ("name", "description", "triggers", "conditions", "actions", "enabled", "position")

    def __init__(self, *, id: str, name: str, triggers: list[str], conditions: dict[str, Any],
                 actions: list[dict[str, Any]], created_by: str | None, now: datetime,
                 description: str | None = None, enabled: bool = True, position: int = 0):
        self.id = id
        self.name = name.strip()
        self.name_key = name_key(self.name)
        self.description = description
        self.triggers = list(triggers)
        self.conditions = conditions
        self.actions = list(actions)
        self.enabled = enabled
        self.position = position
        self.created_by = created_by
        self.created_at = now
        self.updated_at = now

    def update(self, changes: dict[str, Any], *, now: datetime) -> Changes:
        applied: Changes = {}
        for name, value in changes.items():
            if name not in self.EDITABLE:
                raise ValidationFailed(f"{name} cannot be changed.", {name: ["Unknown or read-only field."]})
            if name == "name":
                value = value.strip()
            before = getattr(self, name)
            if before != value:
                if name == "name":
                    self.name_key = name_key(value)
                setattr(self, name, value)
                applied[name] = {"before": before, "after": value}
        if applied:
            self.updated_at = now
        return applied

    def fires_on(self, trigger: str) -> bool:
        return self.enabled and trigger in self.triggers

    @property
    def predicate(self) -> Predicate:
        """Its conditions compiled (kept until they change)."""
        compiled = self.__dict__.get("_compiled")
        if compiled is None or compiled[0] is not self.conditions:
            compiled = (self.conditions, compile_conditions(self.conditions),
                        bool(fields_named(self.conditions) & set(LOOKUPS)))
            self.__dict__["_compiled"] = compiled
        return compiled[1]

    @property
    def needs_lookup(self) -> bool:
        """Whether a condition names what an event's snapshot lacks (the description, requester, ...)."""
        self.predicate  # noqa: B018  (compiles once)
        return self.__dict__["_compiled"][2]


# -- evaluating -------------------------------------------------------------------------------------


@dataclass
class Facts:
    """What conditions look at: the ticket (an event's snapshot or a ticket-shaped body), and what must be
    asked for (the description, the requester, their organization) fetched once, only when a condition
    names it."""

    ticket: dict[str, Any]
    now: datetime
    fetch: Mapping[str, Callable[[], Any]] = field(default_factory=dict)  # "description", "requester", "organization"
    _fetched: dict[str, Any] = field(default_factory=dict)

    def _asked(self, what: str) -> Any:
        if what not in self._fetched:
            source = self.fetch.get(what)
            self._fetched[what] = source() if source is not None else None
        return self._fetched[what]

    def value(self, name: str) -> Any:
        if name == "description" and "description" not in self.ticket:
            return self._asked("description")
        if name.startswith("requester."):
            requester = self.ticket.get("requester") or self._asked("requester") or {}
            return requester.get(name.split(".", 1)[1])
        if name.startswith("organization."):
            organization = self.ticket.get("organization") or self._asked("organization") or {}
            value = organization.get(name.split(".", 1)[1])
            return bool(value) if name == "organization.vip" else value
        if name == "minutes_since_created":
            return _minutes_since(self.ticket.get("created_at"), self.now)
        if name == "minutes_without_activity":
            return _minutes_since(self.ticket.get("updated_at") or self.ticket.get("created_at"), self.now)
        if name == "minutes_in_status":
            return _minutes_since(self.ticket.get("status_since"), self.now)
        if name == "minutes_without_agent_reply":  # null once an agent answered the requester's last message
            return _minutes_since(self.ticket.get("awaiting_agent_since"), self.now)
        if name == "sla_minutes_remaining":
            due = _moment(self.ticket.get("sla_due_at"))
            return None if due is None else (due - self.now).total_seconds() / 60
        return self.ticket.get(name)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _minutes_since(value: Any, now: datetime) -> float | None:
    moment = _moment(value)
    return None if moment is None else (now - moment).total_seconds() / 60


Predicate = Callable[[Facts], bool]


def matches(conditions: dict[str, Any], facts: Facts) -> bool:
    """Whether the ticket meets the conditions (an empty group always does)."""
    return compile_conditions(conditions)(facts)


def compile_conditions(conditions: dict[str, Any]) -> Predicate:
    """The conditions as one function of the facts: the tree walked, and each leaf's expected value folded,
    once (a rule keeps it: ``Rule.predicate``) instead of on every event."""
    if "all" in conditions:
        parts = [compile_conditions(item) for item in conditions["all"]]
        return lambda facts: all(part(facts) for part in parts)
    if "any" in conditions:
        parts = [compile_conditions(item) for item in conditions["any"]]
        return lambda facts: any(part(facts) for part in parts)
    if not conditions:
        return lambda facts: True
    name, operator, expected = conditions["field"], conditions["operator"], conditions["value"]
    kind = KINDS[name]
    if kind in (TEXT, ID) and operator in ("contains", "starts_with", "equals", "in"):
        if operator == "in":
            allowed = frozenset(_fold(value) for value in expected)
            return lambda facts: _fold(facts.value(name)) in allowed
        wanted = _fold(expected)
        if operator == "contains":
            return lambda facts: isinstance(actual := facts.value(name), str) and wanted in actual.casefold()
        if operator == "starts_with":
            return lambda facts: isinstance(actual := facts.value(name), str) and actual.casefold().startswith(wanted)
        return lambda facts: (actual := facts.value(name)) is not None and _fold(actual) == wanted
    if kind == CHOICE and operator in ("equals", "in", "not_equals", "not_in"):
        allowed = frozenset(expected if isinstance(expected, list) else [expected])
        if operator in ("equals", "in"):
            return lambda facts: facts.value(name) in allowed
        return lambda facts: facts.value(name) not in allowed
    return lambda facts: _test(name, operator, expected, facts.value(name))


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _test(name: str, operator: str, expected: Any, actual: Any) -> bool:
    kind = KINDS[name]
    if operator == "is_empty":
        empty = actual is None or actual == "" or actual == []
        return empty is expected
    if kind == LIST:
        items = [_fold(item) for item in (actual or [])]
        if operator == "contains":
            return _fold(expected) in items
        if operator == "equals":
            return _fold(expected) in items and len(items) == 1
        if operator == "not_equals":
            return _fold(expected) not in items
        if operator == "in":
            return any(_fold(value) in items for value in expected)
        return not any(_fold(value) in items for value in expected)  # not_in
    if actual is None and operator not in ("not_equals", "not_in"):
        return False
    if kind == CHOICE and operator in ("greater_than", "less_than"):
        order = CHOICES[name]
        if actual not in order:
            return False
        difference = order.index(actual) - order.index(expected)
        return difference > 0 if operator == "greater_than" else difference < 0
    if operator == "equals":
        return _fold(actual) == _fold(expected)
    if operator == "not_equals":
        return _fold(actual) != _fold(expected)
    if operator == "in":
        return _fold(actual) in [_fold(value) for value in expected]
    if operator == "not_in":
        return _fold(actual) not in [_fold(value) for value in expected]
    if operator == "contains":
        return isinstance(actual, str) and _fold(expected) in _fold(actual)
    if operator == "starts_with":
        return isinstance(actual, str) and _fold(actual).startswith(_fold(expected))
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return False
    return actual > expected if operator == "greater_than" else actual < expected


# -- planning what the actions change ---------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One action as it applies to this ticket: what it changes (``field``: before → after), or that it
    changes nothing here (``skip`` says why)."""

    type: str
    action: dict[str, Any]
    field: str | None = None
    before: Any = None
    after: Any = None
    skip: str | None = None

    def to_dict(self) -> dict[str, Any]:
        view: dict[str, Any] = {"type": self.type, "action": self.action}
        if self.field is not None:
            view.update(field=self.field, before=self.before, after=self.after)
        if self.skip is not None:
            view["skipped"] = self.skip
        return view


def next_priority(priority: str) -> str:
    """One step more urgent (urgent stays urgent)."""
    index = PRIORITIES.index(priority) if priority in PRIORITIES else 1
    return PRIORITIES[min(index + 1, len(PRIORITIES) - 1)]


def plan(actions: list[dict[str, Any]], ticket: dict[str, Any]) -> list[Step]:
    """What each action would do to ``ticket``, in order, each seeing the ticket as the previous ones left it.

    An action that would change nothing (the priority is already urgent, the tag is there) is a skipped
    step: the tickets service is not asked, and the rule's own change cannot come back as news.
    """
    state = {key: ticket.get(key) for key in ("priority", "status", "assignee_id", "department_id")}
    state["tags"] = list(ticket.get("tags") or [])
    steps: list[Step] = []
    for action in actions:
        kind = action["type"]
        if kind in ("set_priority", "escalate"):
            after = action["priority"] if kind == "set_priority" else next_priority(state["priority"] or "medium")
            steps.append(_change(kind, action, state, "priority", after))
        elif kind == "assign_agent":
            steps.append(_change(kind, action, state, "assignee_id", action["agent_id"]))
        elif kind == "assign_department":
            steps.append(_change(kind, action, state, "department_id", action["department_id"]))
        elif kind in ("add_tag", "remove_tag"):
            tags = state["tags"]
            present = [t for t in tags if t.casefold() == action["tag"].casefold()]
            if kind == "add_tag":
                after = tags if present else [*tags, action["tag"]]
            else:
                after = [t for t in tags if t not in present]
            steps.append(_change(kind, action, state, "tags", after))
        elif kind in ("set_status", "auto_resolve", "close"):
            target = {"set_status": action.get("status"), "auto_resolve": "resolved", "close": "closed"}[kind]
            steps.append(_change(kind, action, state, "status", target))
        else:  # send_notification, add_comment: they add, never change a field
            steps.append(Step(kind, action))
        if kind == "escalate":
            steps.append(Step("send_notification", {"type": "send_notification", "to": "supervisors",
                                                     "message": action.get("message") or "Escalated by a rule."}))
    return steps


def _change(kind: str, action: dict[str, Any], state: dict[str, Any], name: str, after: Any) -> Step:
    before = state[name]
    if before == after:
        return Step(kind, action, field=name, before=before, after=after, skip="Already so.")
    state[name] = after
    return Step(kind, action, field=name, before=before, after=after)
