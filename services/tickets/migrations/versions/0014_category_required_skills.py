"""ticket_categories.required_skills: the skills an agent must hold to be routed a category's tickets

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-11 09:00:00

Existing categories require none (the server default, ``[]``). A plain ADD COLUMN, no batch: SQLite adds
a NOT NULL column in place when it has a constant default, and PostgreSQL fills it without a rewrite.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket_categories",
                  sa.Column("required_skills", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), as the upgrade added it
    op.drop_column("ticket_categories", "required_skills")
