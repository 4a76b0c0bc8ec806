"""token revocation: users.tokens_valid_after, refresh_tokens.family_started_at

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-04 21:30:00
"""
import sqlalchemy as sa
from alembic import op

import helpdesk_common.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tokens_valid_after', helpdesk_common.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_users_tokens_valid_after', ['tokens_valid_after'], unique=False)
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_started_at', helpdesk_common.db.UtcDateTime(timezone=True), nullable=True))
    # A family open before this migration started with its first link.
    op.execute(
        "UPDATE refresh_tokens SET family_started_at = "
        "(SELECT MIN(first.issued_at) FROM refresh_tokens AS first WHERE first.family_id = refresh_tokens.family_id)"
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.alter_column('family_started_at', existing_type=helpdesk_common.db.UtcDateTime(timezone=True),
                              nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_column('family_started_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_tokens_valid_after')
        batch_op.drop_column('tokens_valid_after')
