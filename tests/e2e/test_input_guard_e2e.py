"""The input guard on the real stack (granian, the services, RabbitMQ, the database of the run): what the outside
tester sent answers 400/422 in the envelope, never a 500, and nothing of it is stored."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

TICKETS = "/api/v1/tickets"
DEEP = "[" * 1000 + "]" * 1000
JSON = {"Content-Type": "application/json"}


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["message"]
    return body


def test_deep_json_is_400_signed_in_or_not(anon, as_role):
    _refused(anon.post("/api/v1/auth/login", data='{"email": ' + DEEP + "}", headers=JSON), 400)
    _refused(as_role("ana").post(TICKETS, data=DEEP, headers=JSON), 400)


def test_surrogate_and_nul_in_a_ticket_are_422_and_nothing_is_stored(as_role):
    ana = as_role("ana")
    before = ana.get(f"{TICKETS}?limit=1").json()["data"]["pagination"]["total"]

    surrogate = _refused(ana.post(TICKETS, data='{"title": "VPN \\ud800", "description": "x"}', headers=JSON), 422)
    nul = _refused(ana.post(TICKETS, json={"title": "VPN", "description": "caída\x00"}), 422)

    assert list(surrogate["errors"]) == ["title"] and list(nul["errors"]) == ["description"]
    assert ana.get(f"{TICKETS}?limit=1").json()["data"]["pagination"]["total"] == before


def test_page_and_dates_out_of_range_are_422(as_role):
    admin = as_role("admin")

    assert "page" in _refused(admin.get(f"{TICKETS}?page={10**20}"), 422)["errors"]
    assert "created_from" in _refused(admin.get(f"{TICKETS}?created_from=0001-01-01T00:00:00%2B01:00"), 422)["errors"]


def test_stats_count_what_q_finds(as_role):
    ana = as_role("ana")
    word = "zeppelinguard"
    for title in (f"La {word} no arranca", "La impresora tampoco"):
        response = ana.post(TICKETS, json={"title": title, "description": "Desde hoy."})
        assert response.status_code == 201, response.text

    stats = ana.get(f"{TICKETS}/stats", params={"q": word})

    assert stats.status_code == 200, stats.text
    assert stats.json()["data"]["total"] == 1
    assert ana.get(f"{TICKETS}/stats").json()["data"]["total"] >= 2
