"""The attachment handlers on the real database and a temporary storage directory: who may list, read and
remove attachments, and that a refused upload leaves neither a row, a history line nor bytes behind."""

import io
import secrets

import pytest
from sqlalchemy import func, select

from services.tickets import handlers
from services.tickets.adapters.attachments import attachments
from services.tickets.adapters.storage import LocalFileStorage
from services.tickets.domain.errors import NotFound, PermissionDenied, TicketNotFound, ValidationFailed

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64


@pytest.fixture
def storage(tmp_path):
    return LocalFileStorage(tmp_path / "attachments")


@pytest.fixture
def stored(storage):
    """Put bytes into the storage as the gateway does; return the key."""

    def put(data: bytes = PNG) -> str:
        key = secrets.token_urlsafe(24)
        storage.put(key, io.BytesIO(data))
        return key

    return put


@pytest.fixture
def attach(run, storage, stored, customer):
    def make(ticket_id, by=None, data=PNG, filename="screen.png", **meta):
        key = stored(data)
        return run(
            handlers.add_attachment,
            ticket_id,
            {"storage_key": key, "filename": filename, **meta},
            by or customer,
            storage=storage,
        )

    return make


def rows(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(attachments))


def files(storage) -> list:
    return [p for p in storage.root.rglob("*") if p.is_file()] if storage.root.exists() else []


def test_requester_attaches_a_file_with_its_digest_and_a_public_history_line(run, create_ticket, attach, customer):
    ticket = create_ticket()
    added = attach(ticket["id"], filename="../secret/screen.png")
    assert (added["filename"], added["content_type"], added["size"]) == ("screen.png", "image/png", len(PNG))
    assert added["internal"] is False and added["uploaded_by"] == customer["id"]
    history = run(handlers.get_history, ticket["id"], customer)
    assert [(h["action"], h["after"]) for h in history][-1] == ("attachment_added", "screen.png")


def test_agent_reads_metadata_and_storage_key(run, create_ticket, attach, agent, storage):
    added = attach(create_ticket()["id"])
    found = run(handlers.get_attachment, added["id"], agent)
    with storage.open(found["storage_key"]) as stream:
        assert stream.read() == PNG
    assert found["storage_path"] == f"{found['storage_key'][:2]}/{found['storage_key']}"


def test_another_customer_can_neither_list_nor_read(run, create_ticket, attach, other_customer):
    ticket = create_ticket()
    added = attach(ticket["id"])
    with pytest.raises(TicketNotFound):
        run(handlers.list_attachments, ticket["id"], other_customer)
    with pytest.raises(NotFound):
        run(handlers.get_attachment, added["id"], other_customer)


def test_internal_attachments_are_hidden_from_the_requester(run, create_ticket, attach, agent, customer):
    ticket = create_ticket()
    public = attach(ticket["id"])
    internal = attach(ticket["id"], by=agent, internal=True)
    assert [a["id"] for a in run(handlers.list_attachments, ticket["id"], customer)] == [public["id"]]
    assert {a["id"] for a in run(handlers.list_attachments, ticket["id"], agent)} == {public["id"], internal["id"]}
    with pytest.raises(NotFound):
        run(handlers.get_attachment, internal["id"], customer)
    customer_sees = [(h["action"], h["after"]) for h in run(handlers.get_history, ticket["id"], customer)]
    assert customer_sees == [("created", None), ("attachment_added", "screen.png")]  # not the internal one


def test_an_attachment_on_an_internal_note_is_internal(run, create_ticket, attach, agent, customer):
    ticket = create_ticket()
    note = run(handlers.add_comment, ticket["id"], {"body": "Logs", "internal": True}, agent)
    added = attach(ticket["id"], by=agent, comment_id=note["id"])
    assert added["internal"] is True and added["comment_id"] == note["id"]
    assert run(handlers.list_attachments, ticket["id"], customer) == []


def test_customers_may_not_attach_to_an_internal_note(run, create_ticket, attach, agent, engine, storage):
    ticket = create_ticket()
    note = run(handlers.add_comment, ticket["id"], {"body": "Logs", "internal": True}, agent)
    with pytest.raises(ValidationFailed):
        attach(ticket["id"], comment_id=note["id"])
    assert rows(engine) == 0 and files(storage) == []


def test_customers_may_not_mark_an_attachment_internal(create_ticket, attach, engine, storage):
    with pytest.raises(PermissionDenied):
        attach(create_ticket()["id"], internal=True)
    assert rows(engine) == 0 and files(storage) == []


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("page.html", b"<html></html>"),
        ("fake.png", b"<html><script>alert(1)</script>"),
        ("fake.pdf", PNG),
        ("binary.txt", b"MZ\x00\x00"),
    ],
)
def test_a_refused_type_changes_nothing(run, create_ticket, attach, engine, storage, customer, filename, data):
    ticket = create_ticket()
    with pytest.raises(ValidationFailed) as refused:
        attach(ticket["id"], filename=filename, data=data)
    assert "file" in refused.value.errors
    assert rows(engine) == 0 and files(storage) == []
    assert [h["action"] for h in run(handlers.get_history, ticket["id"], customer)] == ["created"]


def test_a_file_over_the_cap_changes_nothing(run, create_ticket, stored, storage, engine, customer):
    ticket = create_ticket()
    key = stored(PNG + b"\x00" * 1000)
    with pytest.raises(ValidationFailed, match="too large"):
        run(
            handlers.add_attachment,
            ticket["id"],
            {"storage_key": key, "filename": "a.png"},
            customer,
            storage=storage,
            max_bytes=500,
        )
    assert rows(engine) == 0 and files(storage) == []


def test_an_upload_to_a_ticket_one_may_not_see_is_removed(create_ticket, attach, other_customer, engine, storage):
    with pytest.raises(TicketNotFound):
        attach(create_ticket()["id"], by=other_customer)
    assert rows(engine) == 0 and files(storage) == []


def test_a_storage_key_outside_the_layout_is_refused(run, create_ticket, storage, customer):
    with pytest.raises(ValidationFailed):
        run(
            handlers.add_attachment,
            create_ticket()["id"],
            {"storage_key": "../../x", "filename": "a.png"},
            customer,
            storage=storage,
        )


def test_uploader_removes_their_attachment_and_its_bytes(run, create_ticket, attach, customer, storage, engine):
    added = attach(create_ticket()["id"])
    run(handlers.delete_attachment, added["id"], customer, storage=storage)
    assert rows(engine) == 0 and files(storage) == []


def test_a_customer_may_not_remove_an_agents_attachment(run, create_ticket, attach, agent, customer, storage, engine):
    added = attach(create_ticket()["id"], by=agent)
    with pytest.raises(PermissionDenied):
        run(handlers.delete_attachment, added["id"], customer, storage=storage)
    assert rows(engine) == 1 and len(files(storage)) == 1


def test_attachments_emit_no_events(create_ticket, attach, outbox):
    attach(create_ticket()["id"])
    assert [e["type"] for e in outbox()] == ["ticket.created"]
