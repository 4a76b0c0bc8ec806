"""The tickets service next to the real users service: an organization switched to shared tickets in the
users service reaches the tickets service's projection through ``organization.updated``, and colleagues
then see each other's tickets; the unread counts of the public thread over RPC; @mentions resolved by the
users service's ``find_users``."""

import uuid
from datetime import UTC, datetime

import pytest
from nameko.exceptions import RemoteError
from nameko.testing.services import entrypoint_hook, entrypoint_waiter
from sqlalchemy import delete, insert

from helpdesk_common.db import make_engine
from helpdesk_contracts.errors import TicketNotFound
from services.tickets.adapters.organizations import organizations

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-pass"
SUPERVISOR = {"id": str(uuid.uuid4()), "role": "supervisor", "department_id": None, "organization_id": None}


def as_actor(user: dict) -> dict:
    return {k: user[k] for k in ("id", "role", "department_id", "organization_id")}


def member(users_rpc, organization_id):
    email = f"c-{uuid.uuid4().hex[:8]}@example.com"
    return as_actor(users_rpc.create_user({"email": email, "name": "Contact", "password": PASSWORD,
                                           "role": "customer", "organization_id": organization_id}))


def projected(event_type):
    """Match the tickets service's handling of one organization event type."""
    return lambda worker_ctx, result, exc_info: exc_info is None and worker_ctx.args[0].type == event_type


def test_colleagues_see_each_others_tickets_once_the_organization_shares(services, users_rpc, tickets_rpc):
    _, tickets_container = services
    with entrypoint_waiter(tickets_container, "project_organization", callback=projected("organization.created"),
                           timeout=10):
        organization = users_rpc.create_organization({"name": f"Acme {uuid.uuid4().hex[:6]}"})
    ana, luis = member(users_rpc, organization["id"]), member(users_rpc, organization["id"])
    ticket = tickets_rpc.create({"title": "Printer jams", "description": "Floor 2"}, ana)
    with pytest.raises(RemoteError) as hidden:
        tickets_rpc.get(ticket["id"], luis)
    assert hidden.value.exc_type == TicketNotFound.__name__

    with entrypoint_waiter(tickets_container, "project_organization", callback=projected("organization.updated"),
                           timeout=10):
        users_rpc.update_organization(organization["id"], {"shared_tickets": True})

    assert tickets_rpc.get(ticket["id"], luis)["organization_id"] == organization["id"]
    assert [t["id"] for t in tickets_rpc.list(luis)["items"]] == [ticket["id"]]
    stranger = member(users_rpc, users_rpc.create_organization({"name": f"Other {uuid.uuid4().hex[:6]}"})["id"])
    assert tickets_rpc.list(stranger)["total"] == 0


def test_unread_counts_follow_the_thread_over_rpc(users_rpc, tickets_rpc):
    customer = member(users_rpc, None)
    ticket = tickets_rpc.create({"title": "VPN down", "description": "Since 9"}, customer)
    tickets_rpc.add_comment(ticket["id"], {"body": "Restart the client"}, SUPERVISOR)
    tickets_rpc.add_comment(ticket["id"], {"body": "Internal: known issue", "internal": True}, SUPERVISOR)

    assert tickets_rpc.get(ticket["id"], customer)["unread"] == 1
    assert tickets_rpc.stats(customer)["unread_messages"] == 1

    assert [c["body"] for c in tickets_rpc.list_comments(ticket["id"], customer)] == ["Restart the client"]
    assert tickets_rpc.get(ticket["id"], customer)["unread"] == 0
    tickets_rpc.add_comment(ticket["id"], {"body": "Done, still down"}, customer)
    assert tickets_rpc.get(ticket["id"], SUPERVISOR)["unread"] == 1
    assert tickets_rpc.mark_read(ticket["id"], SUPERVISOR)["unread"] == 0


def test_mentions_in_a_note_resolve_against_the_real_users_service(users_rpc, tickets_rpc):
    local = f"carlos{uuid.uuid4().hex[:6]}"
    carlos = users_rpc.create_user({"email": f"{local}@example.com", "name": "Carlos", "password": PASSWORD,
                                    "role": "agent"})
    customer = member(users_rpc, None)
    ticket = tickets_rpc.create({"title": "VPN down", "description": "Since 9"}, customer)

    note = tickets_rpc.add_comment(ticket["id"], {"body": f"@{local} and @nobody-{local}, look", "internal": True},
                                   SUPERVISOR)

    assert note["mentions"] == [carlos["id"]]


def test_an_organization_whose_events_were_missed_is_caught_up_by_the_reconciliation(
        services, users_rpc, tickets_rpc, tickets_db_url):
    _, tickets_container = services
    with entrypoint_waiter(tickets_container, "project_organization", callback=projected("organization.created"),
                           timeout=10):
        organization = users_rpc.create_organization({"name": f"Acme {uuid.uuid4().hex[:6]}", "shared_tickets": True})
    gone = str(uuid.uuid4())  # a sharing organization the users service no longer has
    engine = make_engine(tickets_db_url)
    with engine.begin() as conn:  # as if the created event had reached no queue of ours, and a deletion neither
        conn.execute(delete(organizations))
        conn.execute(insert(organizations).values(id=gone, shared_tickets=True,
                                                  updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
    engine.dispose()
    ana, luis = member(users_rpc, organization["id"]), member(users_rpc, organization["id"])
    ticket = tickets_rpc.create({"title": "Printer jams", "description": "Floor 2"}, ana)
    with pytest.raises(RemoteError):
        tickets_rpc.get(ticket["id"], luis)

    with entrypoint_hook(tickets_container, "sync_organizations") as sync:
        result = sync()

    assert result == {"listed": 1, "updated": 1, "unshared": 1}
    assert tickets_rpc.get(ticket["id"], luis)["id"] == ticket["id"]
