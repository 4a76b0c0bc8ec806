"""The body of every service's Alembic ``env.py`` (same database URL as the service, plus the outbox
and inbox tables) and the helpers that create the infrastructure tables every service owns."""

from __future__ import annotations

from sqlalchemy import MetaData

from helpdesk_common.config import database_url
from helpdesk_common.db import infrastructure, make_engine


def run_migrations(service: str, metadata: MetaData, *, unmanaged_prefixes: tuple[str, ...] = ()) -> None:
    """Run Alembic for ``service`` (``<SERVICE>_DATABASE_URL``, or the URL a test passes in attributes).

    Tables named with one of ``unmanaged_prefixes`` (e.g. full-text index tables built by hand in a
    migration) are left out of autogenerate, which would otherwise propose dropping them.
    """

    def include_object(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return not (reflected and compare_to is None and str(table).startswith(unmanaged_prefixes or ("\0",)))

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
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_command_log(op) -> None:
    """Create the ``commands`` table (see ``helpdesk_common.commands``); call it from a service's migration.

    Spelled out rather than copied from ``db.commands_table``, so a later change to the table needs a
    migration of its own instead of silently changing this one.
    """
    import sqlalchemy as sa

    from helpdesk_common.db import UtcDateTime

    op.create_table(
        "commands",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=50), nullable=False),
        sa.Column("method", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_commands_created_at", "commands", ["created_at"], unique=False)


def drop_command_log(op) -> None:
    """Drop the ``commands`` table (the downgrade of ``create_command_log``)."""
    op.drop_index("ix_commands_created_at", table_name="commands")
    op.drop_table("commands")


def create_outbox_and_inbox(op) -> None:
    """Create the ``inbox`` and ``outbox`` tables (``helpdesk_common.db``); call it from a service's first migration.

    Spelled out, as ``create_command_log`` is: the DDL the first migrations of the existing services ran,
    so switching them to this helper changed no migrated database.
    """
    import sqlalchemy as sa

    from helpdesk_common.db import UtcDateTime

    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("processed_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("producer", sa.String(length=50), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("unroutable", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pending", ["published_at", "id"], unique=False)


def drop_outbox_and_inbox(op) -> None:
    """Drop the ``outbox`` and ``inbox`` tables (the downgrade of ``create_outbox_and_inbox``)."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
    op.drop_table("outbox")
    op.drop_table("inbox")
