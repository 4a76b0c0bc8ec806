"""Rebuild the ticket search index from the tickets database.

    python -m services.tickets.adapters.search.reindex             # Elasticsearch (ELASTICSEARCH_URL)
    python -m services.tickets.adapters.search.reindex --embedded  # the embedded index (no Elasticsearch)

Elasticsearch: installs the template, bulk-loads every ticket into a new ``<alias>-v<N>``, points the
alias at it in one atomic call, then copies again every ticket changed since the run began (minus a
margin): changes made meanwhile were fed to the old index, and external versions make the second copy
harmless where nothing changed. The service keeps serving searches from the old index until the swap.
Old indices are kept unless ``--drop-old``.

Database: ``TICKETS_DATABASE_URL`` (default ``var/tickets.db``), as the service.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

from helpdesk_common.clock import SystemClock
from helpdesk_common.config import database_url
from helpdesk_common.db import make_engine
from services.tickets.adapters.search.embedded import embedded_index
from services.tickets.adapters.search.feed import documents

CATCH_UP_MARGIN = timedelta(minutes=5)
"""How far before the start the catch-up pass looks (clock skew, events still in the outbox)."""


def rebuild_elasticsearch(engine, index, *, batch_size: int, drop_old: bool, clock=None) -> dict:
    """Build a new index from the database, swap the alias to it, catch up; return what was done."""
    started = (clock or SystemClock()).now()
    index.install_template()
    new = index.create_index()
    with engine.connect() as conn:
        written, _ = index.bulk_index(documents(conn, batch_size=batch_size), index_name=new)
    index.finish_bulk(new)
    previous = index.swap_alias(new)
    with engine.connect() as conn:
        caught_up, _ = index.bulk_index(
            documents(conn, batch_size=batch_size, changed_since=started - CATCH_UP_MARGIN, include_deleted=True),
            index_name=new,
        )
    if drop_old:
        for name in previous:
            index.client.indices.delete(index=name)
    return {"index": new, "tickets": written, "caught_up": caught_up, "previous": previous, "dropped": drop_old}


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="python -m services.tickets.adapters.search.reindex",
                                     description="Rebuild the ticket search index from the tickets database.")
    parser.add_argument("--embedded", action="store_true", help="rebuild the embedded index (SQLite/PostgreSQL)")
    parser.add_argument("--batch-size", type=int, default=500, help="tickets read per query (default 500)")
    parser.add_argument("--drop-old", action="store_true", help="delete the indices the alias pointed at before")
    args = parser.parse_args(argv)

    engine = make_engine(database_url("tickets"))
    try:
        if args.embedded:
            with engine.begin() as conn:
                count = embedded_index(conn).rebuild(batch_size=args.batch_size)
            print(f"embedded index rebuilt: {count} tickets")
            return 0
        url = os.environ.get("ELASTICSEARCH_URL")
        if not url:
            print("ELASTICSEARCH_URL is not set (use --embedded for the embedded index)", file=sys.stderr)
            return 2
        from services.tickets.adapters.search.elastic import ElasticsearchTicketSearchIndex, make_client

        client = make_client(url, timeout=120.0)
        index = ElasticsearchTicketSearchIndex(client, alias=os.environ.get("ELASTICSEARCH_INDEX", "tickets"))
        try:
            done = rebuild_elasticsearch(engine, index, batch_size=args.batch_size, drop_old=args.drop_old)
        finally:
            client.close()
        print(f"{done['index']}: {done['tickets']} tickets, {done['caught_up']} caught up; alias now on it"
              f" (before: {', '.join(done['previous']) or 'none'}{', dropped' if done['dropped'] and done['previous'] else ''})")
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
