"""embedded full-text index of tickets (SQLite FTS5 / PostgreSQL tsvector + GIN), filled from existing tickets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_TEXT = ", ".join(f"{name} TEXT NOT NULL DEFAULT ''" for name in
                  ("number", "title", "tags", "description", "comments", "internal"))
_FTS_COLUMNS = "number, title, tags, description, comments, internal"
_NEW = ", ".join(f"new.{name}" for name in _FTS_COLUMNS.split(", "))
_OLD = ", ".join(f"old.{name}" for name in _FTS_COLUMNS.split(", "))

SQLITE = [
    # `key` is the FTS5 rowid: an INTEGER PRIMARY KEY, which VACUUM never renumbers
    f"CREATE TABLE ticket_search (key INTEGER PRIMARY KEY, ticket_id VARCHAR(36) NOT NULL UNIQUE, {_TEXT})",
    f"CREATE VIRTUAL TABLE ticket_search_fts USING fts5({_FTS_COLUMNS}, content='ticket_search', "
    "content_rowid='key', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER ticket_search_ai AFTER INSERT ON ticket_search BEGIN "
    f"INSERT INTO ticket_search_fts(rowid, {_FTS_COLUMNS}) VALUES (new.key, {_NEW}); END",
    f"CREATE TRIGGER ticket_search_ad AFTER DELETE ON ticket_search BEGIN "
    f"INSERT INTO ticket_search_fts(ticket_search_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.key, {_OLD}); END",
    f"CREATE TRIGGER ticket_search_au AFTER UPDATE ON ticket_search BEGIN "
    f"INSERT INTO ticket_search_fts(ticket_search_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.key, {_OLD}); "
    f"INSERT INTO ticket_search_fts(rowid, {_FTS_COLUMNS}) VALUES (new.key, {_NEW}); END",
]

POSTGRESQL = [
    f"CREATE TABLE ticket_search (ticket_id VARCHAR(36) PRIMARY KEY, {_TEXT}, "
    "document_public TSVECTOR NOT NULL, document_staff TSVECTOR NOT NULL)",
    "CREATE INDEX ix_ticket_search_public ON ticket_search USING GIN (document_public)",
    "CREATE INDEX ix_ticket_search_staff ON ticket_search USING GIN (document_staff)",
]


def upgrade() -> None:
    bind = op.get_bind()
    for statement in SQLITE if bind.dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)
    # fill it from the tickets already there, with the code that keeps it (the words must be the same);
    # a new database has none, and then this revision does not depend on today's code at all
    if bind.execute(sa.text("SELECT 1 FROM tickets LIMIT 1")).first() is not None:
        from services.tickets.adapters.search.embedded import embedded_index

        embedded_index(bind).rebuild()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("ticket_search_au", "ticket_search_ad", "ticket_search_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS ticket_search_fts")
    op.execute("DROP TABLE IF EXISTS ticket_search")
