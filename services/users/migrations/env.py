"""Alembic environment of the users database: the same URL the service uses."""

from alembic import context

from helpdesk_common.config import database_url
from helpdesk_common.db import infrastructure, make_engine
from services.users.adapters.orm import metadata

target_metadata = [metadata, infrastructure]


def run_migrations() -> None:
    url = context.config.attributes.get("database_url") or database_url("users")
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


run_migrations()
