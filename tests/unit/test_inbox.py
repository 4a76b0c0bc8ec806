"""The inbox claim reliable handlers make for themselves: names, one claim per consumer, quiet duplicates."""

import logging
import sys
from datetime import UTC, datetime

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from helpdesk_common.db import infrastructure
from helpdesk_common.inbox import EventAlreadyHandled, _QuietDuplicates, claim_event, consumer_name
from helpdesk_common.nameko_ext import ReliableEventHandler

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def _session():
    engine = create_engine("sqlite://")
    infrastructure.create_all(engine)
    return Session(engine)


def test_consumer_name_is_the_one_services_typed_before():
    assert consumer_name("tickets", "project_organization") == "tickets.project_organization"


def test_claim_is_granted_once_per_consumer():
    session = _session()
    first = claim_event(session, event_id="e1", event_type="t.x", consumer="a.on", now=NOW)
    again = claim_event(session, event_id="e1", event_type="t.x", consumer="a.on", now=NOW)
    other = claim_event(session, event_id="e1", event_type="t.x", consumer="b.on", now=NOW)
    assert (first, again, other) == (True, False, True)


def test_reliable_handler_expects_a_skipped_duplicate():
    handler = ReliableEventHandler("src", "t.x", expected_exceptions=ValueError)
    assert handler.expected_exceptions == (ValueError, EventAlreadyHandled)


def _record(exc):
    try:
        raise exc
    except type(exc):
        return logging.LogRecord("nameko.containers", logging.WARNING, __file__, 1, "worker failed", (),
                                 sys.exc_info())


def test_a_skipped_duplicate_is_not_logged_as_a_worker_error():
    quiet = _QuietDuplicates()
    assert quiet.filter(_record(EventAlreadyHandled("seen"))) is False
    assert quiet.filter(_record(ValueError("real"))) is True
