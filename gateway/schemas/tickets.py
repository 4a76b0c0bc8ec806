"""Tickets as the tickets service answers them, the requests that change them, and the list's filters.

The enums are the shared vocabulary (``helpdesk_contracts.vocabulary``, which the tickets service's rules
use too): they are checked here so a typo answers 422 with the allowed values before any RPC, and they
document the API.

(Over 400 lines on purpose: the answers, requests and queries of one resource share its field types,
enums and limits, read together.)
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from gateway.schemas.common import UUID_PATTERN, ChangesSchema, InputSchema, PageQuerySchema, Prose, UuidString, text
from helpdesk_contracts import limits
from helpdesk_contracts.vocabulary import (
    BULK_MAX,
    CATEGORY_DESCRIPTION_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    LEVELS,
    LINK_KINDS,
    MENTIONS_MAX,
    METADATA_KEY_MAX,
    PRIORITIES,
    SEARCH_MAX,
    SKILL_MAX,
    SKILLS_MAX,
    SOURCES,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
)
from helpdesk_contracts.vocabulary import CATEGORY_NAME_MAX as CATEGORY_MAX
from helpdesk_contracts.vocabulary import TICKET_STATUSES as STATUSES

SORTABLE = ("created_at", "updated_at", "priority", "status", "number", "title")
SORT_ORDERS = ("asc", "desc")
EXPORT_FORMATS = ("xlsx", "csv")

_timestamp = {"format": "date-time"}
_uuid = {"format": "uuid"}


# -- fields ---------------------------------------------------------------------------------------
class CommaList(fields.List):
    """A list in the query string, given as repeated parameters, comma-separated, or both.

    ``?status=new,open`` and ``?status=new&status=open`` both load as ``["new", "open"]``.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        values = value if isinstance(value, list | tuple) else [value]
        items: list[Any] = []
        for item in values:
            if isinstance(item, str):
                items.extend(part.strip() for part in item.split(",") if part.strip())
            else:
                items.append(item)
        return super()._deserialize(items, attr, data, **kwargs)


class DayOrMoment(fields.String):
    """An ISO 8601 date (``2025-01-31``) or date-time, handed on as an aware ISO date-time.

    A date means the start of that day (UTC), or its end with ``end_of_day``; a date-time without an
    offset is taken as UTC.
    """

    default_error_messages = {
        "invalid": "Not a valid ISO 8601 date (YYYY-MM-DD) or date-time.",
        "range": limits.MOMENT_RANGE,
    }
    _DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any):
        # documented as what it takes: a calendar date or an RFC 3339 date-time (an offset-less one is UTC)
        kwargs["metadata"] = {**kwargs.get("metadata", {}), "anyOf": [{"format": "date"}, {"format": "date-time"}]}
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            if self._DAY.match(raw):
                moment = datetime.combine(date.fromisoformat(raw), time.max if self.end_of_day else time.min, UTC)
            elif "T" in raw or " " in raw:
                moment = datetime.fromisoformat(raw)
            else:
                raise ValueError(raw)
        except ValueError:
            raise self.make_error("invalid") from None
        try:
            limits.utc_moment(moment)  # what the tickets service compares with, in UTC
        except ValueError:
            raise self.make_error("range") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.isoformat()


class AssigneeFilter(fields.String):
    """``me`` (the caller), ``none`` (unassigned) or an agent's id."""

    default_error_messages = {"invalid_assignee": "Must be 'me', 'none' or a user id."}

    def __init__(self, **kwargs: Any):
        pattern = f"^(?:[Mm][Ee]|[Nn][Oo][Nn][Ee]|{UUID_PATTERN.strip('^$')})$"
        kwargs["metadata"] = {**kwargs.get("metadata", {}), "pattern": pattern}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if raw.lower() in ("me", "none"):
            return raw.lower()
        try:
            return UuidString()._deserialize(raw, attr, data)
        except ValidationError:
            raise self.make_error("invalid_assignee") from None


