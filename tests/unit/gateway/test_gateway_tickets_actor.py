"""The caller as the tickets service sees it: ``dept``/``org`` claims in the token, the ``actor`` of each RPC."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

TICKETS = "/api/v1/tickets"


@pytest.fixture
def placed_agent(users_service, password):
    """An agent with a department and an organization."""
    return users_service.add_user(
        email="placed.agent@example.com",
        password=password,
        role="agent",
        department_id=str(uuid.uuid4()),
        organization_id=str(uuid.uuid4()),
    )


def _claims(app, token):
    return app.extensions["gateway.tokens"].verify(token, token_type="access")


def test_login_token_carries_dept_and_org_claims(app, login, placed_agent):
    claims = _claims(app, login("placed.agent@example.com")["access_token"])

    assert (claims["dept"], claims["org"]) == (placed_agent["department_id"], placed_agent["organization_id"])


def test_refreshed_token_carries_dept_and_org_claims(app, client, login, placed_agent):
    refresh_token = login("placed.agent@example.com")["refresh_token"]

    response = client.post("/api/v1/auth/refresh-token", json={"refresh_token": refresh_token})

    claims = _claims(app, response.get_json()["data"]["access_token"])
    assert (claims["dept"], claims["org"]) == (placed_agent["department_id"], placed_agent["organization_id"])


def test_registered_token_carries_the_org_the_users_service_gave(app, client, users_service, monkeypatch):
    organization_id = str(uuid.uuid4())
    register = users_service.register_customer
    monkeypatch.setattr(
        users_service, "register_customer", lambda data: {**register(data), "organization_id": organization_id}
    )

    response = client.post(
        "/api/v1/auth/register", json={"email": "new@acme.example", "name": "New", "password": "S3cure-pass"}
    )

    claims = _claims(app, response.get_json()["data"]["access_token"])
    assert claims["org"] == organization_id
    assert "dept" not in claims


def test_actor_of_the_rpc_carries_dept_and_org_from_the_token(client, login, placed_agent, fake_rpc):
    token = login("placed.agent@example.com")["access_token"]

    client.get(TICKETS, headers={"Authorization": f"Bearer {token}"})

    assert fake_rpc.calls_to("tickets", "list")[-1].kwargs["actor"] == {
        "id": placed_agent["id"],
        "role": "agent",
        "department_id": placed_agent["department_id"],
        "organization_id": placed_agent["organization_id"],
        "via": "gateway",
    }


def test_actor_is_read_from_the_token_not_from_the_users_service(client, auth_headers, placed_agent, users_service, fake_rpc):
    headers = auth_headers(placed_agent)
    users_service.users[placed_agent["id"]]["department_id"] = str(uuid.uuid4())  # moved after the token was issued

    client.get(TICKETS, headers=headers)

    assert fake_rpc.calls_to("tickets", "list")[-1].kwargs["actor"]["department_id"] == placed_agent["department_id"]
    assert fake_rpc.methods_called("users") == []


def test_token_without_dept_and_org_gives_an_actor_without_them(client, auth_headers, fake_rpc):
    client.get(TICKETS, headers=auth_headers("customer"))

    actor = fake_rpc.calls_to("tickets", "list")[-1].kwargs["actor"]
    assert (actor["department_id"], actor["organization_id"]) == (None, None)


@pytest.mark.parametrize("claim", ["dept", "org"])
def test_token_with_a_malformed_dept_or_org_claim_is_401(app, client, accounts, claim):
    now = int(time.time())
    claims = {
        "iss": "helpdesk",
        "aud": "helpdesk-api",
        "sub": accounts["agent"]["id"],
        "typ": "access",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 60,
        "role": "agent",
        claim: ["not", "a", "string"],
    }
    token = jwt.encode(claims, app.config["JWT_SECRET"], algorithm="HS256")

    response = client.get(TICKETS, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
