"""In-memory fakes of the automation unit of work, its repositories and the services it asks
(``handlers.ports``), for handler tests with no database and no broker.

They answer what the SQL repositories answer for the same calls (``test_ports.py`` holds them to the same
methods; ``test_repositories.py`` checks the SQL side of the key behaviours). One
``FakeAutomationUnitOfWork`` is the whole database of a test: ``open_uow`` hands out the same one, as each
SQL unit of work would see the same database. ``commit()`` keeps what was written; ``rollback()`` (and
leaving the ``with`` block, as ``close()`` does) drops everything since the last commit.

``FakeTicketDesk`` is the tickets service: it holds its own tickets, refuses an assignment whose
``expected_version`` is not the ticket's (``TicketChanged``), and bumps the version of what it changes.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from helpdesk_common.clock import FakeClock
from helpdesk_contracts.names import fold_name
from helpdesk_contracts.vocabulary import STAFF_ROLES
from services.automation.domain.errors import (
    ActionRefused,
    AssigneeRefused,
    RuleNotFound,
    TemplateNotFound,
    TicketChanged,
    TicketNotFound,
    Unavailable,
)
from services.automation.domain.model import (
    ASSIGNABLE_ROLES,
    DEFAULT_STRATEGY,
    MANUAL_ONLY,
    WORKING_STATUSES,
    Agent,
    TrackedTicket,
)
from services.automation.domain.routing import backlog_key
from services.automation.domain.rules import Rule
from services.automation.domain.templates import ResponseTemplate
from tests.unit.automation.factories import DEPT_A, DEPT_B


def _moment(value: Any, name: str) -> datetime:
    """What a UtcDateTime column accepts: an aware datetime (the SQL repositories refuse anything else)."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise TypeError(f"{name} must be a timezone-aware datetime, not {value!r}")
    return value


def _in_departments(department_id: str | None, department_ids: list[str | None] | None) -> bool:
    return department_ids is None or department_id in department_ids


class FakeAgentRepository:
    """Staff, newest fact wins: a user's ``version``; availability by when it changed."""

    def __init__(self):
        self.rows: dict[str, Agent] = {}
        self.meta: dict[str, dict[str, Any]] = {}  # id -> version, availability_as_of, updated_at

    def get(self, agent_id: str) -> Agent | None:
        row = self.rows.get(agent_id)
        return copy.deepcopy(row) if row is not None else None

    def apply_user(self, user: dict[str, Any], *, as_of: datetime, now: datetime) -> bool:
        _moment(as_of, "as_of"), _moment(now, "now")
        held = self.rows.get(user["id"])
        if held is None and user["role"] not in STAFF_ROLES:
            return False
        version = int(user.get("version") or 1)
        fields = {"name": user.get("name") or "", "role": user["role"], "status": user["status"],
                  "department_id": user.get("department_id"), "skills": sorted(set(user.get("skills") or [])),
                  "max_concurrent_tickets": int(user.get("max_concurrent_tickets") or 0)}
        if held is None:
            self.rows[user["id"]] = Agent(id=user["id"], availability=user.get("availability") or "offline",
                                          last_assigned_at=None, **fields)
            self.meta[user["id"]] = {"version": version, "availability_as_of": as_of, "updated_at": now}
            return True
        meta = self.meta[user["id"]]
        if version <= meta["version"]:
            return False
        availability = held.availability
        if as_of >= meta["availability_as_of"] and user.get("availability"):
            availability = user["availability"]
            meta["availability_as_of"] = as_of
        self.rows[user["id"]] = replace(held, availability=availability, **fields)
        meta.update(version=version, updated_at=now)
        return True

    def apply_availability(self, agent_id: str, availability: str, *, as_of: datetime, now: datetime) -> bool:
        _moment(as_of, "as_of"), _moment(now, "now")
        held = self.rows.get(agent_id)
        if held is None or self.meta[agent_id]["availability_as_of"] > as_of:
            return False
        self.rows[agent_id] = replace(held, availability=availability)
        self.meta[agent_id].update(availability_as_of=as_of, updated_at=now)
        return True

    def in_scope(self, department_id: str | None) -> list[Agent]:
        return [copy.deepcopy(a) for _, a in sorted(self.rows.items()) if a.role in ASSIGNABLE_ROLES
                and (department_id is None or a.department_id == department_id)]

    def able_departments(self) -> tuple[set[str | None], bool]:
        found = {a.department_id for a in self.rows.values()
                 if a.role in ASSIGNABLE_ROLES and a.status == "active" and a.availability == "online"}
        return found, bool(found)

    def mark_assigned(self, agent_id: str, *, now: datetime) -> None:
        if agent_id in self.rows:
            self.rows[agent_id] = replace(self.rows[agent_id], last_assigned_at=_moment(now, "now"))

    def versions(self) -> dict[str, int]:
        return {agent_id: meta["version"] for agent_id, meta in self.meta.items()}


