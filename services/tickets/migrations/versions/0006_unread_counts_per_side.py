"""unread counts and read times of the public thread, per side (requester, agents)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import helpdesk_common.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requester_unread", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("agents_unread", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("requester_read_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("agents_read_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy would drop a table comments still refer to
    for column in ("agents_read_at", "requester_read_at", "agents_unread", "requester_unread"):
        op.drop_column("tickets", column)
