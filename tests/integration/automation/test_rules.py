"""Automation rules on the real broker next to the real users and tickets services: a rule an admin saves
acts on the next matching ticket through the tickets service (in the ticket's history, by the system,
naming the rule), asks for the notification as an event, records what it did, and a redelivered event
(the same envelope handled again) acts once; the dry run changes nothing."""

from __future__ import annotations

import json
import uuid

import amqp
import pytest
from kombu import Connection
from sqlalchemy import create_engine

from helpdesk_common.db import inbox_table
from services.automation.adapters.orm import rule_runs
from tests.integration.automation.test_routing import handled

pytestmark = pytest.mark.integration


def test_a_saved_rule_acts_on_the_next_matching_ticket_through_the_tickets_service(
        router, users_rpc, tickets_rpc, automation_rpc, admin, customer, event_probe):
    organization = users_rpc.create_organization({"name": f"Acme {uuid.uuid4().hex[:6]}", "vip": True})
    vip = users_rpc.create_user({"email": f"vip-{uuid.uuid4().hex[:8]}@example.com", "name": "Vera VIP",
                                 "password": "Cust0mer-pass", "role": "customer",
                                 "organization_id": organization["id"]})
    vip_actor = {"id": vip["id"], "role": "customer", "department_id": None, "organization_id": organization["id"]}
    rule = automation_rpc.create_rule({
        "name": "VIP goes first", "triggers": ["ticket.created"],
        "conditions": {"all": [{"field": "organization.vip", "operator": "equals", "value": True},
                               {"field": "description", "operator": "contains", "value": "contraseña"}]},
        "actions": [{"type": "set_priority", "priority": "urgent"}, {"type": "add_tag", "tag": "vip"},
                    {"type": "add_comment", "body": "A VIP: we are on it.", "internal": True},
                    {"type": "send_notification", "to": "supervisors", "message": "VIP ticket"}],
    }, admin)
    probe = event_probe("automation", "notification.requested")

    with handled(router, "on_ticket", "ticket.created", title="Sin acceso"):
        ticket = tickets_rpc.create({"title": "Sin acceso", "description": "Olvidé mi contraseña"}, vip_actor)
    with handled(router, "on_ticket", "ticket.created", title="Otro"):
        other = tickets_rpc.create({"title": "Otro", "description": "Olvidé mi contraseña"}, customer)

    now = tickets_rpc.get(ticket["id"], admin)
    assert (now["priority"], now["tags"]) == ("urgent", ["vip"])
    assert tickets_rpc.get(other["id"], admin)["priority"] == "medium"  # not VIP: untouched
    history = [line for line in tickets_rpc.history(ticket["id"], admin) if line["actor_role"] == "system"]
    assert history and {line["via"] for line in history} == {f"rule:{rule['id']} VIP goes first"}
    [note] = [c for c in tickets_rpc.list_comments(ticket["id"], admin) if c["author_role"] == "system"]
    assert (note["body"], note["internal"], note["author_id"]) == ("A VIP: we are on it.", True, None)
    assert all(c["author_role"] != "system" for c in tickets_rpc.list_comments(ticket["id"], vip_actor))
    sent = probe.wait("notification.requested", where=lambda e: e["data"]["ticket_id"] == ticket["id"])
    assert sent["data"]["to"] == "supervisors" and sent["data"]["rule"]["id"] == rule["id"]
    runs = automation_rpc.list_rule_runs(admin, ticket_id=ticket["id"])["items"]
    assert [(r["rule_id"], r["outcome"]) for r in runs] == [(rule["id"], "applied")]

    dry = automation_rpc.test_rules({"ticket_id": other["id"]}, admin)
    assert [r["matched"] for r in dry["rules"]] == [False]  # not VIP
    dry = automation_rpc.test_rules({"ticket": {"description": "mi contraseña", "organization": {"vip": True}}}, admin)
    assert dry["matched"] == [rule["id"]] and [s["type"] for s in dry["rules"][0]["steps"]][:2] == [
        "set_priority", "add_tag"]
    assert tickets_rpc.get(other["id"], admin)["version"] == other["version"]  # the dry run changed nothing


def test_an_event_handled_again_after_a_crash_acts_once(router, tickets_rpc, automation_rpc, admin, customer,
                                                      event_probe, automation_db_url, amqp_uri):
    """The router crashed after its rule acted but before anything of it committed (simulated: its inbox
    claim and run record deleted), so the event comes again: the rule runs again, each tickets call with
    the command id it had, and the tickets service answers from its record instead of acting twice."""
    rule = automation_rpc.create_rule({"name": "Tag and greet", "triggers": ["ticket.created"],
                                       "actions": [{"type": "add_tag", "tag": "seen"},
                                                   {"type": "add_comment", "body": "Hello from a rule"}]}, admin)
    probe = event_probe("tickets", "ticket.created")
    with handled(router, "on_ticket", "ticket.created", title="Una vez"):
        ticket = tickets_rpc.create({"title": "Una vez", "description": "x"}, customer)
    created = probe.wait("ticket.created", where=lambda e: e["data"]["ticket"]["id"] == ticket["id"])
    once = tickets_rpc.get(ticket["id"], admin)
    assert once["tags"] == ["seen"]
    history = tickets_rpc.history(ticket["id"], admin)
    assert [c["body"] for c in tickets_rpc.list_comments(ticket["id"], admin)] == ["Hello from a rule"]

    engine = create_engine(automation_db_url)
    with engine.begin() as conn:
        conn.execute(inbox_table.delete().where(inbox_table.c.event_id == created["id"]))
        conn.execute(rule_runs.delete().where(rule_runs.c.event_id == created["id"]))
    with handled(router, "on_ticket", "ticket.created", title="Una vez"):
        with Connection(amqp_uri) as conn:
            conn.default_channel.basic_publish(
                amqp.Message(json.dumps(created), content_type="application/json", message_id=created["id"]),
                exchange="tickets.events", routing_key="ticket.created")

    again = tickets_rpc.get(ticket["id"], admin)
    assert again["version"] == once["version"] and tickets_rpc.history(ticket["id"], admin) == history
    assert [c["body"] for c in tickets_rpc.list_comments(ticket["id"], admin)] == ["Hello from a rule"]  # once
    runs = automation_rpc.list_rule_runs(admin, ticket_id=ticket["id"])["items"]
    assert [(r["rule_id"], r["outcome"]) for r in runs] == [(rule["id"], "applied")]
    engine.dispose()
