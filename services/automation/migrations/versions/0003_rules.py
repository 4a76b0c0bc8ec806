"""automation rules (unique by name_key, run in position order), their runs (what each did to each
ticket, once per event; loop protection counts them) and the events whose rules are still to run

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 21:35:00
"""

import sqlalchemy as sa
from alembic import op

import helpdesk_common.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("triggers", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_rules_name_key", "rules", ["name_key"], unique=True)
    op.create_index("ix_rules_order", "rules", ["position", "name_key"])
    op.create_table(
        "rule_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("rule_id", sa.String(length=36), nullable=False),
        sa.Column("rule_name", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("trigger", sa.String(length=60), nullable=False),
        sa.Column("at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rule_runs_rule_ticket", "rule_runs", ["rule_id", "ticket_id", "at"])
    op.create_index("ix_rule_runs_ticket", "rule_runs", ["ticket_id", "at"])
    op.create_index("uq_rule_runs_event_rule", "rule_runs", ["event_id", "rule_id"], unique=True)
    op.create_table(
        "rule_book",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rule_jobs",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("created_at", helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_rule_jobs_created", "rule_jobs", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_rule_jobs_created", table_name="rule_jobs")
    op.drop_table("rule_jobs")
    op.drop_table("rule_book")
    op.drop_index("uq_rule_runs_event_rule", table_name="rule_runs")
    op.drop_index("ix_rule_runs_ticket", table_name="rule_runs")
    op.drop_index("ix_rule_runs_rule_ticket", table_name="rule_runs")
    op.drop_table("rule_runs")
    op.drop_index("ix_rules_order", table_name="rules")
    op.drop_index("uq_rules_name_key", table_name="rules")
    op.drop_table("rules")
