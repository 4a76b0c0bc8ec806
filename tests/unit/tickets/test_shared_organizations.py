"""Organization-shared tickets on a real database: the local projection fed by ``organization.*`` events
(once per event, never over a newer fact) and what a colleague of the requester may then see and do."""

import dataclasses
import io
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_contracts.envelope import Envelope
from services.tickets import handlers
from services.tickets.adapters.organizations import SqlAlchemyOrganizationRepository
from services.tickets.adapters.repository import SqlAlchemyTicketRepository
from services.tickets.adapters.storage import LocalFileStorage
from services.tickets.domain.errors import NotFound, PermissionDenied, TicketNotFound, ValidationFailed
from services.tickets.handlers import actor_from as actor_of
from tests.unit.tickets.factories import ORG, actor, new_id

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def organization_event(kind="updated", *, shared=True, organization_id=ORG, updated_at=T0, occurred_at=None):
    data = {"organization": {"id": organization_id, "name": "Acme S.A.", "domain": "acme.example",
                             "shared_tickets": shared, "created_at": T0.isoformat(),
                             "updated_at": updated_at.isoformat()}}
    if kind == "updated":
        data["changes"] = {"shared_tickets": {"before": not shared, "after": shared}}
    return Envelope.new(f"organization.{kind}", data, producer="users", occurred_at=occurred_at or updated_at)


@pytest.fixture
def project(run):
    def apply(envelope):
        return run(handlers.project_organization, envelope)

    return apply


@pytest.fixture
def shared(project):
    """Acme (ORG, the organization of ``customer`` and ``other_customer``) shares its tickets."""
    project(organization_event("created", shared=True))


def shares(new_uow, organization_id=ORG):
    with new_uow() as uow:
        return SqlAlchemyOrganizationRepository(uow.session).shares_tickets(organization_id)


# the projection -----------------------------------------------------------------------------------------


def test_an_organization_event_is_applied(project, new_uow):
    event = organization_event("created", shared=True)

    assert project(event) is True
    # a redelivery never reaches the handler: its reliable entrypoint claims the event in the inbox first
    # (tests/integration/backbone/test_reliable_delivery.py, test_inbox_claim.py)

    assert shares(new_uow) is True


def test_an_older_event_arriving_late_does_not_undo_a_newer_one(project, new_uow):
    project(organization_event(shared=True, updated_at=T0 + timedelta(minutes=5)))

    assert project(organization_event(shared=False, updated_at=T0)) is False

    assert shares(new_uow) is True


def test_a_deleted_organization_stops_sharing_even_before_a_late_update(project, new_uow):
    project(organization_event("created", shared=True))
    project(organization_event("deleted", shared=True, occurred_at=T0 + timedelta(hours=1)))
    project(organization_event(shared=True, updated_at=T0 + timedelta(minutes=1)))

    assert shares(new_uow) is False


def test_an_unknown_organization_does_not_share(new_uow):
    assert shares(new_uow, new_id()) is False


def test_an_event_without_a_readable_time_is_refused_and_changes_nothing(project, new_uow):
    event = organization_event("created", shared=True)
    event.data["organization"]["updated_at"] = "yesterday"

    with pytest.raises(ValidationFailed, match="Unreadable organization.created"):
        project(event)

    assert shares(new_uow) is False


# what a colleague sees ----------------------------------------------------------------------------------


@pytest.fixture
def ticket(create_ticket, run, customer, agent):
    """A ticket of ``customer`` (Acme) with a public reply and an internal note."""
    made = create_ticket(title="Printer jams on floor 2")
    run(handlers.add_comment, made["id"], {"body": "Which printer?"}, agent)
    run(handlers.add_comment, made["id"], {"body": "Probably the old HP", "internal": True}, agent)
    return made


def test_without_sharing_a_colleague_sees_nothing_of_the_ticket(run, ticket, other_customer):
    with pytest.raises(TicketNotFound):
        run(handlers.get_ticket, ticket["id"], other_customer)
    assert run(handlers.list_tickets, other_customer)["total"] == 0
    assert run(handlers.ticket_stats, other_customer)["total"] == 0


def test_the_list_takes_sharing_from_the_projection_never_from_the_actor(ticket, other_customer, new_uow):
    claims = dataclasses.replace(actor_of(other_customer), organization_shared=True)

    with new_uow() as uow:
        _, total = SqlAlchemyTicketRepository(uow.session).list(
            claims, {}, page=1, limit=20, sort_by="created_at", sort_order="desc")

    assert total == 0


def test_a_colleague_sees_the_organizations_tickets_once_it_shares(run, shared, ticket, other_customer):
    assert run(handlers.get_ticket, ticket["id"], other_customer)["id"] == ticket["id"]
    assert [t["id"] for t in run(handlers.list_tickets, other_customer)["items"]] == [ticket["id"]]
    assert run(handlers.search_tickets, other_customer, "printer")["total"] == 1
    assert run(handlers.ticket_stats, other_customer)["total"] == 1
    assert run(handlers.list_tags, other_customer) == []


def test_a_colleague_never_sees_internal_notes_or_the_staff_history(run, shared, ticket, other_customer):
    thread = run(handlers.list_comments, ticket["id"], other_customer)
    assert [c["body"] for c in thread] == ["Which printer?"]
    assert {h["action"] for h in run(handlers.get_history, ticket["id"], other_customer)} == {"created", "replied"}
    assert run(handlers.search_tickets, other_customer, "HP")["total"] == 0  # internal note text is not searched


