"""the tickets service's projection of departments (which exist), to check a ticket's department_id

Filled by the users service's department.* events and by the reconciliation at start
(DEPARTMENT_SYNC_SECONDS); until then unknown departments are asked of the users service.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:40:00
"""

import sqlalchemy as sa
from alembic import op

import helpdesk_common.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_departments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ticket_departments")
