"""the tickets service's projection of organizations (do their members share tickets?)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import helpdesk_common.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_organizations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("shared_tickets", sa.Boolean(), nullable=False),
        sa.Column("updated_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ticket_organizations")
