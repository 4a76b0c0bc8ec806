"""the commands table: RPC commands this service acted on, with their answers (idempotent commands)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:30:00

See ``helpdesk_common.commands``: a redelivered RPC request, or a client's retry with the same
Idempotency-Key, is answered from here instead of acting again.
"""

from alembic import op

from helpdesk_common.migrations import create_command_log, drop_command_log

revision = "0013"
down_revision = "0012"  # after the department projection
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_command_log(op)


def downgrade() -> None:
    drop_command_log(op)