class FakeTicketRepository:
    """The tickets the router follows, newest version wins (``sla_due_at`` as the SQL copy: never from an
    event; ``set_sla`` stands in for setting it)."""

    def __init__(self, uow: FakeAutomationUnitOfWork):
        self._uow = uow
        self.rows: dict[str, TrackedTicket] = {}
        self.status_since: dict[str, datetime | None] = {}
        self.awaiting: dict[str, datetime | None] = {}  # since when the requester awaits an agent's reply

    def get(self, ticket_id: str) -> TrackedTicket | None:
        row = self.rows.get(ticket_id)
        return copy.deepcopy(row) if row is not None else None

    def apply(self, ticket: TrackedTicket, *, now: datetime) -> TrackedTicket | None | bool:
        _moment(now, "now")
        previous = self.rows.get(ticket.id)
        stored = replace(copy.deepcopy(ticket), title=ticket.title[:200], sla_due_at=None, queued_since=None)
        if previous is None:
            self.rows[ticket.id] = stored
            self.status_since[ticket.id] = ticket.activity_at or ticket.created_at
            self.awaiting[ticket.id] = ticket.created_at if ticket.first_response_at is None else None
            return None
        if ticket.version <= previous.version:
            return False
        queued_since = previous.queued_since if ticket.wants_agent else None
        self.rows[ticket.id] = replace(stored, sla_due_at=previous.sla_due_at, queued_since=queued_since)
        if ticket.status != previous.status:
            self.status_since[ticket.id] = ticket.activity_at or now
        return copy.deepcopy(previous)

    def note_message(self, ticket_id: str, *, by_staff: bool, at: datetime) -> None:
        if ticket_id not in self.rows:
            return
        if by_staff:
            self.awaiting[ticket_id] = None
        elif self.awaiting.get(ticket_id) is None:
            self.awaiting[ticket_id] = at

    def for_time_rules(self) -> list[dict[str, Any]]:
        return [{"id": t.id, "number": t.number, "title": t.title, "status": t.status, "priority": t.priority,
                 "department_id": t.department_id, "category": t.category, "assignee_id": t.assignee_id,
                 "requester_id": t.requester_id, "tags": list(t.tags), "created_at": t.created_at,
                 "updated_at": t.activity_at or t.created_at, "status_since": self.status_since.get(t.id),
                 "awaiting_agent_since": self.awaiting.get(t.id), "sla_due_at": t.sla_due_at, "version": t.version}
                for t in self.rows.values() if not t.deleted and t.status != "closed"]

    def loads(self, agent_ids: list[str] | None = None) -> dict[str, int]:
        counted: dict[str, int] = {}
        for t in self.rows.values():
            if t.working and t.assignee_id is not None and (agent_ids is None or t.assignee_id in agent_ids):
                counted[t.assignee_id] = counted.get(t.assignee_id, 0) + 1
        return counted

    def load_by_status(self, agent_id: str) -> dict[str, int]:
        counted: dict[str, int] = {}
        for t in self.rows.values():
            if t.assignee_id == agent_id and not t.deleted:
                counted[t.status] = counted.get(t.status, 0) + 1
        return counted

    def backlog(self, *, department_ids: list[str | None] | None = None, offset: int = 0,
                limit: int | None = None) -> tuple[list[TrackedTicket], int]:
        manual = {row["department_id"] for row in self._uow.strategies.rows.values() if row["strategy"] == MANUAL_ONLY}
        waiting = sorted((t for t in self.rows.values() if t.wants_agent and t.department_id not in manual
                          and _in_departments(t.department_id, department_ids)), key=backlog_key)
        end = None if limit is None else offset + limit
        return [copy.deepcopy(t) for t in waiting[offset:end]], len(waiting)

    def mark_queued(self, ticket_id: str, *, now: datetime) -> bool:
        held = self.rows.get(ticket_id)
        if held is None or held.queued_since is not None:
            return False
        self.rows[ticket_id] = replace(held, queued_since=_moment(now, "now"))
        return True

    def mark_gone(self, ticket_id: str, *, now: datetime) -> bool:
        _moment(now, "now")
        held = self.rows.get(ticket_id)
        if held is None or held.deleted:
            return False
        self.rows[ticket_id] = replace(held, deleted=True, queued_since=None)
        return True

    def working_versions(self) -> dict[str, int]:
        return {t.id: t.version for t in self.rows.values() if t.working}

    # -- test helpers (not in the port) --------------------------------------------------------------

    def set_sla(self, ticket_id: str, due: datetime | None) -> None:
        self.rows[ticket_id] = replace(self.rows[ticket_id], sla_due_at=due)


