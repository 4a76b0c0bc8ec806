"""ticket numbers from a sequence on PostgreSQL (SQLite keeps the counter row)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE ticket_number_seq")
    # carry on from the counter: the next number is the counter's value + 1
    op.execute(
        "SELECT setval('ticket_number_seq', GREATEST(value, 1), value > 0) FROM ticket_counters WHERE name = 'ticket'"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "UPDATE ticket_counters SET value = (SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
        "FROM ticket_number_seq) WHERE name = 'ticket'"
    )
    op.execute("DROP SEQUENCE ticket_number_seq")
