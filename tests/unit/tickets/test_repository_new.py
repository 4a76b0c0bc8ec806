"""A new ticket written behind is stored as it is at the commit: changes after ``insert_new`` are kept."""

import pytest

from services.tickets.adapters.repository import SqlAlchemyTicketRepository


@pytest.fixture(params=["on", "off"])
def write_behind(request, monkeypatch):
    monkeypatch.setenv("HELPDESK_WRITE_BEHIND", request.param)
    return request.param


def _stored(new_uow, ticket_id):
    with new_uow() as uow:
        return SqlAlchemyTicketRepository(uow.session).get(ticket_id)


def test_a_change_after_insert_new_is_stored(write_behind, new_uow, ticket_factory):
    ticket = ticket_factory()
    with new_uow() as uow:
        SqlAlchemyTicketRepository(uow.session).insert_new(ticket)
        ticket.title = "Printer fixed"
        uow.commit()

    assert _stored(new_uow, ticket.id).title == "Printer fixed"


def test_a_change_after_insert_new_and_a_query_is_stored(write_behind, new_uow, ticket_factory):
    ticket = ticket_factory()
    with new_uow() as uow:
        repo = SqlAlchemyTicketRepository(uow.session)
        repo.insert_new(ticket)
        assert repo.find_by_number(ticket.number) is ticket  # the query sent the INSERT; the session holds it now
        ticket.title = "Printer fixed"
        uow.commit()

    assert _stored(new_uow, ticket.id).title == "Printer fixed"
