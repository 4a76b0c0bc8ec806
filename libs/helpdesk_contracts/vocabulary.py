"""The closed sets of values and the field lengths the API and the services share: one definition, used by all.

The services' domain rules and RPC schemas check them, the gateway's schemas check them again before any
RPC and document them in the OpenAPI (enums, maxLength), the event schemas state them, and the gateway's
test fakes follow them; a value added here is added everywhere at once. ``tests/unit/contracts/test_vocabulary.py``
fails when one of these sets is written out again somewhere else. Page sizes are in ``limits``.
"""

from __future__ import annotations

# -- users ----------------------------------------------------------------------------------------
CUSTOMER, AGENT, SUPERVISOR, ADMIN = "customer", "agent", "supervisor", "admin"
ROLES = (CUSTOMER, AGENT, SUPERVISOR, ADMIN)
STAFF_ROLES = (AGENT, SUPERVISOR, ADMIN)
MANAGER_ROLES = (SUPERVISOR, ADMIN)
USER_STATUSES = ("active", "inactive", "on_leave")
AVAILABILITIES = ("online", "away", "offline")
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

NAME_MAX = 200  # a user's, a department's, an organization's or a response template's name
EMAIL_MAX = 254
PHONE_MAX = 40
SKILL_MAX = 60
SKILLS_MAX = 50
CONCURRENT_TICKETS_MAX = 1000  # an agent's max_concurrent_tickets
CONCURRENT_CHATS_MAX = 100  # an agent's max_concurrent_chats
DEPARTMENT_DESCRIPTION_MAX = 2000
SLA_HOURS_MAX = 24 * 365  # a department's default_sla_hours
DOMAIN_MAX = 253  # an organization's e-mail domain
USER_SEARCH_MAX = 200  # the users list's ``q``

# -- tickets --------------------------------------------------------------------------------------
TICKET_STATUSES = ("new", "open", "in_progress", "waiting", "resolved", "closed")
# new → open → in_progress ⇄ waiting → resolved → closed; resolved/closed → open is a reopen.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("open", "in_progress", "waiting", "resolved", "closed"),
    "open": ("in_progress", "waiting", "resolved", "closed"),
    "in_progress": ("waiting", "resolved", "closed"),
    "waiting": ("in_progress", "resolved", "closed"),
    "resolved": ("closed", "open"),
    "closed": ("open",),
}
REOPEN_FROM = ("resolved", "closed")
PRIORITIES = ("low", "medium", "high", "urgent")
LEVELS = ("low", "medium", "high", "critical")  # urgency and impact
SOURCES = ("web", "email", "chat", "api")
# a link seen from the other ticket: A is the parent of B when B is the child of A
INVERSE_LINK_KIND = {"related": "related", "parent": "child", "child": "parent"}
LINK_KINDS = tuple(INVERSE_LINK_KIND)

TITLE_MAX = 200
DESCRIPTION_MAX = 20000
COMMENT_MAX = 20000
CATEGORY_NAME_MAX = 100  # a category's name, and a ticket's category
CATEGORY_DESCRIPTION_MAX = 2000
TAG_MAX = 50
TAGS_MAX = 20
MENTIONS_MAX = 20
METADATA_KEY_MAX = 100
SEARCH_MAX = 500  # characters of a search query
BULK_MAX = 100  # tickets one bulk request names
FILENAME_MAX = 200  # an attachment's stored file name (a longer one is shortened, keeping its extension)

# -- routing (the automation service) -------------------------------------------------------------
ROUTING_STRATEGIES = ("least_loaded", "round_robin", "manual_only")  # a department's; least_loaded unless set
ROUTING_OUTCOMES = ("assigned", "queued")  # what a routing decision came to: an agent, or the backlog

# -- rules (the automation service) ----------------------------------------------------------------
# what starts a rule's evaluation
# (sla.* once the SLA service publishes them); "time": checked every minute, for conditions that come true with
# time alone (a time rule acts once per ticket)
RULE_TRIGGERS = ("ticket.created", "ticket.updated", "ticket.commented", "ticket.status_changed", "ticket.assigned",
                 "sla.warning", "sla.breached", "time")
# what a condition may look at: the ticket's fields, its requester and their organization, and times (minutes)
RULE_FIELDS = (
    "title", "description", "status", "priority", "category", "tags", "source", "urgency", "impact",
    "department_id", "assignee_id", "requester_id", "organization_id", "reopen_count",
    "requester.email", "requester.name", "organization.name", "organization.vip",
    "minutes_since_created", "minutes_without_activity", "minutes_in_status", "minutes_without_agent_reply",
    "sla_minutes_remaining",
)
RULE_OPERATORS = ("equals", "not_equals", "contains", "starts_with", "greater_than", "less_than", "in", "not_in",
                  "is_empty")
RULE_ACTIONS = ("set_priority", "assign_agent", "assign_department", "add_tag", "remove_tag", "set_status",
                "send_notification", "add_comment", "escalate", "auto_resolve", "close")
RULE_RECIPIENTS = ("requester", "assignee", "supervisors", "user")  # whom send_notification tells
RULE_CONDITIONS_MAX = 50  # conditions in one rule (leaves, at any depth)
RULE_DEPTH_MAX = 5  # nesting of all/any
RULE_ACTIONS_MAX = 20
RULE_FIRINGS_PER_TICKET_HOUR = 10  # loop protection: a rule fires at most this often on one ticket in an hour
RULE_MESSAGE_MAX = 2000
RULE_POSITION_MAX = 1_000_000  # rules run in ascending position
# what running a rule on a ticket came to: it acted; everything was already so; the ticket was gone; loop
# protection stopped it
RULE_RUN_OUTCOMES = ("applied", "unchanged", "gone", "loop_protected")
TIME_RULES_SECONDS = 30  # how often time-based rules are checked (each fires within a minute of coming true)

# -- response templates (the automation service) --------------------------------------------------
# what a template may print, as {{ variable.attribute }} (the service's domain.templates enforces it)
TEMPLATE_VARIABLES = (
    "ticket.number", "ticket.title", "ticket.status", "ticket.priority", "ticket.category", "ticket.created_at",
    "requester.name", "requester.email",
    "agent.name", "agent.email",
)
TEMPLATE_BODY_MAX = 20000  # a response template's text
TEMPLATE_CATEGORY_MAX = 100  # a response template's category (free text grouping templates)
