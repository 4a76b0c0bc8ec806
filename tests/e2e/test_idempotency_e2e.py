"""Idempotency-Key through the gateway, the services and RabbitMQ: a client's retry of a create gets the
first answer back instead of a second resource; the key reused for another request is refused."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e

TICKETS = "/api/v1/tickets"


def _tickets_titled(api, title: str) -> list[dict]:
    response = api.get(TICKETS, params={"q": title, "limit": 100})
    assert response.status_code == 200, response.text
    return [t for t in response.json()["data"]["items"] if t["title"] == title]


def test_same_key_twice_gives_one_ticket_and_the_same_answer(as_role):
    ana = as_role("ana")
    title = f"Impresora {uuid.uuid4().hex[:8]}"
    body = {"title": title, "description": "No imprime desde ayer.", "priority": "high"}
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = ana.post(TICKETS, json=body, headers=key)
    again = ana.post(TICKETS, json=body, headers=key)

    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert [t["id"] for t in _tickets_titled(ana, title)] == [first.json()["data"]["id"]]


def test_same_key_with_another_body_is_refused_with_422(as_role):
    ana = as_role("ana")
    title = f"Monitor {uuid.uuid4().hex[:8]}"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = ana.post(TICKETS, json={"title": title, "description": "Parpadea."}, headers=key)

    other = ana.post(TICKETS, json={"title": title, "description": "Ya no parpadea, se apaga."}, headers=key)

    assert first.status_code == 201, first.text
    assert other.status_code == 422, other.text
    assert other.json()["success"] is False
    assert "different request" in other.json()["message"]
    assert "Idempotency-Key" in other.json()["errors"]
    assert len(_tickets_titled(ana, title)) == 1


def test_same_key_from_another_user_is_their_own(as_role):
    ana, admin = as_role("ana"), as_role("admin")
    title = f"Teclado {uuid.uuid4().hex[:8]}"
    body = {"title": title, "description": "Faltan teclas."}
    key = {"Idempotency-Key": str(uuid.uuid4())}

    mine = ana.post(TICKETS, json=body, headers=key)
    theirs = admin.post(TICKETS, json=body, headers=key)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["data"]["id"] != theirs.json()["data"]["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_writes_without_a_key_act_each_time(as_role):
    admin = as_role("admin")
    name = f"Redes {uuid.uuid4().hex[:8]}"

    first = admin.post("/api/v1/categories", json={"name": name})
    again = admin.post("/api/v1/categories", json={"name": name})

    assert first.status_code == 201, first.text
    assert again.status_code == 409, again.text  # a second attempt, not a replay of the first