class FakeStrategyRepository:
    def __init__(self):
        self.rows: dict[str, dict[str, Any]] = {}

    def of(self, department_id: str | None) -> str:
        row = self.rows.get(department_id) if department_id is not None else None
        return row["strategy"] if row else DEFAULT_STRATEGY

    def set(self, department_id: str, strategy: str, *, actor_id: str | None, now: datetime) -> str | None:
        before = self.rows.get(department_id)
        self.rows[department_id] = {"department_id": department_id, "strategy": strategy,
                                    "updated_at": _moment(now, "now"), "updated_by": actor_id}
        return before["strategy"] if before else None

    def all(self) -> list[dict[str, Any]]:
        return [dict(row) for _, row in sorted(self.rows.items())]


class FakeDecisionRepository:
    def __init__(self):
        self.rows: list[dict[str, Any]] = []

    def add(self, decision: dict[str, Any]) -> dict[str, Any]:
        _moment(decision["at"], "at")
        row = {"id": str(uuid.uuid4()), **copy.deepcopy(decision)}
        self.rows.append(row)
        return copy.deepcopy(row)

    def page(self, *, ticket_ids: list[str] | None, department_ids: list[str | None] | None, offset: int,
             limit: int) -> tuple[list[dict[str, Any]], int]:
        found = [r for r in self.rows if (ticket_ids is None or r["ticket_id"] in ticket_ids)
                 and _in_departments(r["department_id"], department_ids)]
        found.sort(key=lambda r: r["id"])
        found.sort(key=lambda r: r["at"], reverse=True)  # newest first, then by id (stable sorts)
        return [copy.deepcopy(r) for r in found[offset:offset + limit]], len(found)


class FakeRoutingLock:
    def __init__(self):
        self.taken: list[tuple[str, datetime]] = []  # every take() of committed transactions, and of the open one

    def take(self, *, now: datetime, scope: str = "global") -> None:
        self.taken.append((scope, _moment(now, "now")))


class FakeTemplateRepository:
    """Response templates in a dict, unique by folded name as the real table is (its index: ``flush``)."""

    def __init__(self):
        self.rows: dict[str, ResponseTemplate] = {}

    def get(self, resource_id: str) -> ResponseTemplate:
        found = self.find(resource_id)
        if found is None:
            raise TemplateNotFound()
        return found

    def find(self, resource_id: str) -> ResponseTemplate | None:
        return self.rows.get(resource_id)

    def find_by_name(self, name: str) -> ResponseTemplate | None:
        return next((r for r in self.rows.values() if r.name_key == fold_name(name)), None)

    def list(self, *, page: int, limit: int) -> tuple[list[ResponseTemplate], int]:
        ordered = sorted(self.rows.values(), key=lambda r: (r.name, r.id))
        return ordered[(page - 1) * limit: page * limit], len(ordered)

    def add(self, entity: ResponseTemplate) -> None:
        self.rows[entity.id] = entity

    def flush(self) -> None:
        keys = [r.name_key for r in self.rows.values()]
        if len(keys) != len(set(keys)):
            raise IntegrityError("INSERT INTO response_templates", {}, Exception("uq_response_templates_name_key"))

    def delete(self, entity: ResponseTemplate) -> None:
        del self.rows[entity.id]


