"""The tickets service over RabbitMQ next to the real users service: assignment checked against real people,
the events it publishes (valid envelopes carrying the caller's correlation id) and the typed errors callers
receive, with nothing published for a rejected change."""

import uuid

import pytest
from nameko.exceptions import RemoteError

from helpdesk_contracts.errors import IllegalTransition, StaleTicket, TicketNotFound, ValidationFailed
from helpdesk_contracts.events import validate_envelope

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-pass"
CORRELATION_HEADER = "nameko.correlation_id"
UNKNOWN_ID = str(uuid.UUID(int=1))
SUPERVISOR = {"id": str(uuid.uuid4()), "role": "supervisor", "department_id": None, "organization_id": None}


def as_actor(user: dict) -> dict:
    """The actor the gateway would build from this user's access token."""
    return {k: user[k] for k in ("id", "role", "department_id", "organization_id")}


def checked(event, correlation_id):
    """Return the envelope of a probed event after checking it against the contract and the correlation id."""
    envelope = {k: v for k, v in event.items() if k != "_headers"}
    validate_envelope(envelope)
    assert envelope["producer"] == "tickets"
    assert envelope["correlation_id"] == correlation_id
    assert event["_headers"].get(CORRELATION_HEADER) == correlation_id
    return envelope


def about(ticket_id):
    return lambda event: event["data"]["ticket"]["id"] == ticket_id


@pytest.fixture
def customer(users_rpc):
    email = f"c-{uuid.uuid4().hex[:8]}@example.com"
    return as_actor(users_rpc.register_customer({"email": email, "name": "Ana", "password": PASSWORD}))


def test_assign_to_a_real_agent_publishes_ticket_assigned(
    users_rpc, tickets_rpc, customer, event_probe, correlation_id
):
    probe = event_probe("tickets", "ticket.assigned")
    support, hardware = (users_rpc.create_department({"name": n}) for n in ("Support", "Hardware"))
    agent = as_actor(
        users_rpc.create_user(
            {
                "email": "agent@example.com",
                "name": "Agent",
                "password": PASSWORD,
                "role": "agent",
                "department_id": support["id"],
            }
        )
    )
    ticket = tickets_rpc.create(
        {"title": "Printer on fire", "description": "Smoke", "department_id": hardware["id"]}, customer
    )
    with pytest.raises(RemoteError) as hidden:  # another department's ticket, not (yet) the agent's
        tickets_rpc.get(ticket["id"], agent)
    assert hidden.value.exc_type == TicketNotFound.__name__

    assigned = tickets_rpc.assign(ticket["id"], SUPERVISOR, assignee_id=agent["id"], expected_version=1)
    assert (assigned["assignee_id"], assigned["status"], assigned["version"]) == (agent["id"], "open", 2)
    event = checked(probe.wait("ticket.assigned", where=about(ticket["id"])), correlation_id)
    assert (event["data"]["assignee_id"], event["data"]["previous_assignee_id"]) == (agent["id"], None)
    assert event["data"]["ticket"]["status"] == "open"
    assert event["data"]["actor"]["id"] == SUPERVISOR["id"]
    assert tickets_rpc.get(ticket["id"], agent)["assignee_id"] == agent["id"]


def test_assign_to_anyone_but_an_agent_is_rejected(users_rpc, tickets_rpc, customer):
    ticket = tickets_rpc.create({"title": "VPN down", "description": "Since 9"}, customer)
    for assignee_id in (customer["id"], UNKNOWN_ID):
        with pytest.raises(RemoteError) as exc:
            tickets_rpc.assign(ticket["id"], SUPERVISOR, assignee_id=assignee_id)
        assert exc.value.exc_type == ValidationFailed.__name__
    stored = tickets_rpc.get(ticket["id"], SUPERVISOR)
    assert (stored["assignee_id"], stored["status"], stored["version"]) == (None, "new", 1)


def test_rejected_calls_arrive_typed_and_publish_nothing(tickets_rpc, customer, event_probe, correlation_id):
    probe = event_probe("tickets", "ticket.*")
    ticket = tickets_rpc.create({"title": "VPN down", "description": "Since 9"}, customer)

    with pytest.raises(RemoteError) as exc:
        tickets_rpc.change_status(UNKNOWN_ID, "open", SUPERVISOR)
    assert exc.value.exc_type == TicketNotFound.__name__

    tickets_rpc.change_priority(ticket["id"], "high", SUPERVISOR)
    with pytest.raises(RemoteError) as exc:
        tickets_rpc.update(ticket["id"], {"title": "Mine wins"}, SUPERVISOR, expected_version=1)
    assert exc.value.exc_type == StaleTicket.__name__
    assert "now 2" in str(exc.value)

    tickets_rpc.close(ticket["id"], SUPERVISOR)
    with pytest.raises(RemoteError) as exc:
        tickets_rpc.change_status(ticket["id"], "in_progress", SUPERVISOR)
    assert exc.value.exc_type == IllegalTransition.__name__
    assert "allowed: open" in str(exc.value)

    marker = tickets_rpc.create({"title": "Marker", "description": "Last"}, customer)
    # the relay publishes in commit order: anything a rejected call recorded would arrive before the marker
    seen = [checked(probe.wait(), correlation_id)]
    while not about(marker["id"])(seen[-1]):
        seen.append(checked(probe.wait(), correlation_id))
    assert [e["type"] for e in seen if about(ticket["id"])(e)] == [
        "ticket.created",
        "ticket.updated",
        "ticket.status_changed",
    ]
    assert tickets_rpc.get(ticket["id"], SUPERVISOR)["title"] == "VPN down"
