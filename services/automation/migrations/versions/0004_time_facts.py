"""what time-based rules read of a tracked ticket (its tags, last activity, first response, when it entered
its status and since when its requester awaits an agent's reply) and the skills its category needs

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 21:58:00
"""

import sqlalchemy as sa
from alembic import op

import helpdesk_common.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("activity_at", "first_response_at", "status_since", "awaiting_agent_since")


def upgrade() -> None:
    op.add_column("tracked_tickets", sa.Column("tags", sa.JSON(), nullable=True))
    op.add_column("tracked_tickets", sa.Column("required_skills", sa.JSON(), nullable=True))
    for name in COLUMNS:
        op.add_column("tracked_tickets", sa.Column(name, helpdesk_common.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tracked_tickets") as batch:
        for name in ("tags", "required_skills", *COLUMNS):
            batch.drop_column(name)