class FakeRuleRepository(FakeTemplateRepository):
    """Automation rules in a dict, unique by folded name, listed in the order they run."""

    def get(self, resource_id: str) -> Rule:
        found = self.find(resource_id)
        if found is None:
            raise RuleNotFound()
        return found

    def list(self, *, page: int, limit: int) -> tuple[list[Rule], int]:
        ordered = sorted(self.rows.values(), key=lambda r: (r.position, r.name_key, r.id))
        return ordered[(page - 1) * limit: page * limit], len(ordered)

    def flush(self) -> None:
        keys = [r.name_key for r in self.rows.values()]
        if len(keys) != len(set(keys)):
            raise IntegrityError("INSERT INTO rules", {}, Exception("uq_rules_name_key"))

    def enabled(self) -> list[Rule]:
        return [rule for rule in self.list(page=1, limit=10**6)[0] if rule.enabled]

    def next_position(self) -> int:
        return max((rule.position for rule in self.rows.values()), default=0) + 10

    def touch(self) -> None:
        self.version = getattr(self, "version", 0) + 1


class FakeRuleRunRepository:
    """What rules did, a list (unique by event and rule, as the real index)."""

    def __init__(self):
        self.rows: list[dict[str, Any]] = []

    def add(self, run: dict[str, Any]) -> dict[str, Any]:
        if self.ran(run["event_id"], run["rule_id"]):
            raise IntegrityError("INSERT INTO rule_runs", {}, Exception("uq_rule_runs_event_rule"))
        row = {"id": str(uuid.uuid4()), "error": None, **copy.deepcopy(run)}
        self.rows.append(row)
        return row

    def ran(self, event_id: str, rule_id: str) -> bool:
        return any(r["event_id"] == event_id and r["rule_id"] == rule_id for r in self.rows)

    def ticket_ids(self, rule_id: str, *, trigger: str) -> set[str]:
        return {r["ticket_id"] for r in self.rows if r["rule_id"] == rule_id and r["trigger"] == trigger}

    def count_since(self, rule_id: str, ticket_id: str, since: datetime) -> int:
        return sum(1 for r in self.rows if r["rule_id"] == rule_id and r["ticket_id"] == ticket_id
                   and r["at"] >= since and r["outcome"] == "applied")

    def page(self, *, ticket_id: str | None, rule_id: str | None, offset: int, limit: int
             ) -> tuple[list[dict[str, Any]], int]:
        found = [r for r in self.rows if (ticket_id is None or r["ticket_id"] == ticket_id)
                 and (rule_id is None or r["rule_id"] == rule_id)]
        found.sort(key=lambda r: r["at"], reverse=True)
        return copy.deepcopy(found[offset:offset + limit]), len(found)


class FakeRuleJobRepository:
    """Events whose rules are still to run."""

    def __init__(self):
        self.rows: dict[str, tuple[dict[str, Any], datetime]] = {}

    def add(self, envelope: dict[str, Any], *, now: datetime) -> None:
        self.rows.setdefault(envelope["id"], (copy.deepcopy(envelope), now))

    def get(self, event_id: str) -> dict[str, Any] | None:
        row = self.rows.get(event_id)
        return copy.deepcopy(row[0]) if row is not None else None

    def delete(self, event_id: str) -> None:
        self.rows.pop(event_id, None)

    def ticket_ids(self, rule_id: str) -> set[str]:
        return {envelope["data"]["ticket"]["id"] for envelope, _ in self.rows.values()
                if envelope["data"].get("rule_id") == rule_id}

    def older_than(self, moment: datetime, *, limit: int = 500) -> list[str]:
        waiting = sorted((at, event_id) for event_id, (_, at) in self.rows.items() if at < moment)
        return [event_id for _, event_id in waiting[:limit]]


