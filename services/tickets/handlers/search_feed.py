"""The Elasticsearch feed: copy the ticket an event names, as it is now, into the external index."""

from __future__ import annotations

from helpdesk_contracts.envelope import Envelope
from services.tickets.domain import search
from services.tickets.handlers.ports import TicketsUnitOfWork


def feed_search_index(envelope: Envelope, *, uow: TicketsUnitOfWork, index: search.TicketSearchIndex) -> None:
    """Copy the ticket a ``ticket.*`` event is about, as it is now, into an external search index."""
    feed = uow.search_feed(index)
    feed.copy(envelope.data["ticket"]["id"])
    if envelope.data.get("target"):  # ticket.merged also changed the target's thread
        feed.copy(envelope.data["target"]["id"])
    feed.observed(envelope.occurred_at, now=uow.clock.now())