def _one_of(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(choices), **kwargs)


def _tags() -> fields.List:
    return fields.List(text(TAG_MAX), validate=validate.Length(max=TAGS_MAX))


def _metadata() -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=METADATA_KEY_MAX)),
        metadata={"description": "Free-form data for integrations (agents see it; customers do not)."},
    )


# -- what the service answers ---------------------------------------------------------------------
class TicketSchema(Schema):
    """A ticket. ``metadata`` is shown to agents only."""

    id = fields.String(required=True, metadata=_uuid)
    number = fields.String(required=True, metadata={"example": "TKT-000123"})
    highlight = fields.String(
        allow_none=True, metadata={"description": "Search results only: a snippet with <mark>ed matches (HTML-escaped)."}
    )
    title = fields.String(required=True)
    description = fields.String()
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    priority = fields.String(required=True, metadata={"enum": list(PRIORITIES)})
    urgency = fields.String(allow_none=True, metadata={"enum": list(LEVELS)})
    impact = fields.String(allow_none=True, metadata={"enum": list(LEVELS)})
    category = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    required_skills = fields.List(
        fields.String(),
        metadata={"description": "The skills its category needs now: an agent must hold them all to be routed "
                                 "the ticket (none without a category, or when no category has its name any more)."},
    )
    requester_id = fields.String(metadata=_uuid)
    assignee_id = fields.String(allow_none=True, metadata=_uuid)
    department_id = fields.String(allow_none=True, metadata=_uuid)
    organization_id = fields.String(allow_none=True, metadata=_uuid)
    source = fields.String(metadata={"enum": list(SOURCES)})
    resolution = fields.String(allow_none=True)
    created_at = fields.String(metadata=_timestamp)
    updated_at = fields.String(metadata=_timestamp)
    first_response_at = fields.String(allow_none=True, metadata=_timestamp)
    resolved_at = fields.String(allow_none=True, metadata=_timestamp)
    closed_at = fields.String(allow_none=True, metadata=_timestamp)
    reopen_count = fields.Integer()
    version = fields.Integer(
        required=True, metadata={"description": "Bumped by every change; send it back as If-Match: \"<version>\"."}
    )
    metadata = fields.Dict()
    unread = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Public messages of the other side you have not read: for a customer, the agents' replies "
            "on their own ticket; for agents, the requester's messages (one count for all agents). Reading the "
            "thread (`GET .../comments`) or `POST .../read` sets it to 0; writing a reply does too. Internal notes "
            "never count. `null` when you keep no read position on the ticket (a colleague's shared ticket)."
        },
    )
    sla = fields.Dict(
        allow_none=True,
        metadata={"description": "Targets, due times and state (ok/warning/breached/paused/met), once SLAs exist."},
    )


class CommentSchema(Schema):
    """A public reply or an internal note."""

    id = fields.String(required=True, metadata=_uuid)
    ticket_id = fields.String(metadata=_uuid)
    author_id = fields.String(allow_none=True, metadata=_uuid)
    author_role = fields.String()
    body = fields.String(required=True)
    internal = fields.Boolean(required=True)
    mentions = fields.List(fields.String(metadata=_uuid))
    created_at = fields.String(metadata=_timestamp)