class FakeAutomationUnitOfWork:
    """The automation unit of work on in-memory repositories (``handlers.ports.AutomationUnitOfWork``)."""

    _STATE = ("agents", "tickets", "strategies", "decisions", "routing", "templates", "rules", "rule_runs",
              "rule_jobs")

    def __init__(self, clock: FakeClock | None = None):
        self.clock = clock or FakeClock()
        self.agents = FakeAgentRepository()
        self.tickets = FakeTicketRepository(self)
        self.strategies = FakeStrategyRepository()
        self.decisions = FakeDecisionRepository()
        self.routing = FakeRoutingLock()
        self.templates = FakeTemplateRepository()
        self.rules = FakeRuleRepository()
        self.rule_runs = FakeRuleRunRepository()
        self.rule_jobs = FakeRuleJobRepository()
        self.emitted: list[tuple[str, dict[str, Any]]] = []  # the events of committed transactions, and of the open one
        self.commits = 0
        self.rollbacks = 0
        self._committed = self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        state: dict[str, Any] = {name: copy.deepcopy({k: v for k, v in vars(getattr(self, name)).items() if k != "_uow"})
                                 for name in self._STATE}
        state["emitted"] = list(self.emitted)
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        state = copy.deepcopy(state)
        self.emitted = state.pop("emitted")
        for name, values in state.items():
            vars(getattr(self, name)).update(values)

    def emit(self, type: str, data: dict[str, Any]) -> None:
        self.emitted.append((type, copy.deepcopy(data)))

    def __enter__(self) -> FakeAutomationUnitOfWork:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._restore(self._committed)  # as close(): anything uncommitted is rolled back

    def commit(self) -> None:
        self.commits += 1
        self._committed = self._snapshot()

    def rollback(self) -> None:
        self.rollbacks += 1
        self._restore(self._committed)

    def open(self) -> FakeAutomationUnitOfWork:
        """``handlers.ports.OpenUnitOfWork``: the same database for each unit of work opened."""
        return self


