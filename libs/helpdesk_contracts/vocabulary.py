"""The closed sets of values the API and the services share: one definition, used by both.

The services' domain rules check them, the gateway's schemas check them again before any RPC and
document them in the OpenAPI as enums; a value added here is added everywhere at once.
"""

from __future__ import annotations

# users
ROLES = ("customer", "agent", "supervisor", "admin")
USER_STATUSES = ("active", "inactive", "on_leave")
AVAILABILITIES = ("online", "away", "offline")
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

# tickets
TICKET_STATUSES = ("new", "open", "in_progress", "waiting", "resolved", "closed")
PRIORITIES = ("low", "medium", "high", "urgent")
LEVELS = ("low", "medium", "high", "critical")  # urgency and impact
SOURCES = ("web", "email", "chat", "api")
LINK_KINDS = ("related", "parent", "child")
