"""on SQLite, the partial indexes of tracked_tickets say ``working = 1``, as the queries do: SQLite uses a
partial index only when the query's WHERE names its condition alike (``working`` alone is not matched by
SQLAlchemy's ``working = 1``, so every agent's load was a scan of the whole table); PostgreSQL is unchanged

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 22:58:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = {  # name: (columns, old condition, new condition)
    "ix_tracked_tickets_load": (["assignee_id"], "working", "working = 1"),
    "ix_tracked_tickets_backlog": (["department_id", "priority_rank", "created_at"], "working AND assignee_id IS NULL",
                                   "working = 1 AND assignee_id IS NULL"),
}


def _recreate(condition: int) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, (columns, *conditions) in INDEXES.items():
        op.drop_index(name, table_name="tracked_tickets")
        op.create_index(name, "tracked_tickets", columns, sqlite_where=sa.text(conditions[condition]))


def upgrade() -> None:
    _recreate(1)


def downgrade() -> None:
    _recreate(0)
