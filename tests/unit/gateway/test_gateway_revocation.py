"""The revocation store, what users events it reads, and access tokens refused once their user is revoked."""

from __future__ import annotations

import pytest

from gateway.revocation import RevocationStore, epoch, revocation_of

ME = "/api/v1/auth/me"
USER = "00000000-0000-0000-0000-0000000000aa"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_store_refuses_tokens_issued_before_the_moment_only():
    store = RevocationStore(horizon=900, clock=Clock())
    store.revoke(USER, 1_800_000_000.25)

    assert store.refuses(USER, 1_800_000_000.2499)
    assert not store.refuses(USER, 1_800_000_000.25)  # issued right at or after it: the user signed in again
    assert not store.refuses("someone-else", 0)


def test_store_keeps_the_latest_moment_whatever_the_order():
    store = RevocationStore(horizon=900, clock=Clock())
    store.revoke(USER, 1_800_000_000.0)
    store.revoke(USER, 1_799_999_990.0)  # an older event arriving late

    assert store.refuses(USER, 1_799_999_995.0)


def test_store_forgets_moments_older_than_a_token_lives():
    clock = Clock()
    store = RevocationStore(horizon=900, clock=clock)
    store.revoke(USER, clock.now)
    clock.now += 901

    store.revoke("other", clock.now)

    assert len(store) == 1
    assert not store.refuses(USER, clock.now - 1000)  # any token that old has expired anyway


def _envelope(event_type: str, data: dict, occurred_at: str = "2026-12-04T21:00:00+00:00") -> dict:
    return {"id": "e1", "type": event_type, "version": 1, "occurred_at": occurred_at, "producer": "users", "data": data}


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("user.deactivated", {"user": {"id": USER, "tokens_valid_after": "2026-12-04T21:00:01.500000+00:00"}}),
        ("user.updated", {"user": {"id": USER, "tokens_valid_after": "2026-12-04T21:00:01.500000+00:00"},
                          "changes": {"role": {"before": "agent", "after": "customer"}}}),
        ("user.password_changed", {"user_id": USER, "email": "a@example.com",
                                   "tokens_valid_after": "2026-12-04T21:00:01.500000+00:00"}),
    ],
)
def test_revocation_of_reads_the_users_moment(event_type, data):
    assert revocation_of(_envelope(event_type, data)) == (USER, epoch("2026-12-04T21:00:01.5+00:00"))


def test_revocation_of_an_update_without_a_moment_is_none():
    assert revocation_of(_envelope("user.updated", {"user": {"id": USER, "tokens_valid_after": None}})) is None


def test_revocation_of_a_deactivation_without_a_moment_falls_back_to_when_it_happened():
    envelope = _envelope("user.deactivated", {"user": {"id": USER}}, occurred_at="2026-12-04T21:00:02+00:00")

    assert revocation_of(envelope) == (USER, epoch("2026-12-04T21:00:02+00:00"))


def test_revocation_of_an_unreadable_moment_is_none():
    assert revocation_of(_envelope("user.updated", {"user": {"id": USER, "tokens_valid_after": "soon"}})) is None


def _me(client, token):
    return client.get(ME, headers={"Authorization": f"Bearer {token}"})


def test_revoked_users_token_is_refused_even_once_cached(app, accounts):
    tokens = app.extensions["gateway.tokens"]
    client = app.test_client()
    agent, admin = accounts["agent"], accounts["admin"]
    old_agent_token, admin_token = tokens.issue_access_token(agent), tokens.issue_access_token(admin)
    assert _me(client, old_agent_token).status_code == 200  # now in the verified-token cache

    tokens.revocations.revoke(agent["id"], tokens._clock())
    refused = _me(client, old_agent_token)

    assert refused.status_code == 401
    assert refused.get_json()["message"] == "The token was revoked; sign in again."
    assert _me(client, admin_token).status_code == 200


def test_token_issued_right_after_a_revocation_is_honoured(app, accounts):
    tokens = app.extensions["gateway.tokens"]
    agent = accounts["agent"]
    tokens.revocations.revoke(agent["id"], tokens._clock())

    fresh = tokens.issue_access_token(agent)  # the user signs in again

    assert _me(app.test_client(), fresh).status_code == 200


def test_testing_app_starts_no_revocation_feed(app):
    assert "gateway.revocation_feed" not in app.extensions
