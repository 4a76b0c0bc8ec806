"""Tickets through the gateway, the tickets and users services and RabbitMQ, as the demo people use them."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e

TICKETS = "/api/v1/tickets"


def _open_ticket(api, title: str = "La VPN se cae cada hora") -> dict:
    response = api.post(TICKETS, json={"title": title, "description": "Desde el lunes.", "tags": ["vpn"]})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def _my_id(api) -> str:
    response = api.get("/api/v1/auth/me")
    assert response.status_code == 200, response.text
    return response.json()["data"]["id"]


def _assigned_to_carlos(as_role) -> tuple[dict, object, object]:
    """Open a ticket as ana and have the admin give it to carlos; return it with ana's and carlos's clients."""
    ana, carlos, admin = as_role("ana"), as_role("carlos"), as_role("admin")
    ticket = _open_ticket(ana)
    response = admin.patch(f"{TICKETS}/{ticket['id']}/assign", json={"assignee_id": _my_id(carlos)})
    assert response.status_code == 200, response.text
    return response.json()["data"], ana, carlos


def _new_customer(anon):
    """Sign up a second customer; return a client signed in as them."""
    email = f"otro-{uuid.uuid4().hex[:8]}@example.com"
    response = anon.post("/api/v1/auth/register", json={"email": email, "name": "Otro Cliente", "password": "otro-pass1"})
    assert response.status_code == 201, response.text
    return type(anon)(anon.base, response.json()["data"]["access_token"])


def _worked_by_carlos(as_role) -> tuple[dict, object, object]:
    """A ticket carlos took in hand: in progress, with a public reply and an internal note."""
    ticket, ana, carlos = _assigned_to_carlos(as_role)
    url = f"{TICKETS}/{ticket['id']}"
    assert carlos.patch(f"{url}/status", json={"status": "in_progress"}).status_code == 200
    assert carlos.post(f"{url}/comments", json={"body": "Reiniciamos el concentrador VPN."}).status_code == 201
    note = {"body": "El firewall del cliente bloquea UDP 500.", "internal": True}
    assert carlos.post(f"{url}/comments", json=note).status_code == 201, "internal note"
    return ticket, ana, carlos


def test_customer_opens_a_numbered_new_ticket_and_the_event_is_published(as_role, event_probe):
    probe = event_probe("tickets", "ticket.created")

    ticket = _open_ticket(as_role("ana"))

    assert re.fullmatch(r"TKT-\d{6}", ticket["number"])
    assert ticket["status"] == "new"
    event = probe.wait("ticket.created", where=lambda e: e["data"]["ticket"]["id"] == ticket["id"], timeout=15)
    assert event["data"]["ticket"]["number"] == ticket["number"]


def test_admin_assigns_a_ticket_to_an_agent_and_the_event_is_published(as_role, event_probe):
    probe = event_probe("tickets", "ticket.assigned")

    ticket, _, carlos = _assigned_to_carlos(as_role)

    assert (ticket["assignee_id"], ticket["status"]) == (_my_id(carlos), "open")
    event = probe.wait("ticket.assigned", where=lambda e: e["data"]["ticket"]["id"] == ticket["id"], timeout=15)
    assert event["data"]["assignee_id"] == ticket["assignee_id"]


def test_agent_moves_an_assigned_ticket_to_in_progress(as_role):
    ticket, _, carlos = _assigned_to_carlos(as_role)

    response = carlos.patch(f"{TICKETS}/{ticket['id']}/status", json={"status": "in_progress"})

    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "in_progress"
    assert response.headers["ETag"] == f'"{response.json()["data"]["version"]}"'


def test_customer_sees_the_reply_but_not_the_internal_note_in_comments(as_role):
    ticket, ana, carlos = _worked_by_carlos(as_role)

    mine = ana.get(f"{TICKETS}/{ticket['id']}/comments").json()["data"]["items"]
    theirs = carlos.get(f"{TICKETS}/{ticket['id']}/comments").json()["data"]["items"]

    assert [c["body"] for c in mine] == ["Reiniciamos el concentrador VPN."]
    assert [c["internal"] for c in theirs] == [False, True]


def test_customer_history_shows_the_reply_but_not_the_internal_note(as_role):
    ticket, ana, carlos = _worked_by_carlos(as_role)

    mine = {e["action"] for e in ana.get(f"{TICKETS}/{ticket['id']}/history").json()["data"]["items"]}
    theirs = {e["action"] for e in carlos.get(f"{TICKETS}/{ticket['id']}/history").json()["data"]["items"]}

    assert {"created", "assigned", "status_changed", "replied"} <= mine
    assert "internal_note" not in mine
    assert "internal_note" in theirs


def test_customer_cannot_write_an_internal_note(as_role):
    ana = as_role("ana")
    ticket = _open_ticket(ana)

    response = ana.post(f"{TICKETS}/{ticket['id']}/comments", json={"body": "psst", "internal": True})

    assert response.status_code == 403


def test_customer_cannot_see_another_customers_ticket(as_role, anon):
    theirs = _open_ticket(_new_customer(anon), "Otra cosa")
    ana = as_role("ana")

    response = ana.get(f"{TICKETS}/{theirs['id']}")

    assert response.status_code == 404
    assert theirs["id"] not in {t["id"] for t in ana.get(f"{TICKETS}?limit=100").json()["data"]["items"]}


def test_illegal_transition_is_409_naming_the_allowed_states(as_role):
    ticket, _, carlos = _assigned_to_carlos(as_role)
    url = f"{TICKETS}/{ticket['id']}/status"
    assert carlos.patch(url, json={"status": "in_progress"}).status_code == 200

    response = carlos.patch(url, json={"status": "new"})

    assert response.status_code == 409
    assert response.json()["message"] == "Cannot move a ticket from in_progress to new; allowed: waiting, resolved, closed."


def test_write_with_a_stale_if_match_is_412(as_role):
    ticket = _open_ticket(as_role("ana"))
    admin = as_role("admin")
    url = f"{TICKETS}/{ticket['id']}"
    read = admin.get(url).headers["ETag"]
    assert admin.patch(f"{url}/priority", json={"priority": "high"}, headers={"If-Match": read}).status_code == 200

    response = admin.patch(f"{url}/priority", json={"priority": "urgent"}, headers={"If-Match": read})

    assert response.status_code == 412
    assert response.json()["errors"]["version"] == [admin.get(url).headers["ETag"].strip('"')]


def test_bulk_status_applies_the_good_ids_and_reports_the_unknown_one(as_role):
    ticket = _open_ticket(as_role("ana"))
    unknown = str(uuid.uuid4())

    response = as_role("admin").post(f"{TICKETS}/bulk-status", json={"ticket_ids": [ticket["id"], unknown], "status": "open"})

    results = {item["id"]: item for item in response.json()["data"]["results"]}
    assert response.status_code == 200
    assert results[ticket["id"]]["ticket"]["status"] == "open"
    assert results[unknown]["error"]["status"] == 404


def test_customer_export_contains_only_her_tickets(as_role, anon):
    ana = as_role("ana")
    mine = _open_ticket(ana, "=cmd|' /C calc'!A0")
    theirs = _open_ticket(_new_customer(anon), "No es de Ana")

    response = ana.get(f"{TICKETS}/export", params={"format": "xlsx"})

    assert response.status_code == 200, response.text
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
    numbers = {row[0] for row in rows}
    assert mine["number"] in numbers and theirs["number"] not in numbers
    assert {row[3] for row in rows} == {_my_id(ana)}
    assert ("'" + mine["title"]) in {row[1] for row in rows}


def test_customer_csv_export_contains_only_her_tickets(as_role, anon):
    ana = as_role("ana")
    mine = _open_ticket(ana)
    theirs = _open_ticket(_new_customer(anon), "Tampoco es de Ana")

    response = ana.get(f"{TICKETS}/export", params={"format": "csv"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert mine["number"] in {row["Number"] for row in rows}
    assert theirs["number"] not in {row["Number"] for row in rows}


def test_agent_sees_an_unassigned_ticket_of_their_department_and_others_do_not(as_role):
    carlos, maria = as_role("carlos"), as_role("maria")
    department_id = carlos.get("/api/v1/auth/me").json()["data"]["department_id"]
    ticket = as_role("ana").post(
        TICKETS, json={"title": "Switch caído", "description": "Planta 2.", "department_id": department_id}
    ).json()["data"]

    assert carlos.get(f"{TICKETS}/{ticket['id']}").status_code == 200
    assert maria.get(f"{TICKETS}/{ticket['id']}").status_code == 404


def test_a_department_or_category_that_does_not_exist_is_422_naming_the_field_and_stores_nothing(as_role):
    ana, carlos = as_role("ana"), as_role("carlos")
    title = f"Sin departamento {uuid.uuid4().hex[:8]}"
    ticket = _open_ticket(ana)

    created = ana.post(TICKETS, json={"title": title, "description": "x", "department_id": str(uuid.uuid4())})
    filed = ana.post(TICKETS, json={"title": title, "description": "x", "category": "No existe"})
    assigned = carlos.patch(f"{TICKETS}/{ticket['id']}/assign", json={"department_id": str(uuid.uuid4())})

    assert (created.status_code, created.json()["errors"]) == (422, {"department_id": ["No such department."]})
    assert (filed.status_code, filed.json()["errors"]) == (422, {"category": ["No such category."]})
    assert (assigned.status_code, list(assigned.json()["errors"])) == (422, ["department_id"])
    assert ana.get(f"{TICKETS}/search", params={"q": title}).json()["data"]["items"] == []
    assert carlos.get(f"{TICKETS}/{ticket['id']}").json()["data"]["department_id"] is None


def test_list_filters_by_creation_day(as_role):
    ana = as_role("ana")
    ticket = _open_ticket(ana)
    day = ticket["created_at"][:10]

    that_day = ana.get(TICKETS, params={"created_from": day, "created_to": day, "limit": 100}).json()["data"]
    before = ana.get(TICKETS, params={"created_to": "2000-01-01"}).json()["data"]

    assert ticket["id"] in {t["id"] for t in that_day["items"]}
    assert before["pagination"]["total"] == 0


def test_search_finds_tickets_by_a_word_of_their_title(as_role):
    ana = as_role("ana")
    word = uuid.uuid4().hex[:10]
    wanted = _open_ticket(ana, f"Impresora {word} atascada")
    _open_ticket(ana, "Otra cosa distinta")

    found = ana.get(f"{TICKETS}/search", params={"q": word}).json()["data"]["items"]

    assert [t["id"] for t in found] == [wanted["id"]]
