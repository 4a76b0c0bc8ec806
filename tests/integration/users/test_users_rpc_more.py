"""The users service over RabbitMQ: departments and organizations round trips, availability, the events
they publish (valid envelopes carrying the caller's correlation id) and the errors callers receive."""

import uuid

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from helpdesk_contracts.errors import (
    Conflict,
    DepartmentInUse,
    DepartmentNotFound,
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    OrganizationInUse,
    OrganizationNotFound,
    UserNotFound,
    ValidationFailed,
    WeakPassword,
)
from helpdesk_contracts.events import validate_envelope

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-pass"
UNKNOWN_ID = str(uuid.UUID(int=1))
CORRELATION_HEADER = "nameko.correlation_id"


@pytest.fixture
def correlation_id():
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def users_rpc_traced(users_container, amqp_uri, correlation_id):
    """A proxy that sends a correlation id with every call, as the gateway does."""
    config = {"AMQP_URI": amqp_uri}
    with ServiceRpcProxy("users", config, context_data={"correlation_id": correlation_id}, timeout=10) as proxy:
        yield proxy


def checked(event, correlation_id):
    """Return the envelope of a probed event after checking it against the contract and the correlation id."""
    headers = event["_headers"]
    envelope = {k: v for k, v in event.items() if k != "_headers"}
    validate_envelope(envelope)
    assert envelope["producer"] == "users"
    assert envelope["correlation_id"] == correlation_id
    assert headers.get(CORRELATION_HEADER) == correlation_id
    return envelope


def about(key, entity_id):
    return lambda event: event["data"].get(key, {}).get("id") == entity_id


def test_department_round_trip_publishes_department_events(users_rpc_traced, event_probe, correlation_id):
    rpc = users_rpc_traced
    probe = event_probe("users", "department.*")

    created = rpc.create_department({"name": "Support", "default_sla_hours": 8})
    event = checked(probe.wait("department.created", where=about("department", created["id"])), correlation_id)
    assert event["data"]["department"]["name"] == "Support"
    assert rpc.get_department(created["id"]) == created
    assert rpc.list_departments(1, 20) == {"items": [created], "total": 1}

    updated = rpc.update_department(created["id"], {"name": "Help desk", "description": "First line"})
    event = checked(probe.wait("department.updated", where=about("department", created["id"])), correlation_id)
    assert event["data"]["changes"]["name"] == {"before": "Support", "after": "Help desk"}
    assert rpc.get_department(created["id"]) == updated

    assert rpc.delete_department(created["id"]) is None
    event = checked(probe.wait("department.deleted", where=about("department", created["id"])), correlation_id)
    assert event["data"]["department"]["name"] == "Help desk"
    with pytest.raises(RemoteError) as exc:
        rpc.get_department(created["id"])
    assert exc.value.exc_type == DepartmentNotFound.__name__


def test_organization_round_trip_publishes_organization_events(users_rpc_traced, event_probe, correlation_id):
    rpc = users_rpc_traced
    probe = event_probe("users", "organization.*")

    created = rpc.create_organization({"name": "Acme", "domain": "acme.test"})
    event = checked(probe.wait("organization.created", where=about("organization", created["id"])), correlation_id)
    assert event["data"]["organization"]["domain"] == "acme.test"
    assert (created["vip"], event["data"]["organization"]["vip"]) == (False, False)
    assert rpc.get_organization(created["id"]) == created
    assert rpc.list_organizations(1, 20) == {"items": [created], "total": 1}

    updated = rpc.update_organization(created["id"], {"shared_tickets": True, "vip": True})
    event = checked(probe.wait("organization.updated", where=about("organization", created["id"])), correlation_id)
    assert event["data"]["changes"] == {"shared_tickets": {"before": False, "after": True},
                                        "vip": {"before": False, "after": True}}
    assert event["data"]["organization"]["vip"] is True
    assert rpc.get_organization(created["id"]) == updated
    assert updated["vip"] is True

    assert rpc.delete_organization(created["id"]) is None
    checked(probe.wait("organization.deleted", where=about("organization", created["id"])), correlation_id)
    with pytest.raises(RemoteError) as exc:
        rpc.get_organization(created["id"])
    assert exc.value.exc_type == OrganizationNotFound.__name__


def test_member_counts_follow_users_joining_and_leaving(users_rpc_traced):
    rpc = users_rpc_traced
    department = rpc.create_department({"name": "Support"})
    organization = rpc.create_organization({"name": "Acme"})
    agent = rpc.create_user(
        {
            "email": "agent@example.com",
            "name": "Agent",
            "password": PASSWORD,
            "role": "agent",
            "department_id": department["id"],
        }
    )
    rpc.register_customer(
        {"email": "c@acme.test", "name": "C", "password": PASSWORD, "organization_id": organization["id"]}
    )
    assert rpc.get_department(department["id"])["member_count"] == 1
    assert rpc.list_organizations(1, 20)["items"][0]["member_count"] == 1
    rpc.update_user(agent["id"], {"department_id": None})
    assert rpc.get_department(department["id"])["member_count"] == 0


