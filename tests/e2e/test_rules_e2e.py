"""Automation rules through the real stack (gateway, users, tickets, automation, RabbitMQ): an admin saves a
rule, a customer's matching ticket is changed by it (in its history, naming the rule; the customer never
sees its internal note), the dry run says what it would do without doing it, and the runs say what it did."""

import uuid

import pytest

pytestmark = pytest.mark.e2e
TICKETS = "/api/v1/tickets"
RULES = "/api/v1/automation/rules"


def test_an_admins_rule_acts_on_a_matching_ticket_and_the_dry_run_changes_nothing(as_role, event_probe):
    admin, ana, supervisor_less_agent = as_role("admin"), as_role("ana"), as_role("carlos")
    word = f"impresora-{uuid.uuid4().hex[:6]}"
    created = admin.post(RULES, json={
        "name": f"Printers {word}", "triggers": ["ticket.created"],
        "conditions": {"all": [{"field": "title", "operator": "contains", "value": word}]},
        "actions": [{"type": "set_priority", "priority": "high"}, {"type": "add_tag", "tag": "printer"},
                    {"type": "add_comment", "body": "Checked by a rule.", "internal": True}]})
    assert created.status_code == 201, created.text
    rule = created.json()["data"]
    assert supervisor_less_agent.get(RULES).status_code == 403 and ana.post(RULES, json={}).status_code == 403

    bad = admin.post(RULES, json={"name": "Bad", "triggers": ["ticket.created"],
                                  "conditions": {"field": "colour", "operator": "equals", "value": "red"},
                                  "actions": [{"type": "teleport"}]})
    assert bad.status_code == 422
    assert {"conditions.field", "actions.0.type"} <= set(bad.json()["errors"])

    dry = admin.post("/api/v1/automation/test", json={"ticket": {"title": f"La {word} no imprime"}})
    assert dry.status_code == 200, dry.text
    assert rule["id"] in dry.json()["data"]["matched"]

    probe, fired = event_probe("tickets", "ticket.commented"), event_probe("automation", "rule.fired")
    opened = ana.post(TICKETS, json={"title": f"La {word} no imprime", "description": "Planta 2"})
    assert opened.status_code == 201
    ticket_id = opened.json()["data"]["id"]
    note = probe.wait("ticket.commented", where=lambda e: e["data"]["ticket"]["id"] == ticket_id, timeout=20)
    assert note["data"]["comment"]["author_role"] == "system" and note["data"]["comment"]["internal"] is True

    seen_by_staff = admin.get(f"{TICKETS}/{ticket_id}").json()["data"]
    assert (seen_by_staff["priority"], seen_by_staff["tags"]) == ("high", ["printer"])
    history = admin.get(f"{TICKETS}/{ticket_id}/history").json()["data"]
    history = history["items"] if isinstance(history, dict) else history
    assert any(line.get("via", "").startswith(f"rule:{rule['id']}") for line in history)
    comments = ana.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]
    comments = comments["items"] if isinstance(comments, dict) else comments
    assert all(c["author_role"] != "system" for c in comments)  # an internal note: never the customer's
    # the run is recorded with its rule.fired event, after the tickets service answered: wait for that
    fired.wait("rule.fired", where=lambda e: e["data"]["ticket_id"] == ticket_id, timeout=20)
    runs = admin.get("/api/v1/automation/rule-runs", params={"ticket_id": ticket_id}).json()["data"]["items"]
    assert [(r["rule_id"], r["outcome"]) for r in runs] == [(rule["id"], "applied")]

    assert admin.patch(f"{RULES}/{rule['id']}/toggle").json()["data"]["enabled"] is False
    assert admin.delete(f"{RULES}/{rule['id']}").status_code == 200
    assert admin.get(f"{RULES}/{rule['id']}").status_code == 404


def test_a_time_rule_acts_on_a_ticket_once_it_comes_true(as_role, event_probe):
    admin, ana = as_role("admin"), as_role("ana")
    word = f"lento-{uuid.uuid4().hex[:6]}"
    rule = admin.post(RULES, json={
        "name": f"Slow {word}", "triggers": ["time"],
        "conditions": {"all": [{"field": "title", "operator": "contains", "value": word},
                               {"field": "minutes_since_created", "operator": "greater_than", "value": 0.02}]},
        "actions": [{"type": "add_tag", "tag": "slow"}]}).json()["data"]
    probe, fired = event_probe("tickets", "ticket.updated"), event_probe("automation", "rule.fired")

    ticket_id = ana.post(TICKETS, json={"title": f"Va {word}", "description": "x"}).json()["data"]["id"]
    event = probe.wait("ticket.updated", where=lambda e: e["data"]["ticket"]["id"] == ticket_id, timeout=30)
    fired.wait("rule.fired", where=lambda e: e["data"]["ticket_id"] == ticket_id, timeout=20)  # its run recorded

    assert event["data"]["ticket"]["tags"] == ["slow"] and event["data"]["actor"]["via"].startswith(f"rule:{rule['id']}")
    runs = admin.get("/api/v1/automation/rule-runs", params={"rule_id": rule["id"]}).json()["data"]["items"]
    assert [(r["ticket_id"], r["trigger"], r["outcome"]) for r in runs] == [(ticket_id, "time", "applied")]
    assert admin.delete(f"{RULES}/{rule['id']}").status_code == 200
