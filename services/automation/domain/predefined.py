"""The automation rules the product comes with (seed 002 §7, in our field names), seeded by ``make run``
(``services/automation/seed.py``); checked as any rule is when they are created."""

from __future__ import annotations

from typing import Any

# Seeded by ``make run``. Those that only tell people are enabled; those that change tickets are seeded
# disabled, for an admin to read, adjust and enable (a VIP organization or a password reset means different
# things to different teams, and closing a ticket is for the team to decide).
PREDEFINED: tuple[dict[str, Any], ...] = (
    {"name": "Urgent ticket: tell the supervisors", "position": 10, "enabled": True,
     "description": "A ticket opened or raised to urgent: its department's supervisors are told at once.",
     "triggers": ["ticket.created", "ticket.updated"],
     "conditions": {"all": [{"field": "priority", "operator": "equals", "value": "urgent"}]},
     "actions": [{"type": "send_notification", "to": "supervisors", "message": "Urgent ticket received."}]},
    {"name": "Password reset: low priority and tagged", "position": 20, "enabled": False,
     "description": "Tickets about a forgotten password are routine: low priority, tagged password_reset.",
     "triggers": ["ticket.created"],
     "conditions": {"any": [{"field": "description", "operator": "contains", "value": "contraseña"},
                            {"field": "title", "operator": "contains", "value": "contraseña"},
                            {"field": "title", "operator": "contains", "value": "password"}]},
     "actions": [{"type": "set_priority", "priority": "low"}, {"type": "add_tag", "tag": "password_reset"}]},
    {"name": "VIP organization: one step more urgent", "position": 30, "enabled": False,
     "description": "A ticket from a VIP organization is escalated one priority step and its supervisors told.",
     "triggers": ["ticket.created"],
     "conditions": {"all": [{"field": "organization.vip", "operator": "equals", "value": True}]},
     "actions": [{"type": "escalate", "message": "A VIP customer opened a ticket."},
                 {"type": "add_tag", "tag": "vip"}]},
    {"name": "SLA about to be missed: tell the agent", "position": 40, "enabled": True,
     "description": "When the SLA service warns that a ticket's due time is near, its agent is told.",
     "triggers": ["sla.warning"],
     "conditions": {"all": []},
     "actions": [{"type": "send_notification", "to": "assignee", "message": "The SLA of this ticket is about to be missed."}]},
    {"name": "Waiting 24 h without activity: close", "position": 50, "enabled": False,
     "description": "A ticket waiting on its requester with no activity for a day is closed, and the requester told.",
     "triggers": ["time"],
     "conditions": {"all": [{"field": "status", "operator": "equals", "value": "waiting"},
                            {"field": "minutes_without_activity", "operator": "greater_than", "value": 1440}]},
     "actions": [{"type": "close", "resolution": "Closed after 24 hours without activity."},
                 {"type": "send_notification", "to": "requester", "message": "Your ticket was closed after 24 hours without activity."}]},
)
