"""Unread counts of the public thread per side on a real database: a public message of one side is unread
for the other until it reads the thread (or marks it read); internal notes count for nobody; the list and
the stats carry the counts without a query per ticket."""

import pytest
from sqlalchemy import event

from services.tickets import handlers
from services.tickets.domain import rules
from tests.unit.tickets.factories import ORG, actor


def reply(run, ticket, by, body="Any news?", **extra):
    return run(handlers.add_comment, ticket["id"], {"body": body, **extra}, by)


def unread(run, ticket, by):
    return run(handlers.get_ticket, ticket["id"], by)["unread"]


def test_a_customer_message_is_unread_for_agents_only(run, create_ticket, customer, agent):
    ticket = create_ticket()

    reply(run, ticket, customer)
    reply(run, ticket, customer, "Hello?")

    assert unread(run, ticket, agent) == 2
    assert unread(run, ticket, customer) == 0


def test_an_agent_reply_is_unread_for_the_requester_and_reading_the_thread_marks_it_read(
        run, create_ticket, customer, agent):
    ticket = create_ticket()
    reply(run, ticket, agent, "Restart the router.")
    assert unread(run, ticket, customer) == 1

    thread = run(handlers.list_comments, ticket["id"], customer)

    assert [c["body"] for c in thread] == ["Restart the router."]
    assert unread(run, ticket, customer) == 0


def test_a_requester_reply_reads_the_thread_for_the_requester(run, create_ticket, customer, agent):
    ticket = create_ticket()
    reply(run, ticket, agent, "Restart the router.")

    reply(run, ticket, customer, "Done, thanks")  # replying reads what it answers

    assert unread(run, ticket, customer) == 0
    assert unread(run, ticket, agent) == 1


def test_an_agent_reading_marks_the_agents_side_not_the_requesters(run, create_ticket, customer, agent, agent_b):
    ticket = create_ticket()
    reply(run, ticket, customer)
    reply(run, ticket, agent, "Looking")
    reply(run, ticket, customer, "Thanks")
    reply(run, ticket, agent, "Fixed")
    assert (unread(run, ticket, agent_b), unread(run, ticket, customer)) == (0, 1)
    reply(run, ticket, agent, "Please confirm", internal=False)
    assert unread(run, ticket, customer) == 2

    run(handlers.list_comments, ticket["id"], agent_b)

    assert unread(run, ticket, customer) == 2


def test_an_agent_reads_unread_customer_messages_by_listing_the_thread(run, create_ticket, customer, agent):
    ticket = create_ticket()
    reply(run, ticket, customer)
    reply(run, ticket, customer, "Hello?")

    run(handlers.list_comments, ticket["id"], agent)

    assert unread(run, ticket, agent) == 0
    assert unread(run, ticket, customer) == 0


def test_internal_notes_never_count_as_unread(run, create_ticket, customer, agent):
    ticket = create_ticket()

    reply(run, ticket, agent, "Probably the VPN concentrator", internal=True)

    assert unread(run, ticket, customer) == 0
    assert unread(run, ticket, agent) == 0


def test_reading_does_not_change_the_tickets_version(run, create_ticket, customer, agent):
    ticket = create_ticket()
    reply(run, ticket, agent)
    version = run(handlers.get_ticket, ticket["id"], customer)["version"]

    run(handlers.list_comments, ticket["id"], customer)
    marked = run(handlers.mark_read, ticket["id"], customer)

    assert marked["version"] == version  # an If-Match read before stays valid


def test_mark_read_zeroes_the_callers_side_and_records_when(run, create_ticket, customer, agent, engine, clock):
    ticket = create_ticket()
    reply(run, ticket, customer)
    clock.advance(minutes=3)

    answer = run(handlers.mark_read, ticket["id"], agent)

    assert answer["unread"] == 0
    with engine.connect() as conn:
        read_at = conn.exec_driver_sql(
            "SELECT agents_read_at FROM tickets WHERE id = ?" if engine.dialect.name == "sqlite"
            else "SELECT agents_read_at FROM tickets WHERE id = %s", (ticket["id"],)).scalar()
    assert read_at is not None


def test_mark_read_by_another_customer_is_not_found(run, create_ticket, agent, other_customer):
    from services.tickets.domain.errors import TicketNotFound

    ticket = create_ticket()
    with pytest.raises(TicketNotFound):
        run(handlers.mark_read, ticket["id"], other_customer)


def test_system_reads_keep_no_read_position(run, create_ticket, customer, agent, system):
    ticket = create_ticket()
    reply(run, ticket, customer)

    run(handlers.list_comments, ticket["id"], system)
    assert run(handlers.mark_read, ticket["id"], system)["unread"] is None

    assert unread(run, ticket, agent) == 1


def test_the_list_carries_each_tickets_unread_count_in_one_query(run, create_ticket, customer, agent, engine):
    first, second, quiet = create_ticket(title="One"), create_ticket(title="Two"), create_ticket(title="Three")
    reply(run, first, customer)
    reply(run, second, customer)
    reply(run, second, customer)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = run(handlers.list_tickets, agent, {}, 1, 20, "title", "asc")
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    assert [(t["title"], t["unread"]) for t in page["items"]] == [("One", 1), ("Three", 0), ("Two", 2)]
    assert len(statements) == 2  # the count and the page, whatever the page size
    assert quiet["id"] in {t["id"] for t in page["items"]}


def test_stats_count_the_callers_unread_messages(run, create_ticket, customer, agent):
    first, second = create_ticket(), create_ticket()
    reply(run, first, customer)
    reply(run, second, customer)
    reply(run, second, customer)
    reply(run, first, agent, "On it")  # reads first for the agents; unread for the requester

    staff = run(handlers.ticket_stats, agent)
    mine = run(handlers.ticket_stats, customer)

    assert (staff["unread_messages"], staff["unread_tickets"]) == (2, 1)
    assert (mine["unread_messages"], mine["unread_tickets"]) == (1, 1)


def test_stats_of_a_customer_count_only_their_own_unread(run, create_ticket, customer, other_customer, agent):
    theirs = create_ticket(by=other_customer)
    reply(run, theirs, agent)

    assert run(handlers.ticket_stats, customer)["unread_messages"] == 0
    assert run(handlers.ticket_stats, other_customer)["unread_messages"] == 1


def test_merging_carries_the_duplicates_unread_messages_to_the_target(run, create_ticket, customer, agent):
    target, duplicate = create_ticket(), create_ticket()
    reply(run, duplicate, customer)
    reply(run, target, customer)

    run(handlers.merge_tickets, duplicate["id"], target["id"], agent)

    assert unread(run, target, agent) == 2
    assert unread(run, duplicate, agent) == 0


# the pure rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "is_requester", "side"), [
    ("agent", False, "agents"), ("admin", False, "agents"), ("customer", True, "requester"),
    ("customer", False, None), ("system", False, None),
])
def test_reader_side(role, is_requester, side):
    who = rules.Actor(id=None if role == "system" else "u1", role=role, organization_id=ORG)
    assert rules.reader_side(who, requester_id="u1" if is_requester else "u2") == side


def test_writer_side_of_a_colleague_is_the_customers():
    colleague = handlers.actor_from(actor("customer", organization_id=ORG))
    assert rules.writer_side(colleague) == "requester"
    assert rules.other_side("requester") == "agents" and rules.other_side("agents") == "requester"
