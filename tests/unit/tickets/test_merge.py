"""Merging a duplicate ticket into a target on a real database: the thread moves, the duplicate closes,
its attachments move with it, both histories and the search index follow, and ``ticket.merged`` goes out in the same transaction."""

import io
import secrets

import pytest

from helpdesk_contracts.errors import Conflict
from helpdesk_contracts.events import validate_envelope
from services.tickets import handlers
from services.tickets.adapters import search
from services.tickets.adapters.storage import LocalFileStorage
from services.tickets.domain.errors import NotFound, PermissionDenied, TicketNotFound, ValidationFailed
from tests.unit.tickets.factories import DEPT_B


@pytest.fixture
def pair(create_ticket, run, customer, agent, clock):
    """A target and a duplicate of it, the duplicate with a customer reply and an agent's internal note."""
    target = create_ticket(title="VPN down")
    duplicate = create_ticket(title="Cannot reach VPN")
    clock.advance(minutes=5)
    run(handlers.add_comment, duplicate["id"], {"body": "Still broken, zanzibar"}, customer)
    clock.advance(minutes=5)
    run(handlers.add_comment, duplicate["id"], {"body": "Same as the other one", "internal": True}, agent)
    return duplicate, target


def test_merge_moves_the_thread_keeping_authors_and_times(run, pair, agent, customer):
    duplicate, target = pair
    before = run(handlers.list_comments, duplicate["id"], agent)

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    moved = [c for c in run(handlers.list_comments, target["id"], agent) if c["author_role"] != "system"]
    assert [(c["id"], c["author_id"], c["created_at"], c["body"]) for c in moved] == [
        (c["id"], c["author_id"], c["created_at"], c["body"]) for c in before
    ]
    assert {c["author_id"] for c in moved} == {customer["id"], agent["id"]}


def test_merge_adds_a_system_note_on_both_threads(run, pair, agent):
    duplicate, target = pair

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    left = run(handlers.list_comments, duplicate["id"], agent)
    assert [(c["author_role"], c["body"]) for c in left] == [
        ("system", f"Merged into {target['number']}; the conversation continues there.")
    ]
    notes = [c["body"] for c in run(handlers.list_comments, target["id"], agent) if c["author_role"] == "system"]
    assert notes == [f"{duplicate['number']} was merged into this ticket (2 comments moved here)."]


def test_merge_closes_the_duplicate_with_a_resolution_and_metadata(run, pair, agent):
    duplicate, target = pair

    answer = run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    closed = run(handlers.get_ticket, duplicate["id"], agent)
    assert closed["status"] == "closed"
    assert closed["resolution"] == f"Merged into {target['number']}."
    assert closed["metadata"]["merged_into"] == target["id"]
    assert answer["ticket"] == closed
    assert answer["target"]["metadata"]["merged_from"] == [duplicate["id"]]
    assert answer["target"]["status"] == "new"


def test_merge_records_it_in_both_histories(run, pair, agent, customer):
    duplicate, target = pair

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    dup_lines = {(h["field"], str(h["after"])) for h in run(handlers.get_history, duplicate["id"], agent)
                 if h["action"] == "merged"}
    assert ("status", "closed") in dup_lines
    assert ("merged_into", target["number"]) in dup_lines
    target_lines = [h for h in run(handlers.get_history, target["id"], customer) if h["action"] == "merged"]
    assert [(h["field"], h["after"]) for h in target_lines] == [("merged_from", duplicate["number"])]


def test_merge_emits_ticket_merged_and_the_status_change(run, pair, agent, outbox):
    duplicate, target = pair

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    merged = outbox("ticket.merged")
    assert len(merged) == 1
    validate_envelope(merged[0])
    assert merged[0]["data"]["ticket"]["id"] == duplicate["id"]
    assert merged[0]["data"]["target"]["id"] == target["id"]
    assert merged[0]["data"]["ticket"]["status"] == "closed"
    status = outbox("ticket.status_changed")[-1]
    validate_envelope(status)
    assert (status["data"]["ticket"]["id"], status["data"]["to"]) == (duplicate["id"], "closed")


