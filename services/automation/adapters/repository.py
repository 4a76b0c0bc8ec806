"""The automation database behind the handlers' ports (``handlers.ports``): SQLAlchemy Core statements, and
the response templates, a named resource mapped onto its entity (``helpdesk_common.resources``)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from helpdesk_common.db import insert_if_absent
from helpdesk_common.resources import SqlAlchemyNamedRepository
from helpdesk_contracts.vocabulary import STAFF_ROLES
from services.automation.adapters.orm import (
    agents,
    decisions,
    response_templates,
    routing_locks,
    rule_book,
    rule_jobs,
    rule_runs,
    rules,
    start_mappers,
    strategies,
    tickets,
)
from services.automation.domain.errors import RuleNotFound, TemplateNotFound
from services.automation.domain.model import (
    ASSIGNABLE_ROLES,
    DEFAULT_STRATEGY,
    MANUAL_ONLY,
    PRIORITY_RANK,
    Agent,
    TrackedTicket,
)
from services.automation.domain.rules import Rule
from services.automation.domain.templates import ResponseTemplate


def _agent(row: Any) -> Agent:
    return Agent(id=row.id, name=row.name, role=row.role, status=row.status, availability=row.availability,
                 department_id=row.department_id, skills=list(row.skills or []),
                 max_concurrent_tickets=row.max_concurrent_tickets, last_assigned_at=row.last_assigned_at)


def _ticket(row: Any) -> TrackedTicket:
    return TrackedTicket(id=row.id, number=row.number, title=row.title, status=row.status, priority=row.priority,
                         department_id=row.department_id, category=row.category, assignee_id=row.assignee_id,
                         requester_id=row.requester_id, created_at=row.created_at, version=row.version,
                         deleted=row.deleted, sla_due_at=row.sla_due_at, queued_since=row.queued_since,
                         tags=list(row.tags or []), activity_at=row.activity_at,
                         first_response_at=row.first_response_at, required_skills=list(row.required_skills or []))


class SqlAlchemyAgentRepository:
    """Staff rows, newest fact wins (a user's ``version``; availability by when it changed)."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, agent_id: str) -> Agent | None:
        row = self.session.execute(select(agents).where(agents.c.id == agent_id)).first()
        return _agent(row) if row is not None else None

    def apply_user(self, user: dict[str, Any], *, as_of: datetime, now: datetime) -> bool:
        """Store a user snapshot unless an equal or newer version is held; tell whether it was applied.

        Customers are not kept (a member of staff who becomes a customer is kept, as not assignable).
        """
        query = select(agents.c.version, agents.c.availability_as_of).where(agents.c.id == user["id"]).with_for_update()
        current = self.session.execute(query).first()
        if current is None and user["role"] not in STAFF_ROLES:
            return False
        values = {
            "name": user.get("name") or "", "role": user["role"], "status": user["status"],
            "department_id": user.get("department_id"), "skills": sorted(set(user.get("skills") or [])),
            "max_concurrent_tickets": int(user.get("max_concurrent_tickets") or 0),
            "version": int(user.get("version") or 1), "updated_at": now,
        }
        if current is None:  # new to us: inserted here, or by an event or a listing meanwhile (then read again)
            if insert_if_absent(self.session, agents, {
                    "id": user["id"], "availability": user.get("availability") or "offline",
                    "availability_as_of": as_of, "last_assigned_at": None, **values}):
                return True
            current = self.session.execute(query).one()
        if values["version"] <= current.version:
            return False
        if as_of >= current.availability_as_of and user.get("availability"):
            values.update(availability=user["availability"], availability_as_of=as_of)
        self.session.execute(update(agents).where(agents.c.id == user["id"]).values(**values))
        return True

    def apply_availability(self, agent_id: str, availability: str, *, as_of: datetime, now: datetime) -> bool:
        """Store an availability change unless a later one is held; tell whether it was applied."""
        result = self.session.execute(
            update(agents).where(agents.c.id == agent_id, agents.c.availability_as_of <= as_of)
            .values(availability=availability, availability_as_of=as_of, updated_at=now))
        return bool(result.rowcount)

    def in_scope(self, department_id: str | None) -> list[Agent]:
        """The assignable staff of a department, or of every department when ``department_id`` is None."""
        query = select(agents).where(agents.c.role.in_(ASSIGNABLE_ROLES))
        if department_id is not None:
            query = query.where(agents.c.department_id == department_id)
        return [_agent(row) for row in self.session.execute(query.order_by(agents.c.id))]

    def able_departments(self) -> tuple[set[str | None], bool]:
        """Departments with an active, online, assignable agent; and whether there is any at all."""
        rows = self.session.execute(select(agents.c.department_id).distinct().where(
            agents.c.role.in_(ASSIGNABLE_ROLES), agents.c.status == "active", agents.c.availability == "online"))
        found = {row.department_id for row in rows}
        return found, bool(found)

    def mark_assigned(self, agent_id: str, *, now: datetime) -> None:
        self.session.execute(update(agents).where(agents.c.id == agent_id).values(last_assigned_at=now))

    def versions(self) -> dict[str, int]:
        return {row.id: row.version for row in self.session.execute(select(agents.c.id, agents.c.version))}


class SqlAlchemyTicketRepository:
    """The tickets the router follows, newest version wins."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, ticket_id: str) -> TrackedTicket | None:
        row = self.session.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
        return _ticket(row) if row is not None else None

    def apply(self, ticket: TrackedTicket, *, now: datetime) -> TrackedTicket | None | bool:
        """Store a ticket unless its version is already held or newer.

        Answers False when nothing was stored, else the copy held before (None when it is new to us).
        """
        query = select(tickets).where(tickets.c.id == ticket.id).with_for_update()
        previous = self.session.execute(query).first()
        values = {
            "number": ticket.number, "title": ticket.title[:200], "status": ticket.status, "priority": ticket.priority,
            "priority_rank": PRIORITY_RANK.get(ticket.priority, 0), "department_id": ticket.department_id,
            "category": ticket.category, "assignee_id": ticket.assignee_id, "requester_id": ticket.requester_id,
            "created_at": ticket.created_at, "version": ticket.version, "deleted": ticket.deleted,
            "working": ticket.working, "updated_at": now, "tags": list(ticket.tags),
            "activity_at": ticket.activity_at, "first_response_at": ticket.first_response_at,
            "required_skills": list(ticket.required_skills),
        }
        if previous is None:  # new to us: inserted here, or by an event or a listing meanwhile (then read again)
            awaiting = ticket.created_at if ticket.first_response_at is None else None
            if insert_if_absent(self.session, tickets, {
                    "id": ticket.id, "sla_due_at": None, "queued_since": None, **values,
                    "status_since": ticket.activity_at or ticket.created_at, "awaiting_agent_since": awaiting}):
                return None
            previous = self.session.execute(query).one()
        if ticket.version <= previous.version:
            return False
        if not ticket.wants_agent:
            values["queued_since"] = None
        if ticket.status != previous.status:
            values["status_since"] = ticket.activity_at or now
        self.session.execute(update(tickets).where(tickets.c.id == ticket.id).values(**values))
        return _ticket(previous)

    def note_message(self, ticket_id: str, *, by_staff: bool, at: datetime) -> None:
        """A public message on a ticket: an agent's answers its requester; the requester's awaits an answer
        (from its first unanswered one)."""
        if by_staff:
            self.session.execute(update(tickets).where(tickets.c.id == ticket_id).values(awaiting_agent_since=None))
        else:
            self.session.execute(update(tickets).where(tickets.c.id == ticket_id,
                                                       tickets.c.awaiting_agent_since.is_(None))
                                 .values(awaiting_agent_since=at))

    def for_time_rules(self) -> list[dict[str, Any]]:
        """Every ticket not closed nor deleted, as time-based rules read it (a ticket-shaped dict)."""
        rows = self.session.execute(select(tickets).where(tickets.c.deleted.is_(False), tickets.c.status != "closed"))
        return [{
            "id": row.id, "number": row.number, "title": row.title, "status": row.status, "priority": row.priority,
            "department_id": row.department_id, "category": row.category, "assignee_id": row.assignee_id,
            "requester_id": row.requester_id, "tags": list(row.tags or []), "created_at": row.created_at,
            "updated_at": row.activity_at or row.created_at, "status_since": row.status_since,
            "awaiting_agent_since": row.awaiting_agent_since, "sla_due_at": row.sla_due_at, "version": row.version,
        } for row in rows]

    def loads(self, agent_ids: list[str] | None = None) -> dict[str, int]:
        """Working tickets per agent (only agents holding some are named)."""
        query = (select(tickets.c.assignee_id, func.count()).where(tickets.c.working,
                                                                   tickets.c.assignee_id.is_not(None))
                 .group_by(tickets.c.assignee_id))
        if agent_ids is not None:
            if not agent_ids:
                return {}
            query = query.where(tickets.c.assignee_id.in_(agent_ids))
        return {row[0]: int(row[1]) for row in self.session.execute(query)}

    def load_by_status(self, agent_id: str) -> dict[str, int]:
        rows = self.session.execute(select(tickets.c.status, func.count()).where(
            tickets.c.assignee_id == agent_id, tickets.c.deleted.is_(False)).group_by(tickets.c.status))
        return {row[0]: int(row[1]) for row in rows}

    def _backlog_condition(self, department_ids: list[str | None] | None):
        manual = select(strategies.c.department_id).where(strategies.c.strategy == MANUAL_ONLY)
        condition = and_(tickets.c.working, tickets.c.assignee_id.is_(None),
                         or_(tickets.c.department_id.is_(None), tickets.c.department_id.not_in(manual)))
        if department_ids is not None:
            named = [d for d in department_ids if d is not None]
            parts = [tickets.c.department_id.in_(named)] if named else []
            if None in department_ids:
                parts.append(tickets.c.department_id.is_(None))
            condition = and_(condition, or_(*parts)) if parts else and_(condition, False)
        return condition

    def backlog(self, *, department_ids: list[str | None] | None = None, offset: int = 0,
                limit: int | None = None) -> tuple[list[TrackedTicket], int]:
        """The unassigned working tickets the router owes an agent, in the order it serves them, and how many.

        Order: SLA due time (soonest first, none last), priority (urgent first), age (oldest first).
        """
        condition = self._backlog_condition(department_ids)
        total = int(self.session.scalar(select(func.count()).select_from(tickets).where(condition)) or 0)
        query = (select(tickets).where(condition)
                 .order_by(tickets.c.sla_due_at.is_(None), tickets.c.sla_due_at, tickets.c.priority_rank.desc(),
                           tickets.c.created_at, tickets.c.id)
                 .offset(offset))
        if limit is not None:
            query = query.limit(limit)
        return [_ticket(row) for row in self.session.execute(query)], total

    def mark_queued(self, ticket_id: str, *, now: datetime) -> bool:
        """Note when the router first found nobody for the ticket; tell whether it was not queued before."""
        result = self.session.execute(update(tickets).where(tickets.c.id == ticket_id, tickets.c.queued_since.is_(None))
                                      .values(queued_since=now))
        return bool(result.rowcount)

    def mark_gone(self, ticket_id: str, *, now: datetime) -> bool:
        """The tickets service no longer has the ticket (deleted): it is nobody's work any more."""
        result = self.session.execute(update(tickets).where(tickets.c.id == ticket_id, tickets.c.deleted.is_(False))
                                      .values(deleted=True, working=False, queued_since=None, updated_at=now))
        return bool(result.rowcount)

    def working_versions(self) -> dict[str, int]:
        rows = self.session.execute(select(tickets.c.id, tickets.c.version).where(tickets.c.working))
        return {row.id: row.version for row in rows}

    def versions_of(self, ticket_ids: list[str]) -> dict[str, int]:
        if not ticket_ids:
            return {}
        rows = self.session.execute(select(tickets.c.id, tickets.c.version).where(tickets.c.id.in_(ticket_ids)))
        return {row.id: row.version for row in rows}


class SqlAlchemyStrategyRepository:
    """Each department's routing strategy (absent: the default)."""

    def __init__(self, session: Session):
        self.session = session

    def of(self, department_id: str | None) -> str:
        if department_id is None:
            return DEFAULT_STRATEGY
        return self.session.scalar(select(strategies.c.strategy).where(strategies.c.department_id == department_id)) \
            or DEFAULT_STRATEGY

    def set(self, department_id: str, strategy: str, *, actor_id: str | None, now: datetime) -> str | None:
        """Set a department's strategy; answer the one it had (None: the default, never set)."""
        query = select(strategies.c.strategy).where(strategies.c.department_id == department_id).with_for_update()
        before = self.session.scalar(query)
        if before is None:
            if insert_if_absent(self.session, strategies, {"department_id": department_id, "strategy": strategy,
                                                           "updated_at": now, "updated_by": actor_id},
                                key=("department_id",)):
                return None
            before = self.session.scalar(query)  # set by another call meanwhile: this one comes second
        self.session.execute(update(strategies).where(strategies.c.department_id == department_id)
                             .values(strategy=strategy, updated_at=now, updated_by=actor_id))
        return before

    def all(self) -> list[dict[str, Any]]:
        rows = self.session.execute(select(strategies).order_by(strategies.c.department_id))
        return [dict(row._mapping) for row in rows]


class SqlAlchemyDecisionRepository:
    """The log of routing decisions."""

    def __init__(self, session: Session):
        self.session = session

    def add(self, decision: dict[str, Any]) -> dict[str, Any]:
        row = {"id": str(uuid.uuid4()), **decision}
        self.session.execute(insert(decisions).values(**row))
        return row

    def page(self, *, ticket_ids: list[str] | None, department_ids: list[str | None] | None, offset: int,
             limit: int) -> tuple[list[dict[str, Any]], int]:
        """Newest first; ``ticket_ids``/``department_ids`` narrow it (None: no narrowing)."""
        condition = []
        if ticket_ids is not None:
            condition.append(decisions.c.ticket_id.in_(ticket_ids))
        if department_ids is not None:
            named = [d for d in department_ids if d is not None]
            parts = [decisions.c.department_id.in_(named)] if named else []
            if None in department_ids:
                parts.append(decisions.c.department_id.is_(None))
            condition.append(or_(*parts) if parts else False)
        total = int(self.session.scalar(select(func.count()).select_from(decisions).where(*condition)) or 0)
        rows = self.session.execute(select(decisions).where(*condition)
                                    .order_by(decisions.c.at.desc(), decisions.c.id).offset(offset).limit(limit))
        return [dict(row._mapping) for row in rows], total


class SqlAlchemyRoutingLock:
    """Decisions take turns: the first statement of a routing transaction writes the lock's row.

    On PostgreSQL the row stays locked until the transaction ends (other replicas wait on it); on SQLite
    the write takes the database's one write lock.
    """

    def __init__(self, session: Session):
        self.session = session

    def take(self, *, now: datetime, scope: str = "global") -> None:
        result = self.session.execute(update(routing_locks).where(routing_locks.c.scope == scope).values(taken_at=now))
        if not result.rowcount and not insert_if_absent(self.session, routing_locks, {"scope": scope, "taken_at": now},
                                                        key=("scope",)):
            self.session.execute(update(routing_locks).where(routing_locks.c.scope == scope).values(taken_at=now))


def template_repository(session: Session) -> SqlAlchemyNamedRepository:
    """Return the response templates, a named resource (``helpdesk_common.resources``)."""
    start_mappers()  # mapped once per process (the service maps at import; this covers scripts and tests)
    return SqlAlchemyNamedRepository(session, entity=ResponseTemplate, table=response_templates,
                                     not_found=TemplateNotFound)


_ENABLED: dict[str, tuple[int | None, list[Rule]]] = {}  # database -> (rule book version, its enabled rules)


def _detached_rule(row: Any) -> Rule:
    rule = Rule(id=row.id, name=row.name, triggers=list(row.triggers), conditions=row.conditions,
                actions=list(row.actions), created_by=row.created_by, now=row.created_at,
                description=row.description, enabled=row.enabled, position=row.position)
    rule.updated_at = row.updated_at
    return rule


class SqlAlchemyRuleRepository(SqlAlchemyNamedRepository):
    """The automation rules, a named resource listed in the order they run."""

    def __init__(self, session: Session):
        start_mappers()
        super().__init__(session, entity=Rule, table=rules, not_found=RuleNotFound, order_by=("position", "name_key"))

    def enabled(self) -> list[Rule]:
        """The enabled rules, in the order they run: read once per change, not once per event.

        Every ticket event asks; what it gets is kept per database in this process with the rule book's
        version (``touch``, bumped by every change of a rule in its transaction), which one primary-key read
        checks each time, so a rule changed by any replica is seen by the next event. The rules given are copies no session holds: read them, never change them.
        """
        stamp = self.session.scalar(select(rule_book.c.version).where(rule_book.c.id == 1))
        key = str(self.session.get_bind().url)
        cached = _ENABLED.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rows = self.session.execute(select(rules).where(rules.c.enabled.is_(True))
                                    .order_by(rules.c.position, rules.c.name_key, rules.c.id))
        found = [_detached_rule(row) for row in rows]
        _ENABLED[key] = (stamp, found)
        return found

    def next_position(self) -> int:
        return int(self.session.scalar(select(func.max(rules.c.position))) or 0) + 10

    def touch(self) -> None:
        """Note that the rules change in this transaction (every process reads them again after it)."""
        bumped = self.session.execute(update(rule_book).where(rule_book.c.id == 1)
                                      .values(version=rule_book.c.version + 1))
        # a new book starts at a random version: a database emptied and filled again (tests) is never taken
        # for the one this process read before
        if not bumped.rowcount and not insert_if_absent(self.session, rule_book,
                                                        {"id": 1, "version": random.randrange(1, 2**30)}):
            self.session.execute(update(rule_book).where(rule_book.c.id == 1).values(version=rule_book.c.version + 1))


class SqlAlchemyRuleRunRepository:
    """What each rule did to each ticket."""

    def __init__(self, session: Session):
        self.session = session

    def add(self, run: dict[str, Any]) -> dict[str, Any]:
        row = {"id": str(uuid.uuid4()), "error": None, **run}
        self.session.execute(insert(rule_runs).values(**row))
        return row

    def ran(self, event_id: str, rule_id: str) -> bool:
        """Whether the rule already ran for this event (a job picked up again after a crash)."""
        return self.session.scalar(select(rule_runs.c.id).where(rule_runs.c.event_id == event_id,
                                                                rule_runs.c.rule_id == rule_id)) is not None

    def ticket_ids(self, rule_id: str, *, trigger: str) -> set[str]:
        """The tickets a rule ran on for this trigger (time rules act once per ticket)."""
        return set(self.session.scalars(select(rule_runs.c.ticket_id).where(rule_runs.c.rule_id == rule_id,
                                                                            rule_runs.c.trigger == trigger)))

    def count_since(self, rule_id: str, ticket_id: str, since: datetime) -> int:
        """Firings of a rule on a ticket since ``since`` (loop protection)."""
        return int(self.session.scalar(select(func.count()).select_from(rule_runs).where(
            rule_runs.c.rule_id == rule_id, rule_runs.c.ticket_id == ticket_id, rule_runs.c.at >= since,
            rule_runs.c.outcome == "applied")) or 0)

    def page(self, *, ticket_id: str | None, rule_id: str | None, offset: int, limit: int
             ) -> tuple[list[dict[str, Any]], int]:
        condition = and_(*(c for c in (rule_runs.c.ticket_id == ticket_id if ticket_id else None,
                                       rule_runs.c.rule_id == rule_id if rule_id else None) if c is not None))
        total = int(self.session.scalar(select(func.count()).select_from(rule_runs).where(condition)) or 0)
        rows = self.session.execute(select(rule_runs).where(condition)
                                    .order_by(rule_runs.c.at.desc(), rule_runs.c.id).offset(offset).limit(limit))
        return [dict(row._mapping) for row in rows], total


class SqlAlchemyRuleJobRepository:
    """Events whose rules are still to run."""

    def __init__(self, session: Session):
        self.session = session

    def add(self, envelope: dict[str, Any], *, now: datetime) -> None:
        insert_if_absent(self.session, rule_jobs, {"event_id": envelope["id"], "envelope": envelope, "created_at": now},
                         key=("event_id",))

    def get(self, event_id: str) -> dict[str, Any] | None:
        return self.session.scalar(select(rule_jobs.c.envelope).where(rule_jobs.c.event_id == event_id))

    def delete(self, event_id: str) -> None:
        self.session.execute(rule_jobs.delete().where(rule_jobs.c.event_id == event_id))

    def ticket_ids(self, rule_id: str) -> set[str]:
        """The tickets with a time job of this rule waiting."""
        rows = self.session.scalars(select(rule_jobs.c.envelope))  # only jobs not yet run: a handful
        return {row["data"]["ticket"]["id"] for row in rows if row.get("data", {}).get("rule_id") == rule_id}

    def older_than(self, moment: datetime, *, limit: int = 500) -> list[str]:
        return list(self.session.scalars(select(rule_jobs.c.event_id).where(rule_jobs.c.created_at < moment)
                                         .order_by(rule_jobs.c.created_at).limit(limit)))
