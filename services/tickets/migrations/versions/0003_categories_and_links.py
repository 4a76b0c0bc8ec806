"""categories (admin-managed, with a default department) and links between tickets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:30:00
"""
import sqlalchemy as sa
from alembic import op

import helpdesk_common.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_categories',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('default_department_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name', name='uq_ticket_categories_name')
    )
    op.create_table('ticket_links',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('ticket_id', sa.String(length=36), nullable=False),
    sa.Column('linked_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', helpdesk_common.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.CheckConstraint("kind IN ('related', 'parent', 'child')", name='ck_ticket_links_kind'),
    sa.CheckConstraint('ticket_id <> linked_id', name='ck_ticket_links_not_self'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.ForeignKeyConstraint(['linked_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'linked_id', name='uq_ticket_links_pair')
    )
    with op.batch_alter_table('ticket_links', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_links_linked', ['linked_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_links', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_links_linked')

    op.drop_table('ticket_links')
    op.drop_table('ticket_categories')