def test_merge_refreshes_both_search_rows(run, pair, agent, engine):
    duplicate, target = pair

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    with engine.connect() as conn:
        found = search.embedded_index(conn).search("zanzibar", visibility=_actor(agent), filters={}, page=1, limit=10)
    assert found.ids == [target["id"]]


def _actor(raw):
    return handlers.actor_from(raw)


def test_merge_into_itself_is_a_conflict(run, pair, agent):
    duplicate, _ = pair

    with pytest.raises(Conflict, match="itself"):
        run(handlers.merge_tickets, duplicate["id"], duplicate["id"], agent)


def test_merge_into_a_closed_ticket_is_a_conflict_and_changes_nothing(run, pair, agent, outbox):
    duplicate, target = pair
    run(handlers.close_ticket, target["id"], agent)

    with pytest.raises(Conflict, match="closed; reopen it first"):
        run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    assert run(handlers.get_ticket, duplicate["id"], agent)["status"] == "new"
    assert len(run(handlers.list_comments, duplicate["id"], agent)) == 2
    assert outbox("ticket.merged") == []


def test_merge_into_a_merged_ticket_is_a_conflict_naming_it(run, pair, agent, create_ticket):
    duplicate, target = pair
    third = create_ticket(title="VPN again")
    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    with pytest.raises(Conflict, match=f"into {duplicate['number']}: it was itself merged"):
        run(handlers.merge_tickets, third["id"], duplicate["id"], agent)


def test_merge_a_ticket_twice_is_a_conflict(run, pair, agent, create_ticket):
    duplicate, target = pair
    other = create_ticket(title="Another")
    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    with pytest.raises(Conflict, match="already merged"):
        run(handlers.merge_tickets, duplicate["id"], other["id"], agent)


def test_merge_by_a_customer_is_refused(run, pair, customer):
    duplicate, target = pair

    with pytest.raises(PermissionDenied):
        run(handlers.merge_tickets, duplicate["id"], target["id"], customer)


def test_merge_into_a_ticket_the_agent_cannot_see_is_not_found(run, pair, agent, admin):
    duplicate, target = pair
    run(handlers.assign_ticket, target["id"], admin, department_id=DEPT_B, set_department=True, set_assignee=False)

    with pytest.raises(TicketNotFound):
        run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    assert run(handlers.get_ticket, duplicate["id"], agent)["status"] == "new"


# attachments follow the thread ---------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64


@pytest.fixture
def storage(tmp_path):
    return LocalFileStorage(tmp_path / "attachments")


@pytest.fixture
def attach(run, storage):
    def make(ticket_id, by, filename="screen.png", **meta):
        key = secrets.token_urlsafe(24)
        storage.put(key, io.BytesIO(PNG))
        return run(handlers.add_attachment, ticket_id, {"storage_key": key, "filename": filename, **meta}, by,
                   storage=storage)

    return make


@pytest.fixture
def pair_with_files(pair, run, attach, customer, agent):
    """The pair, the duplicate holding a ticket-level file, a file on the customer's reply and an internal one."""
    duplicate, target = pair
    reply = next(c for c in run(handlers.list_comments, duplicate["id"], agent) if not c["internal"])
    files = {
        "ticket": attach(duplicate["id"], customer, filename="invoice.png"),
        "reply": attach(duplicate["id"], customer, filename="error.png", comment_id=reply["id"]),
        "internal": attach(duplicate["id"], agent, filename="logs.png", internal=True),
    }
    return duplicate, target, files


def test_merge_moves_ticket_and_comment_attachments_to_the_target(run, pair_with_files, agent, storage):
    duplicate, target, files = pair_with_files

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    on_target = run(handlers.list_attachments, target["id"], agent)
    assert {a["id"] for a in on_target} == {f["id"] for f in files.values()}
    assert all(a["ticket_id"] == target["id"] for a in on_target)
    by_id = {a["id"]: a for a in on_target}
    assert by_id[files["reply"]["id"]]["comment_id"] == files["reply"]["comment_id"]  # still on its (moved) comment
    assert run(handlers.list_attachments, duplicate["id"], agent) == []
    found = run(handlers.get_attachment, files["ticket"]["id"], agent)
    with storage.open(found["storage_key"]) as stream:
        assert stream.read() == PNG  # same bytes, nothing copied or lost