class FakeTicketDesk:
    """The tickets service as the router acts through it (``handlers.ports.TicketDesk``)."""

    def __init__(self, page_size: int = 2):
        self.tickets: dict[str, dict[str, Any]] = {}
        self.page_size = page_size
        self.refused: set[str] = set()  # agents it refuses as assignees (AssigneeRefused)
        self.attempts: list[tuple[str, str, int]] = []  # every assign call: ticket, agent, expected version
        self.assigned: list[tuple[str, str]] = []  # the assignments it made, in order
        self.vias: list[str] = []
        self.commands: dict[str, Any] = {}  # command id -> answer: a command sent again acts once
        self.acts: list[tuple[str, str, dict[str, Any]]] = []  # every command that acted: method, ticket, arguments
        self.refuse: dict[str, str] = {}  # method -> the message it is refused with (ActionRefused)
        self.comments: list[dict[str, Any]] = []
        self.fail_after: int | None = None  # raise Unavailable after this many acts (a crash mid-rule)

    def add(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        self.tickets[snapshot["id"]] = copy.deepcopy(snapshot)
        return copy.deepcopy(snapshot)

    def change(self, ticket_id: str, **fields: Any) -> dict[str, Any]:
        """Someone else changes the ticket (a new version the router may not have heard of yet)."""
        ticket = self.tickets[ticket_id]
        ticket.update(fields, version=ticket["version"] + 1)
        return copy.deepcopy(ticket)

    def assign(self, ticket_id: str, assignee_id: str, *, expected_version: int, via: str) -> dict[str, Any]:
        self.attempts.append((ticket_id, assignee_id, expected_version))
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise TicketChanged(f"ticket {ticket_id} is gone")  # as the RPC adapter maps TicketNotFound
        if ticket["version"] != expected_version:
            raise TicketChanged(f"ticket {ticket_id} is at version {ticket['version']}, not {expected_version}")
        if assignee_id in self.refused:
            raise AssigneeRefused(f"{assignee_id} cannot be assigned")
        self.assigned.append((ticket_id, assignee_id))
        self.vias.append(via)
        return self.change(ticket_id, assignee_id=assignee_id)

    def act(self, method: str, ticket_id: str, *, via: str, command_id: str, **arguments: Any) -> dict[str, Any]:
        """A tickets command as the system actor; the same command id answers from the record."""
        if command_id in self.commands:
            return copy.deepcopy(self.commands[command_id])
        if self.fail_after is not None and len(self.acts) >= self.fail_after:
            raise Unavailable("the tickets service did not answer in time")
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise TicketNotFound()
        if method in self.refuse:
            raise ActionRefused(self.refuse[method])
        self.acts.append((method, ticket_id, arguments))
        self.vias.append(via)
        if method == "change_priority":
            answer = self.change(ticket_id, priority=arguments["priority"])
        elif method in ("change_status", "close"):
            answer = self.change(ticket_id, status=arguments.get("status", "closed"))
        elif method == "update":
            answer = self.change(ticket_id, **arguments["changes"])
        elif method == "assign":
            fields = {}
            if arguments.get("set_assignee", True) and "assignee_id" in arguments:
                fields["assignee_id"] = arguments["assignee_id"]
            if arguments.get("set_department"):
                fields["department_id"] = arguments["department_id"]
            answer = self.change(ticket_id, **fields)
        elif method == "add_comment":
            answer = {"id": str(len(self.comments) + 1), "ticket_id": ticket_id, **arguments["data"], "via": via}
            self.comments.append(answer)
        else:
            raise AssertionError(f"unknown tickets command {method}")
        self.commands[command_id] = copy.deepcopy(answer)
        return answer

    def get(self, ticket_id: str) -> dict[str, Any] | None:
        ticket = self.tickets.get(ticket_id)
        return copy.deepcopy(ticket) if ticket is not None else None

    def get_as(self, ticket_id: str, actor: dict[str, Any]) -> dict[str, Any] | None:
        """As the tickets service answers a caller: staff see their department's, the unrouted and their own;
        customers theirs."""
        ticket = self.get(ticket_id)
        if ticket is None or actor.get("role") in ("admin", "supervisor"):
            return ticket
        if actor.get("role") == "customer":
            return ticket if ticket["requester_id"] == actor.get("id") else None
        visible = ticket["department_id"] in (None, actor.get("department_id")) or ticket["assignee_id"] == actor.get("id")
        return ticket if visible else None

    def working(self) -> Iterator[list[dict[str, Any]]]:
        working = [copy.deepcopy(t) for t in self.tickets.values() if t["status"] in WORKING_STATUSES]
        for start in range(0, len(working), self.page_size):
            yield working[start:start + self.page_size]

    def assignee_of(self, ticket_id: str) -> str | None:
        return self.tickets[ticket_id]["assignee_id"]


class FakeDirectory:
    """The users service as the router reads it (``handlers.ports.Directory``): departments A and B exist."""

    def __init__(self, page_size: int = 2):
        self.users: dict[str, dict[str, Any]] = {}
        self.departments: set[str] = {DEPT_A, DEPT_B}
        self.organizations: dict[str, dict[str, Any]] = {}
        self.page_size = page_size
        self.asked: list[str] = []  # what was asked for, in order ("user:<id>", "organization:<id>")

    def add(self, user: dict[str, Any]) -> dict[str, Any]:
        self.users[user["id"]] = copy.deepcopy(user)
        return copy.deepcopy(user)

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        self.asked.append(f"user:{user_id}")
        user = self.users.get(user_id)
        return copy.deepcopy(user) if user is not None else None

    def get_organization(self, organization_id: str) -> dict[str, Any] | None:
        self.asked.append(f"organization:{organization_id}")
        organization = self.organizations.get(organization_id)
        return copy.deepcopy(organization) if organization is not None else None

    def department_exists(self, department_id: str) -> bool:
        return department_id in self.departments

    def staff(self) -> Iterator[list[dict[str, Any]]]:
        staff = [copy.deepcopy(u) for u in self.users.values() if u["role"] in STAFF_ROLES]
        for start in range(0, len(staff), self.page_size):
            yield staff[start:start + self.page_size]