class HistoryEntrySchema(Schema):
    """One change of a ticket: who, when, which field, before and after."""

    id = fields.Integer(required=True)
    at = fields.String(required=True, metadata=_timestamp)
    actor_id = fields.String(allow_none=True, metadata=_uuid)
    actor_role = fields.String()
    via = fields.String(metadata={"description": "Where the change came from (gateway, automation, ...)."})
    action = fields.String(required=True, metadata={"example": "status_changed"})
    field = fields.String(allow_none=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class TicketStatsSchema(Schema):
    """Counts of the tickets the caller can see (by agent and department for agents only)."""

    total = fields.Integer(required=True)
    total_exact = fields.Boolean(
        metadata={"description": "False when `q` matched more tickets than a search serves (10,000): the counts "
                                 "cover the newest 10,000 matches."},
    )
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_priority = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_assignee = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_department = fields.Dict(keys=fields.String(), values=fields.Integer())
    unread_messages = fields.Integer(
        metadata={"description": "Unread public messages for your side, over the counted tickets (customers: their own)."}
    )
    unread_tickets = fields.Integer(metadata={"description": "How many of those tickets have unread messages."})


class TagCountSchema(Schema):
    """A tag and how many of the caller's visible tickets carry it."""

    tag = fields.String(required=True)
    count = fields.Integer(required=True)


class BulkErrorSchema(Schema):
    """Why one ticket of a bulk request failed: the status it would have answered alone."""

    status = fields.Integer(required=True, metadata={"example": 404})
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Per field, as a single request's envelope has them.",
                                   "example": {"department_id": ["No such department."]}})


class BulkItemSchema(Schema):
    """The outcome for one ticket: the changed ticket, or the error."""

    id = fields.String(required=True, metadata=_uuid)
    success = fields.Boolean(required=True)
    ticket = fields.Nested(TicketSchema)
    error = fields.Nested(BulkErrorSchema)


class BulkResultSchema(Schema):
    """One result per distinct id, in the order sent."""

    results = fields.List(fields.Nested(BulkItemSchema), required=True)
    succeeded = fields.Integer(required=True)
    failed = fields.Integer(required=True)


