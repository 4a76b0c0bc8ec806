"""index tickets by updated_at (lists sorted by it; a search's newest matches) and by organization (shared tickets)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_updated", "tickets", ["updated_at"], unique=False)
    op.create_index("ix_tickets_organization", "tickets", ["organization_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tickets_organization", table_name="tickets")
    op.drop_index("ix_tickets_updated", table_name="tickets")
