"""Attachments through the gateway over the fake tickets service: uploads streamed into the shared storage
(with their own body limit), refused ones removed, downloads served only after the service allows them."""

from __future__ import annotations

import io
import uuid

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def storage(tmp_path):
    return tmp_path / "attachments"


@pytest.fixture
def tickets_service(users_service, storage, fakes):
    return fakes.FakeTicketsServiceWithAttachments(users=users_service, storage_root=storage)


@pytest.fixture
def app(make_app, storage):
    return make_app(ATTACHMENTS_DIR=str(storage), ATTACHMENT_MAX_BYTES=2048)


@pytest.fixture
def ticket(tickets_service, accounts):
    return tickets_service.add_ticket(accounts["customer"]["id"])


def stored_files(storage):
    return sorted(p for p in storage.rglob("*") if p.is_file()) if storage.exists() else []


def upload(client, headers, ticket_id, data=PNG, filename="screen.png", path="attachments", **form):
    return client.post(
        f"/api/v1/tickets/{ticket_id}/{path}",
        headers=headers,
        data={"file": (io.BytesIO(data), filename), **form},
        content_type="multipart/form-data",
    )


def test_upload_answers_201_with_metadata_and_keeps_the_bytes(client, auth_headers, ticket, storage):
    response = upload(client, auth_headers("customer"), ticket["id"])
    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    assert (data["filename"], data["content_type"], data["size"]) == ("screen.png", "image/png", len(PNG))
    assert response.headers["Location"].endswith(f"/api/v1/attachments/{data['id']}/download")
    [blob] = stored_files(storage)
    assert blob.read_bytes() == PNG and blob.parent.name == blob.name[:2]


def test_upload_singular_alias_works(client, auth_headers, ticket):
    response = upload(client, auth_headers("customer"), ticket["id"], path="attachment")
    assert response.status_code == 201


def test_upload_above_the_json_body_limit_but_under_the_cap_is_accepted(
    make_app, storage, auth_headers, tickets_service, accounts
):
    app = make_app(ATTACHMENTS_DIR=str(storage), MAX_CONTENT_LENGTH=1024, ATTACHMENT_MAX_BYTES=4096)
    ticket = tickets_service.add_ticket(accounts["customer"]["id"])
    token = app.extensions["gateway.tokens"].issue_access_token(accounts["customer"])
    response = upload(app.test_client(), {"Authorization": f"Bearer {token}"}, ticket["id"], data=PNG + b"\x00" * 2000)
    assert response.status_code == 201, response.get_json()


def test_upload_over_the_cap_answers_413_and_keeps_nothing(client, auth_headers, ticket, storage, tickets_service):
    response = upload(client, auth_headers("customer"), ticket["id"], data=PNG + b"\x00" * 3000)
    assert response.status_code == 413
    body = response.get_json()
    assert body["success"] is False and "2048" in body["message"]
    assert stored_files(storage) == [] and tickets_service.attachments == {}


def test_upload_with_a_huge_content_length_answers_413_before_reading(client, auth_headers, ticket, fake_rpc):
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        headers=auth_headers("customer"),
        data=b"x" * 100_000,
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413
    assert response.get_json()["success"] is False
    assert fake_rpc.calls_to("tickets", "add_attachment") == []


def test_json_routes_keep_the_one_mebibyte_limit(client, auth_headers, ticket):
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        headers=auth_headers("customer"),
        json={"body": "x" * (1024 * 1024 + 10)},
    )
    assert response.status_code == 413


def test_upload_of_a_refused_type_answers_422_and_keeps_nothing(client, auth_headers, ticket, storage, tickets_service):
    response = upload(client, auth_headers("customer"), ticket["id"], data=b"<html></html>", filename="page.html")
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]
    assert stored_files(storage) == [] and tickets_service.attachments == {}


def test_upload_without_a_file_answers_422(client, auth_headers, ticket, fake_rpc):
    response = client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        headers=auth_headers("customer"),
        data={"comment_id": str(uuid.uuid4())},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"file": ["Missing."]}
    assert fake_rpc.calls_to("tickets", "add_attachment") == []


def test_upload_to_a_ticket_one_may_not_see_answers_404_and_keeps_nothing(
    client, auth_headers, tickets_service, users_service, storage
):
    stranger = users_service.add_user(email="other@example.com", password="x", role="customer")
    theirs = tickets_service.add_ticket(stranger["id"])
    response = upload(client, auth_headers("customer"), theirs["id"])
    assert response.status_code == 404
    assert stored_files(storage) == []


def test_download_serves_the_bytes_with_safe_headers(client, auth_headers, ticket):
    created = upload(client, auth_headers("customer"), ticket["id"], filename="café screen.png").get_json()["data"]
    response = client.get(f"/api/v1/attachments/{created['id']}/download", headers=auth_headers("agent"))
    assert response.status_code == 200
    assert response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Length"] == str(len(PNG))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"caf_ screen.png\"; filename*=UTF-8''caf%C3%A9%20screen.png"
    )


def test_download_of_text_is_served_as_plain_text(client, auth_headers, ticket):
    created = upload(
        client, auth_headers("customer"), ticket["id"], data=b"<script>1</script>", filename="log.txt"
    ).get_json()["data"]
    response = client.get(f"/api/v1/attachments/{created['id']}/download", headers=auth_headers("customer"))
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_download_by_another_customer_answers_404(client, auth_headers, ticket, users_service):
    created = upload(client, auth_headers("customer"), ticket["id"]).get_json()["data"]
    stranger = users_service.add_user(email="other@example.com", password="x", role="customer")
    response = client.get(f"/api/v1/attachments/{created['id']}/download", headers=auth_headers(stranger))
    assert response.status_code == 404
    assert response.get_json()["success"] is False


def test_internal_attachments_are_hidden_from_customers(client, auth_headers, ticket):
    created = upload(client, auth_headers("agent"), ticket["id"], internal="true").get_json()["data"]
    assert created["internal"] is True
    listed = client.get(f"/api/v1/tickets/{ticket['id']}/attachments", headers=auth_headers("customer"))
    assert listed.get_json()["data"]["items"] == []
    staff = client.get(f"/api/v1/tickets/{ticket['id']}/attachments", headers=auth_headers("agent"))
    assert [a["id"] for a in staff.get_json()["data"]["items"]] == [created["id"]]
    download = client.get(f"/api/v1/attachments/{created['id']}/download", headers=auth_headers("customer"))
    assert download.status_code == 404


def test_delete_by_uploader_removes_row_and_bytes(client, auth_headers, ticket, storage):
    created = upload(client, auth_headers("customer"), ticket["id"]).get_json()["data"]
    response = client.delete(f"/api/v1/attachments/{created['id']}", headers=auth_headers("customer"))
    assert response.status_code == 200
    assert stored_files(storage) == []
    assert (
        client.get(f"/api/v1/attachments/{created['id']}/download", headers=auth_headers("customer")).status_code == 404
    )


def test_openapi_documents_the_multipart_upload(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    body = spec["paths"]["/api/v1/tickets/{ticket_id}/attachments"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": "The file (see the limits above).",
    }
    assert "/api/v1/attachments/{attachment_id}/download" in spec["paths"]


@pytest.mark.parametrize(("field", "value"), [("internal", "maybe"), ("comment_id", "not-a-uuid"), ("colour", "red")])
def test_upload_form_fields_outside_the_document_answer_422_and_keep_nothing(
    client, auth_headers, ticket, storage, field, value
):
    response = upload(client, auth_headers("agent"), ticket["id"], **{field: value})

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert not any(path.is_file() for path in storage.rglob("*"))
