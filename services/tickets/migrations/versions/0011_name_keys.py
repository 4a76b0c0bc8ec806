"""categories are unique by name_key (case-folded in full Unicode, NFKC, blanks collapsed), in the database

Existing categories whose names collide once folded (``É…`` and ``é…`` were two names before) keep the
oldest one's name; each later one is renamed ``<name> (2)``, ``(3)``, … (tickets keep the text they were
filed under).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 21:30:00
"""

import sqlalchemy as sa
from alembic import op

from helpdesk_contracts.names import NAME_KEY_MAX_CHARS, unique_names

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NAME_MAX = 100

categories = sa.table("ticket_categories", sa.column("id", sa.String), sa.column("name", sa.String),
                      sa.column("name_key", sa.String), sa.column("created_at", sa.DateTime))



def upgrade() -> None:
    with op.batch_alter_table("ticket_categories") as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=NAME_KEY_MAX_CHARS), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(categories.c.id, categories.c.name)
                        .order_by(categories.c.created_at, categories.c.id)).all()
    for row_id, (name, key) in unique_names([(r.id, r.name) for r in rows], max_chars=NAME_MAX).items():
        bind.execute(categories.update().where(categories.c.id == row_id).values(name=name, name_key=key))
    with op.batch_alter_table("ticket_categories") as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=NAME_KEY_MAX_CHARS), nullable=False)
        batch_op.create_index("uq_ticket_categories_name_key", ["name_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("ticket_categories") as batch_op:
        batch_op.drop_index("uq_ticket_categories_name_key")
        batch_op.drop_column("name_key")
