"""Attachments through the gateway, the shared storage directory and the tickets service over RabbitMQ."""

from __future__ import annotations

import hashlib
import uuid

import pytest

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n" + b"informe " * 2000 + b"\n%%EOF\n"


def _other_customer(anon):
    email = f"otro-{uuid.uuid4().hex[:8]}@example.com"
    response = anon.post(
        "/api/v1/auth/register", json={"email": email, "name": "Otro Cliente", "password": "otro-pass1"}
    )
    assert response.status_code == 201, response.text
    return type(anon)(anon.base, response.json()["data"]["access_token"])


def test_customer_uploads_agent_downloads_and_another_customer_gets_404(as_role, anon):
    ana, carlos = as_role("ana"), as_role("carlos")
    created = ana.post("/api/v1/tickets", json={"title": "Factura ilegible", "description": "Adjunto el PDF."})
    assert created.status_code == 201, created.text
    ticket_id = created.json()["data"]["id"]

    uploaded = ana.post(f"/api/v1/tickets/{ticket_id}/attachments", files={"file": ("factura ñ.pdf", PDF)})
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()["data"]
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest() and attachment["size"] == len(PDF)

    download = carlos.get(f"/api/v1/attachments/{attachment['id']}/download")
    assert download.status_code == 200, download.text
    assert download.content == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].endswith("filename*=UTF-8''factura%20%C3%B1.pdf")

    listed = carlos.get(f"/api/v1/tickets/{ticket_id}/attachments")
    assert [a["id"] for a in listed.json()["data"]["items"]] == [attachment["id"]]

    stranger = _other_customer(anon)
    assert stranger.get(f"/api/v1/attachments/{attachment['id']}/download").status_code == 404
    assert stranger.get(f"/api/v1/tickets/{ticket_id}/attachments").status_code == 404


def test_a_disguised_file_is_refused_through_the_stack(as_role):
    ana = as_role("ana")
    ticket_id = ana.post("/api/v1/tickets", json={"title": "Captura", "description": "Ver adjunto."}).json()["data"][
        "id"
    ]
    refused = ana.post(
        f"/api/v1/tickets/{ticket_id}/attachments",
        files={"file": ("captura.png", b"<html><script>alert(1)</script></html>")},
    )
    assert refused.status_code == 422, refused.text
    assert ana.get(f"/api/v1/tickets/{ticket_id}/attachments").json()["data"]["items"] == []