def test_merge_keeps_moved_internal_attachments_hidden_from_the_requester(run, pair_with_files, agent, customer):
    duplicate, target, files = pair_with_files

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    seen = {a["id"] for a in run(handlers.list_attachments, target["id"], customer)}
    assert seen == {files["ticket"]["id"], files["reply"]["id"]}
    with pytest.raises(NotFound):
        run(handlers.get_attachment, files["internal"]["id"], customer)


def test_merge_records_moved_attachments_in_both_histories(run, pair_with_files, agent, customer):
    duplicate, target, _ = pair_with_files

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    def moved(ticket_id, who):
        return sorted((h["before"], h["after"]) for h in run(handlers.get_history, ticket_id, who)
                      if h["action"] == "attachment_moved")

    assert moved(duplicate["id"], agent) == [("error.png", None), ("invoice.png", None), ("logs.png", None)]
    assert moved(target["id"], agent) == [(None, "error.png"), (None, "invoice.png"), (None, "logs.png")]
    assert moved(target["id"], customer) == [(None, "error.png"), (None, "invoice.png")]  # not the internal one


def test_merge_without_attachments_records_no_attachment_lines(run, pair, agent):
    duplicate, target = pair

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    assert not [h for h in run(handlers.get_history, target["id"], agent) if h["action"] == "attachment_moved"]


# different requesters ---------------------------------------------------------------------------

@pytest.fixture
def strangers_pair(pair, create_ticket, other_customer):
    """The duplicate of ``pair`` (``customer``'s) and a target that ``other_customer`` requested."""
    duplicate, _ = pair
    return duplicate, create_ticket(by=other_customer, title="VPN down for me too")


def test_merge_of_different_requesters_is_refused_unless_confirmed_and_changes_nothing(run, strangers_pair, agent,
                                                                                      outbox):
    duplicate, target = strangers_pair

    with pytest.raises(Conflict) as raised:
        run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    assert "different requesters" in raised.value.message
    assert "confirm_different_requesters: true" in raised.value.message
    assert list(raised.value.errors) == ["confirm_different_requesters"]
    assert run(handlers.get_ticket, duplicate["id"], agent)["status"] == "new"
    assert len(run(handlers.list_comments, target["id"], agent)) == 0
    assert outbox("ticket.merged") == []


def test_a_confirmed_merge_of_different_requesters_is_recorded_in_both_histories(run, strangers_pair, agent, customer,
                                                                                other_customer):
    duplicate, target = strangers_pair

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent, confirm_different_requesters=True)

    for ticket_id in (duplicate["id"], target["id"]):
        [line] = [h for h in run(handlers.get_history, ticket_id, agent) if h["action"] == "merge_confirmed"]
        assert (line["actor_id"], line["field"], line["before"], line["after"]) == (
            agent["id"], "requester_id", customer["id"], other_customer["id"])
    assert "merge_confirmed" not in {h["action"] for h in run(handlers.get_history, target["id"], other_customer)}
    assert run(handlers.get_ticket, duplicate["id"], agent)["status"] == "closed"


def test_a_merge_of_one_requesters_tickets_needs_no_confirmation_and_records_none(run, pair, agent):
    duplicate, target = pair

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    assert "merge_confirmed" not in {h["action"] for h in run(handlers.get_history, target["id"], agent)}


def test_a_confirmation_that_is_not_a_boolean_is_invalid(run, strangers_pair, agent):
    duplicate, target = strangers_pair

    with pytest.raises(ValidationFailed):
        run(handlers.merge_tickets, duplicate["id"], target["id"], agent, confirm_different_requesters="yes")
