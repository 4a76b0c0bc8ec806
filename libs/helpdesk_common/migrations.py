"""The body of every service's Alembic ``env.py``: same database URL as the service, plus the outbox
and inbox tables."""

from __future__ import annotations

from sqlalchemy import MetaData

from helpdesk_common.config import database_url
from helpdesk_common.db import infrastructure, make_engine


def run_migrations(service: str, metadata: MetaData) -> None:
    """Run Alembic for ``service`` (``<SERVICE>_DATABASE_URL``, or the URL a test passes in attributes)."""
    from alembic import context

    target_metadata = [metadata, infrastructure]
    url = context.config.attributes.get("database_url") or database_url(service)
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
