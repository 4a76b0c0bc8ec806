"""response templates (canned responses), unique by name_key (the name case-folded in full Unicode, NFKC,
blanks collapsed)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 19:04:38
"""

import sqlalchemy as sa
from alembic import op

import helpdesk_common.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_response_templates_name_key", "response_templates", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_response_templates_name_key", table_name="response_templates")
    op.drop_table("response_templates")
