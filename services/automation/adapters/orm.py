"""Tables of the automation database: its read model of agents and tickets, strategies, decisions, and the
response templates (the one table mapped onto a domain class, ``start_mappers``)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.orm import registry

from helpdesk_common.db import UtcDateTime
from helpdesk_contracts.names import NAME_KEY_MAX_CHARS
from helpdesk_contracts.vocabulary import NAME_MAX, TEMPLATE_CATEGORY_MAX
from services.automation.domain.rules import Rule
from services.automation.domain.templates import ResponseTemplate

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

# staff as the users service describes them (user.* and agent.availability_changed events, and listings)
agents = Table(
    "agents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("availability", String(20), nullable=False),
    Column("department_id", String(36)),
    Column("skills", JSON, nullable=False),
    Column("max_concurrent_tickets", Integer, nullable=False),
    Column("version", Integer, nullable=False),  # the user's version: an older snapshot changes nothing
    Column("availability_as_of", UtcDateTime, nullable=False),  # availability changes carry no version
    Column("last_assigned_at", UtcDateTime),  # round robin, and ties of least_loaded
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_agents_department", "department_id"),
)

# tickets as the tickets service describes them (ticket.* events by per-ticket version, and listings)
tickets = Table(
    "tracked_tickets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("priority_rank", Integer, nullable=False),
    Column("department_id", String(36)),
    Column("category", String(100)),
    Column("assignee_id", String(36)),
    Column("requester_id", String(36)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("working", Boolean, nullable=False),  # status new/open/in_progress and not deleted
    Column("sla_due_at", UtcDateTime),
    Column("queued_since", UtcDateTime),  # when the router first found nobody for it
    Column("updated_at", UtcDateTime, nullable=False),
    # what time-based rules look at
    Column("tags", JSON),
    Column("activity_at", UtcDateTime),  # the ticket's updated_at: its last activity
    Column("first_response_at", UtcDateTime),
    Column("status_since", UtcDateTime),  # when it entered its status (as far as the router saw)
    Column("awaiting_agent_since", UtcDateTime),  # the requester's unanswered public message (or its opening)
    Column("required_skills", JSON),  # its category's (routing passes over agents lacking one)
    # an agent's load: their working tickets
    # (on SQLite the condition is written as SQLAlchemy writes the queries' - "working = 1" - or it is not used)
    Index("ix_tracked_tickets_load", "assignee_id", postgresql_where=text("working"), sqlite_where=text("working = 1")),
    # the backlog: working and unassigned
    Index("ix_tracked_tickets_backlog", "department_id", "priority_rank", "created_at",
          postgresql_where=text("working AND assignee_id IS NULL"),
          sqlite_where=text("working = 1 AND assignee_id IS NULL")),
)

# how each department's tickets are routed (absent: least_loaded)
strategies = Table(
    "department_strategies",
    metadata,
    Column("department_id", String(36), primary_key=True),
    Column("strategy", String(20), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(36)),
)

# every routing decision, with the agents looked at
decisions = Table(
    "decisions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("ticket_id", String(36), nullable=False),
    Column("ticket_number", String(20), nullable=False),
    Column("department_id", String(36)),
    Column("at", UtcDateTime, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("agent_id", String(36)),
    Column("strategy", String(20), nullable=False),
    Column("trigger", String(60), nullable=False),
    Column("reason", Text, nullable=False),
    Column("candidates", JSON, nullable=False),
    Index("ix_decisions_ticket", "ticket_id", "at"),
    Index("ix_decisions_at", "at"),
)

# one row per routing scope: a routing decision updates it first, so decisions take turns (two replicas
# deciding at once never both see the same free capacity)
routing_locks = Table(
    "routing_locks",
    metadata,
    Column("scope", String(40), primary_key=True),
    Column("taken_at", UtcDateTime),
)

# canned responses staff insert into replies (a named resource: helpdesk_common.resources)
response_templates = Table(
    "response_templates",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("name_key", String(NAME_KEY_MAX_CHARS), nullable=False),  # helpdesk_contracts.names.name_key(name)
    Index("uq_response_templates_name_key", "name_key", unique=True),  # unique ignoring case, in the database
    Column("category", String(TEMPLATE_CATEGORY_MAX)),
    Column("body", Text, nullable=False),
    Column("created_by", String(36), nullable=False),  # the actor who created it: they and managers may change it
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# automation rules (a named resource run in position order: helpdesk_common.resources)
rules = Table(
    "rules",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("name_key", String(NAME_KEY_MAX_CHARS), nullable=False),
    Index("uq_rules_name_key", "name_key", unique=True),
    Column("description", Text),
    Column("triggers", JSON, nullable=False),
    Column("conditions", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("position", Integer, nullable=False),
    Column("created_by", String(36)),  # None: seeded with the product
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_rules_order", "position", "name_key"),
)

# what each rule did to each ticket (and the firings loop protection counts)
rule_runs = Table(
    "rule_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("rule_id", String(36), nullable=False),
    Column("rule_name", String(NAME_MAX), nullable=False),
    Column("ticket_id", String(36), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("trigger", String(60), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("outcome", String(20), nullable=False),  # applied, failed, loop_protected
    Column("steps", JSON, nullable=False),
    Column("error", Text),
    Index("ix_rule_runs_rule_ticket", "rule_id", "ticket_id", "at"),
    Index("ix_rule_runs_ticket", "ticket_id", "at"),
    Index("uq_rule_runs_event_rule", "event_id", "rule_id", unique=True),  # a rule acts once per event
)

# one row: bumped by every change of a rule, so each process knows when to read the enabled rules again
rule_book = Table(
    "rule_book",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

# events whose rules are still to be run: written with the event's inbox claim, deleted once every rule
# ran (a crash in between leaves the job for the sweep, which runs the rules not yet run)
rule_jobs = Table(
    "rule_jobs",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("envelope", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_rule_jobs_created", "created_at"),
)

_mapped = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (once per process)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(ResponseTemplate, response_templates)
    mapper_registry.map_imperatively(Rule, rules)
    _mapped = True
