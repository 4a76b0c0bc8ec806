"""departments and organizations are unique by name_key (case-folded in full Unicode, NFKC, blanks
collapsed), in the database

Existing rows whose names collide once folded (``É…`` and ``é…`` were two names before) keep the oldest
one's name; each later one is renamed ``<name> (2)``, ``(3)``, … No event announces the rename: the
projections other services keep of departments and organizations hold no names.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 21:30:00
"""

import sqlalchemy as sa
from alembic import op

from helpdesk_contracts.names import NAME_KEY_MAX_CHARS, unique_names

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NAME_MAX = 200
TABLES = ("departments", "organizations")



def upgrade() -> None:
    bind = op.get_bind()
    for name in TABLES:
        # plain ADD COLUMN and CREATE INDEX, no batch: on SQLite a batch rebuilds the table, and dropping
        # ``departments`` while users reference it fails with the foreign keys on (an existing database).
        # So the column stays nullable (SQLite cannot add NOT NULL without that rebuild); the code always
        # sets it, and the unique index is what holds the names apart.
        op.add_column(name, sa.Column("name_key", sa.String(length=NAME_KEY_MAX_CHARS), nullable=True))
        table = sa.table(name, sa.column("id", sa.String), sa.column("name", sa.String),
                         sa.column("name_key", sa.String), sa.column("created_at", sa.DateTime))
        rows = bind.execute(sa.select(table.c.id, table.c.name).order_by(table.c.created_at, table.c.id)).all()
        for row_id, (new_name, key) in unique_names([(r.id, r.name) for r in rows], max_chars=NAME_MAX).items():
            bind.execute(table.update().where(table.c.id == row_id).values(name=new_name, name_key=key))
        op.create_index(f"uq_{name}_name_key", name, ["name_key"], unique=True)


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch_op:
            batch_op.drop_index(f"uq_{name}_name_key")
            batch_op.drop_column("name_key")
