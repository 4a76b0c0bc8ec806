"""@mentions: handles and e-mails found in comment bodies (pure rules), resolved to active staff through the
users directory, stored with the comment and carried by ``ticket.commented``; customers mention nobody."""

import pytest

from services.tickets import handlers
from services.tickets.domain import rules
from tests.unit.tickets.factories import new_id

# the pure rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "handles"), [
    ("@carlos can you look?", ["carlos"]),
    ("cc @Carlos, @maria.lopez and @jorge@Example.com.", ["carlos", "maria.lopez", "jorge@example.com"]),
    ("@carlos @carlos again", ["carlos"]),
    ("write to ana@example.com", []),
    ("email@ @ alone, trailing @", []),
    ("(@carlos)", ["carlos"]),
])
def test_mention_handles(body, handles):
    assert rules.mention_handles(body) == handles


def test_mention_handles_stop_at_the_limit():
    body = " ".join(f"@user{i}" for i in range(30))
    assert len(rules.mention_handles(body)) == rules.MAX_MENTIONS


def test_resolve_mentions_takes_active_staff_named_unambiguously():
    people = [
        {"id": "c", "email": "carlos@example.com", "role": "agent", "status": "active"},
        {"id": "m1", "email": "maria@example.com", "role": "agent", "status": "active"},
        {"id": "m2", "email": "maria@other.example", "role": "agent", "status": "active"},
        {"id": "j", "email": "jorge@example.com", "role": "agent", "status": "inactive"},
        {"id": "a", "email": "ana@example.com", "role": "customer", "status": "active"},
    ]
    handles = ["carlos", "maria", "maria@other.example", "jorge", "ana", "nobody"]

    assert rules.resolve_mentions(handles, people) == ["c", "m2"]


# on a real database ---------------------------------------------------------------------------------------


@pytest.fixture
def carlos(directory):
    return directory.add("agent", email="carlos@example.com")


@pytest.fixture
def ticket(create_ticket):
    return create_ticket()


def test_an_agents_note_stores_and_announces_the_mentioned_agents(run, ticket, agent, carlos, directory, outbox):
    given = new_id()

    comment = run(handlers.add_comment, ticket["id"],
                  {"body": "@carlos and @nobody, see this", "internal": True, "mentions": [given]}, agent)

    assert comment["mentions"] == [given, carlos["id"]]
    assert comment["body"] == "@carlos and @nobody, see this"  # unknown handles stay as they were written
    assert directory.searched == [["carlos", "nobody"]]
    event = outbox("ticket.commented")[-1]
    assert event["data"]["comment"]["mentions"] == [given, carlos["id"]]
    listed = run(handlers.list_comments, ticket["id"], agent)
    assert listed[-1]["mentions"] == [given, carlos["id"]]


def test_an_agents_public_reply_resolves_mentions_by_email(run, ticket, agent, carlos):
    comment = run(handlers.add_comment, ticket["id"], {"body": "Handing over to @carlos@example.com"}, agent)

    assert comment["mentions"] == [carlos["id"]]


def test_a_mention_of_the_same_agent_twice_counts_once(run, ticket, agent, carlos):
    comment = run(handlers.add_comment, ticket["id"],
                  {"body": "@carlos, @carlos@example.com", "mentions": [carlos["id"]]}, agent)

    assert comment["mentions"] == [carlos["id"]]


def test_a_body_without_mentions_asks_the_directory_nothing(run, ticket, agent, directory):
    run(handlers.add_comment, ticket["id"], {"body": "Mail ana@example.com about it"}, agent)

    assert directory.searched == []


def test_customers_mention_nobody(run, ticket, customer, carlos, directory, outbox):
    comment = run(handlers.add_comment, ticket["id"],
                  {"body": "@carlos please hurry", "mentions": [carlos["id"]]}, customer)

    assert comment["mentions"] == []
    assert comment["body"] == "@carlos please hurry"
    assert directory.searched == []
    assert outbox("ticket.commented")[-1]["data"]["comment"]["mentions"] == []
