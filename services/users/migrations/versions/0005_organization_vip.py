"""organizations.vip: the organization is a VIP customer (automation rules match on it)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 09:00:00

Existing organizations are not VIP (the server default). A plain ADD COLUMN, no batch: on SQLite a batch
rebuilds the table, and dropping ``organizations`` while users reference it fails with the foreign keys on
(see 0002); SQLite adds a NOT NULL column in place when it has a default.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organizations", sa.Column("vip", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy would drop a table users still refer to
    op.drop_column("organizations", "vip")