def test_set_availability_publishes_agent_availability_changed(users_rpc_traced, event_probe, correlation_id):
    rpc = users_rpc_traced
    probe = event_probe("users", "agent.availability_changed")
    department = rpc.create_department({"name": "Support"})
    agent = rpc.create_user(
        {
            "email": "agent@example.com",
            "name": "Agent",
            "password": PASSWORD,
            "role": "agent",
            "department_id": department["id"],
            "skills": ["vpn"],
        }
    )

    assert rpc.set_availability(agent["id"], "online")["availability"] == "online"
    event = checked(
        probe.wait("agent.availability_changed", where=lambda e: e["data"]["user_id"] == agent["id"]), correlation_id
    )
    assert event["data"] == {
        "user_id": agent["id"],
        "availability": "online",
        "previous": "offline",
        "department_id": department["id"],
        "skills": ["vpn"],
    }
    [available] = rpc.list_available_agents(department_id=department["id"], skill="vpn")
    assert available["id"] == agent["id"]


def test_failed_rpc_publishes_nothing(users_rpc_traced, event_probe, correlation_id):
    rpc = users_rpc_traced
    probe = event_probe("users", "department.*")
    rpc.create_department({"name": "Support"})
    with pytest.raises(RemoteError) as exc:
        rpc.create_department({"name": "SUPPORT"})
    assert exc.value.exc_type == Conflict.__name__
    marker = rpc.create_department({"name": "Marker"})
    # the relay publishes in commit order: anything the failed call recorded would arrive before the marker
    seen = [checked(probe.wait(), correlation_id)]
    while not about("department", marker["id"])(seen[-1]):
        seen.append(checked(probe.wait(), correlation_id))
    created = [e["data"]["department"]["name"] for e in seen if e["type"] == "department.created"]
    assert created == ["Support", "Marker"]


def test_events_carry_a_correlation_id_when_the_caller_sent_none(users_rpc, event_probe):
    probe = event_probe("users", "department.created")
    department = users_rpc.create_department({"name": "Support"})
    event = probe.wait("department.created", where=about("department", department["id"]))
    assert event["correlation_id"]
    assert event["_headers"].get(CORRELATION_HEADER) == event["correlation_id"]


def _user(rpc, **overrides):
    data = {"email": f"u-{uuid.uuid4().hex[:8]}@example.com", "name": "U", "password": PASSWORD}
    data.update(overrides)
    return rpc.create_user(data)


def _department_with_member(rpc):
    department = rpc.create_department({"name": "Busy"})
    _user(rpc, role="agent", department_id=department["id"])
    return department


ERROR_CASES = {
    "duplicate_department_name": (
        Conflict,
        lambda rpc: [rpc.create_department({"name": "D"}), rpc.create_department({"name": "d"})],
    ),
    "duplicate_organization_name": (
        Conflict,
        lambda rpc: [rpc.create_organization({"name": "O"}), rpc.create_organization({"name": "O "})],
    ),
    "department_with_members": (DepartmentInUse, lambda rpc: rpc.delete_department(_department_with_member(rpc)["id"])),
    "organization_with_members": (
        OrganizationInUse,
        lambda rpc: rpc.delete_organization(
            _user(rpc, organization_id=rpc.create_organization({"name": "O"})["id"])["organization_id"]
        ),
    ),
    "unknown_department": (DepartmentNotFound, lambda rpc: rpc.update_department(UNKNOWN_ID, {"name": "X"})),
    "unknown_organization": (OrganizationNotFound, lambda rpc: rpc.delete_organization(UNKNOWN_ID)),
    "unknown_user": (UserNotFound, lambda rpc: rpc.set_availability(UNKNOWN_ID, "online")),
    "page_too_large": (ValidationFailed, lambda rpc: rpc.list_departments(1, 101)),
    "customer_availability": (ValidationFailed, lambda rpc: rpc.set_availability(_user(rpc)["id"], "online")),
    "weak_password": (WeakPassword, lambda rpc: _user(rpc, password="password")),
    "duplicate_email": (
        EmailAlreadyRegistered,
        lambda rpc: [_user(rpc, email="a@example.com"), _user(rpc, email="A@example.com")],
    ),
    "wrong_current_password": (
        InvalidCredentials,
        lambda rpc: rpc.change_password(_user(rpc)["id"], "wrong-pass-1", "n3w-secret-pass"),
    ),
    "unknown_refresh_token": (InvalidRefreshToken, lambda rpc: rpc.rotate_refresh_token("0" * 32)),
    "unknown_reset_token": (InvalidResetToken, lambda rpc: rpc.reset_password("not-a-token", "n3w-secret-pass")),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_rpc_errors_arrive_with_their_contract_class(users_rpc_traced, case):
    error, call = ERROR_CASES[case]
    with pytest.raises(RemoteError) as exc:
        call(users_rpc_traced)
    assert exc.value.exc_type == error.__name__