def test_a_customer_of_another_organization_sees_nothing(run, shared, ticket):
    stranger = actor("customer", organization_id=new_id())
    no_organization = actor("customer")
    for who in (stranger, no_organization):
        with pytest.raises(TicketNotFound):
            run(handlers.get_ticket, ticket["id"], who)
        assert run(handlers.list_tickets, who)["total"] == 0


def test_unsharing_hides_the_tickets_again(run, project, shared, ticket, other_customer):
    project(organization_event(shared=False, updated_at=T0 + timedelta(minutes=1)))

    with pytest.raises(TicketNotFound):
        run(handlers.get_ticket, ticket["id"], other_customer)
    assert run(handlers.search_tickets, other_customer, "printer")["total"] == 0


def test_a_colleague_may_reply_publicly_but_not_write_internal_notes(run, shared, ticket, other_customer, agent):
    comment = run(handlers.add_comment, ticket["id"], {"body": "It is the HP on floor 2"}, other_customer)

    assert comment["author_id"] == other_customer["id"]
    assert run(handlers.get_ticket, ticket["id"], agent)["unread"] == 1
    with pytest.raises(PermissionDenied):
        run(handlers.add_comment, ticket["id"], {"body": "psst", "internal": True}, other_customer)


def test_a_colleague_may_not_edit_close_or_reopen(run, shared, ticket, other_customer):
    with pytest.raises(PermissionDenied):
        run(handlers.update_ticket, ticket["id"], {"title": "Mine now"}, other_customer)
    with pytest.raises(PermissionDenied):
        run(handlers.close_ticket, ticket["id"], other_customer)
    assert run(handlers.get_ticket, ticket["id"], other_customer)["status"] == "new"


def test_the_requester_still_edits_their_new_ticket(run, shared, ticket, customer):
    assert run(handlers.update_ticket, ticket["id"], {"title": "Printer jams"}, customer)["title"] == "Printer jams"


def test_a_colleague_keeps_no_read_position_on_the_ticket(run, shared, ticket, other_customer, customer):
    assert run(handlers.get_ticket, ticket["id"], other_customer)["unread"] is None

    run(handlers.list_comments, ticket["id"], other_customer)
    run(handlers.mark_read, ticket["id"], other_customer)

    assert run(handlers.get_ticket, ticket["id"], customer)["unread"] == 1  # still the requester's to read
    assert run(handlers.ticket_stats, other_customer)["unread_messages"] == 0


def test_a_colleague_reads_public_attachments_only(run, shared, ticket, other_customer, agent, tmp_path):
    storage = LocalFileStorage(tmp_path / "attachments")

    def attach(by, **meta):
        key = secrets.token_urlsafe(24)
        storage.put(key, io.BytesIO(b"%PDF-1.4 invoice"))
        return run(handlers.add_attachment, ticket["id"], {"storage_key": key, "filename": "a.pdf", **meta}, by,
                   storage=storage)

    public, internal = attach(agent), attach(agent, internal=True)

    assert [a["id"] for a in run(handlers.list_attachments, ticket["id"], other_customer)] == [public["id"]]
    assert run(handlers.get_attachment, public["id"], other_customer)["id"] == public["id"]
    with pytest.raises(NotFound):
        run(handlers.get_attachment, internal["id"], other_customer)
    with pytest.raises(PermissionDenied):  # only its uploader or an agent removes a file
        run(handlers.delete_attachment, public["id"], other_customer, storage=storage)


# reconciliation with the users service's listing (the events' safety net) -------------------------------

def listed(organization_id=ORG, *, shared=True, updated_at=T0):
    return {"id": organization_id, "name": "Acme S.A.", "shared_tickets": shared, "updated_at": updated_at.isoformat()}


@pytest.fixture
def sync(run):
    def apply(listing, *, listed_since=T0 + timedelta(days=1), complete=True):
        return run(handlers.sync_organizations, listing, listed_since=listed_since, complete=complete)

    return apply


def test_a_listing_fills_in_an_organization_whose_events_were_missed(sync, new_uow):
    assert shares(new_uow) is False  # never heard of it

    assert sync([listed(shared=True)]) == {"listed": 1, "updated": 1, "unshared": 0}

    assert shares(new_uow) is True
    assert sync([listed(shared=True)])["updated"] == 0  # nothing new the second time


def test_a_listing_never_undoes_a_newer_event(project, sync, new_uow):
    project(organization_event("updated", shared=False, updated_at=T0 + timedelta(hours=2)))

    sync([listed(shared=True, updated_at=T0)])  # the listing was read before that change

    assert shares(new_uow) is False


def test_a_sharing_organization_the_users_service_no_longer_lists_stops_sharing(shared, sync, new_uow):
    other = new_id()

    result = sync([listed(other, shared=True)], listed_since=T0 + timedelta(days=1))

    assert result["unshared"] == 1
    assert shares(new_uow) is False  # ORG was deleted while our queues missed it
    assert shares(new_uow, other) is True


def test_an_incomplete_listing_unshares_nothing(shared, sync, new_uow):
    sync([], complete=False)  # organizations came or went while it was paged: absence proves nothing

    assert shares(new_uow) is True


def test_a_fact_newer_than_the_listing_is_not_taken_for_a_deletion(project, sync, new_uow):
    project(organization_event("created", shared=True, updated_at=T0 + timedelta(days=2)))

    sync([], listed_since=T0 + timedelta(days=1))  # created after the listing began: not in it, yet alive

    assert shares(new_uow) is True


def test_an_unreadable_listing_entry_is_skipped(sync, new_uow):
    result = sync([{"id": ORG, "shared_tickets": True}, listed(new_id(), shared=True)])

    assert (result["listed"], result["updated"]) == (1, 1)
    assert shares(new_uow) is False
