"""Merging a duplicate through the gateway, the tickets service and RabbitMQ, as the demo people would."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

TICKETS = "/api/v1/tickets"


def _open(api, title: str) -> dict:
    response = api.post(TICKETS, json={"title": title, "description": "Desde esta mañana."})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_agent_merges_a_duplicate_and_the_target_holds_its_thread(as_role):
    ana, carlos, admin = as_role("ana"), as_role("carlos"), as_role("admin")
    target = _open(ana, "No funciona la impresora")
    duplicate = _open(ana, "La impresora no imprime")
    reply = ana.post(f"{TICKETS}/{duplicate['id']}/comments", json={"body": "Sigue sin imprimir."})
    assert reply.status_code == 201, reply.text

    merged = carlos.post(f"{TICKETS}/{duplicate['id']}/merge", json={"target_id": target["id"]})

    assert merged.status_code == 200, merged.text
    thread = carlos.get(f"{TICKETS}/{target['id']}/comments")
    assert thread.status_code == 200, thread.text
    bodies = [c["body"] for c in thread.json()["data"]["items"]]
    assert "Sigue sin imprimir." in bodies
    assert f"{duplicate['number']} was merged into this ticket (1 comments moved here)." in bodies
    closed = ana.get(f"{TICKETS}/{duplicate['id']}").json()["data"]
    assert closed["status"] == "closed"
    assert closed["resolution"] == f"Merged into {target['number']}."
    again = admin.post(f"{TICKETS}/{duplicate['id']}/merge", json={"target_id": target["id"]})
    assert again.status_code == 409, again.text


def test_merging_tickets_of_two_requesters_needs_a_confirmation_recorded_in_both_histories(as_role):
    ana, carlos = as_role("ana"), as_role("carlos")
    duplicate = _open(ana, "La impresora no imprime")
    target = _open(carlos, "Impresora de la planta 2")  # carlos's own ticket: another requester
    url = f"{TICKETS}/{duplicate['id']}/merge"

    refused = carlos.post(url, json={"target_id": target["id"]})
    assert refused.status_code == 409, refused.text
    assert "confirm_different_requesters" in refused.json()["message"]
    assert ana.get(f"{TICKETS}/{duplicate['id']}").json()["data"]["status"] != "closed"

    merged = carlos.post(url, json={"target_id": target["id"], "confirm_different_requesters": True})

    assert merged.status_code == 200, merged.text
    for ticket in (duplicate, target):
        history = carlos.get(f"{TICKETS}/{ticket['id']}/history").json()["data"]["items"]
        [line] = [h for h in history if h["action"] == "merge_confirmed"]
        assert (line["before"], line["after"]) == (duplicate["requester_id"], target["requester_id"])
    assert "merge_confirmed" not in {h["action"] for h in
                                     ana.get(f"{TICKETS}/{duplicate['id']}/history").json()["data"]["items"]}