# -- requests -------------------------------------------------------------------------------------
class _UrgencyWithImpact:
    @validates_schema
    def _urgency_with_impact(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("urgency" in data) != ("impact" in data):
            missing = "impact" if "urgency" in data else "urgency"
            raise ValidationError("Give urgency and impact together.", missing)


class CreateTicketSchema(_UrgencyWithImpact, InputSchema):
    """A new ticket. ``urgency`` with ``impact`` sets the priority (ITIL matrix)."""

    class Meta(InputSchema.Meta):
        # documents _urgency_with_impact: both or neither
        json_schema = {"anyOf": [{"required": ["urgency", "impact"]},
                                 {"not": {"anyOf": [{"required": ["urgency"]}, {"required": ["impact"]}]}}]}

    title = text(TITLE_MAX, required=True)
    description = Prose(required=True, validate=validate.Length(max=DESCRIPTION_MAX))
    priority = _one_of(PRIORITIES, metadata={"description": "Default medium."})
    urgency = _one_of(LEVELS)
    impact = _one_of(LEVELS)
    category = text(CATEGORY_MAX, allow_none=True)
    tags = _tags()
    department_id = UuidString(allow_none=True)
    source = _one_of(SOURCES, metadata={"description": "Default web."})
    metadata = _metadata()
    requester_id = UuidString(metadata={"description": "Agents only: open the ticket on a customer's behalf."})


class UpdateTicketSchema(ChangesSchema):
    """Changes to a ticket (requesters: only title and description, while the ticket is new)."""

    title = text(TITLE_MAX)
    description = Prose(validate=validate.Length(max=DESCRIPTION_MAX))
    priority = _one_of(PRIORITIES)
    urgency = _one_of(LEVELS, allow_none=True)
    impact = _one_of(LEVELS, allow_none=True)
    category = text(CATEGORY_MAX, allow_none=True)
    tags = _tags()
    metadata = _metadata()


def _resolution() -> Prose:
    return Prose(allow_none=True, validate=validate.Length(max=COMMENT_MAX))


class StatusChangeSchema(InputSchema):
    """A new status; a resolution may go with resolved or closed."""

    status = _one_of(STATUSES, required=True)
    resolution = _resolution()


class CloseSchema(InputSchema):
    """An optional resolution for closing."""

    resolution = _resolution()


class _AssigneeOrDepartment:
    class Meta(InputSchema.Meta):
        json_schema = {"anyOf": [{"required": ["assignee_id"]}, {"required": ["department_id"]}]}

    @validates_schema
    def _something_to_assign(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "assignee_id" not in data and "department_id" not in data:
            raise ValidationError("Give assignee_id, department_id or both.")


class AssignSchema(_AssigneeOrDepartment, InputSchema):
    """An agent and/or a department; ``null`` unassigns."""

    assignee_id = UuidString(allow_none=True)
    department_id = UuidString(allow_none=True)


class PrioritySchema(InputSchema):
    """A new priority."""

    priority = _one_of(PRIORITIES, required=True)


class CreateCommentSchema(InputSchema):
    """A reply (seen by the requester) or, for agents, an internal note."""

    body = Prose(required=True, validate=validate.Length(max=COMMENT_MAX))
    internal = fields.Boolean(load_default=False, metadata={"description": "Agents only."})
    mentions = fields.List(
        UuidString(),
        validate=validate.Length(max=MENTIONS_MAX),
        metadata={"description": "Agents only: ids of colleagues to notify. `@handle` (an e-mail's local part) or "
                  "`@name@example.com` in the body also mention active agents; unknown handles stay text. "
                  "Customers' mentions are ignored."},
    )


def _ticket_ids() -> fields.List:
    return fields.List(
        UuidString(),
        required=True,
        validate=validate.Length(min=1, max=BULK_MAX),
        metadata={"description": f"1 to {BULK_MAX} ticket ids; repeated ids count once."},
    )


class BulkAssignSchema(_AssigneeOrDepartment, InputSchema):
    """Tickets to give to an agent and/or a department."""

    ticket_ids = _ticket_ids()
    assignee_id = UuidString(allow_none=True)
    department_id = UuidString(allow_none=True)


class BulkStatusSchema(InputSchema):
    """Tickets to move to one status."""

    ticket_ids = _ticket_ids()
    status = _one_of(STATUSES, required=True)
    resolution = _resolution()


# -- queries --------------------------------------------------------------------------------------
FILTERS = (
    "status",
    "priority",
    "assignee_id",
    "department_id",
    "requester_id",
    "category",
    "tag",
    "source",
    "created_from",
    "created_to",
    "q",
)


class TicketFiltersSchema(InputSchema):
    """What narrows a list of tickets (visibility itself is the tickets service's)."""

    JSON_TYPES = False  # a query string
    EMPTY_IS_ABSENT = True  # documents _drop_empty (gateway.openapi)

    status = CommaList(_one_of(STATUSES), metadata={"description": "One or more, comma-separated."})
    priority = CommaList(_one_of(PRIORITIES), metadata={"description": "One or more, comma-separated."})
    assignee_id = AssigneeFilter(metadata={"description": "`me`, `none` (unassigned) or a user id."})
    department_id = UuidString()
    requester_id = UuidString()
    category = text(CATEGORY_MAX)
    tag = text(TAG_MAX)
    source = _one_of(SOURCES)
    created_from = DayOrMoment(metadata={"description": "ISO date or date-time (UTC when no offset), inclusive."})
    created_to = DayOrMoment(
        end_of_day=True, metadata={"description": "ISO date (the whole day counts) or date-time, inclusive."}
    )
    q = text(SEARCH_MAX, metadata={"description": "Words to look for in titles and descriptions."})

    @pre_load
    def _drop_empty(self, data: Any, **kwargs: Any) -> Any:
        # A filter form sends its empty inputs as `?q=&status=`: an empty filter is no filter.
        if not hasattr(data, "keys"):
            return data
        loaded = {key: data[key] for key in data.keys()}
        return {key: value for key, value in loaded.items() if value not in ("", [], [""])}

    @validates_schema
    def _range_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and datetime.fromisoformat(start) > datetime.fromisoformat(end):
            raise ValidationError("Must not be before created_from.", "created_to")


class _Sorting(InputSchema):
    JSON_TYPES = False  # a query string
    sort_by = _one_of(SORTABLE, load_default="created_at")
    sort_order = _one_of(SORT_ORDERS, load_default="desc")


class TicketQuerySchema(TicketFiltersSchema, _Sorting, PageQuerySchema):
    """A page of tickets: filters, sorting, ``page`` and ``limit`` (at most 100)."""


class TicketSearchQuerySchema(TicketQuerySchema):
    """A full-text search: ``q`` and the list's filters."""

    q = text(SEARCH_MAX, required=True, metadata={"description": "Words to look for."})


class TicketExportQuerySchema(TicketFiltersSchema, _Sorting):
    """The list's filters and sorting, and the file format."""

    format = _one_of(EXPORT_FORMATS, load_default="xlsx")


class TicketStatsQuerySchema(TicketFiltersSchema):
    """The list's filters: count only the matching tickets."""


# -- categories, merging and links -----------------------------------------------------------------

_SKILLS_NEEDED = "The skills an agent must hold to be routed this category's tickets (all of them)."


class CategorySchema(Schema):
    """A ticket category; a new ticket in it goes to its default department unless one is given."""

    id = fields.String(required=True, metadata=_uuid)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    default_department_id = fields.String(allow_none=True, metadata=_uuid)
    required_skills = fields.List(fields.String(), metadata={"description": _SKILLS_NEEDED})
    created_at = fields.String(metadata=_timestamp)
    updated_at = fields.String(metadata=_timestamp)


def _required_skills() -> fields.List:
    # a user's skills' limits: the router matches the two as written (trimmed here; case kept)
    return fields.List(
        text(SKILL_MAX),
        validate=validate.Length(max=SKILLS_MAX),
        metadata={"description": f"{_SKILLS_NEEDED} At most {SKILLS_MAX}, each trimmed; repeats count once."},
    )


class CreateCategorySchema(InputSchema):
    """A new category (names are unique, ignoring case)."""

    name = text(CATEGORY_MAX, required=True)
    description = text(CATEGORY_DESCRIPTION_MAX, allow_none=True)
    default_department_id = UuidString(allow_none=True)
    required_skills = _required_skills()


class UpdateCategorySchema(ChangesSchema):
    """Changes to a category (tickets already filed keep the name they have)."""

    name = text(CATEGORY_MAX)
    description = text(CATEGORY_DESCRIPTION_MAX, allow_none=True)
    default_department_id = UuidString(allow_none=True)
    required_skills = _required_skills()


class MergeSchema(InputSchema):
    """The ticket to merge this one into; tickets of two requesters merge only when confirmed."""

    target_id = UuidString(required=True)
    confirm_different_requesters = fields.Boolean(
        load_default=False,
        metadata={"description": "Required (true) when the two tickets have different requesters: the duplicate's "
                                 "public replies and attachments become readable by the target's requester."})


class MergeResultSchema(Schema):
    """The closed duplicate and the target that now holds its thread."""

    ticket = fields.Nested(TicketSchema, required=True)
    target = fields.Nested(TicketSchema, required=True)


class CreateLinkSchema(InputSchema):
    """Another ticket and what it is to this one (``parent``: the other ticket is this one's parent)."""

    other_id = UuidString(required=True)
    kind = _one_of(LINK_KINDS, required=True)


class LinkSchema(Schema):
    """A link seen from ``ticket_id``: ``other_id`` is its ``kind`` (related, parent or child)."""

    ticket_id = fields.String(required=True, metadata=_uuid)
    other_id = fields.String(required=True, metadata=_uuid)
    kind = fields.String(required=True, metadata={"enum": list(LINK_KINDS)})
    number = fields.String()
    title = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    created_at = fields.String(metadata=_timestamp)
    created_by = fields.String(allow_none=True, metadata=_uuid)
