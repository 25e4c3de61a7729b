"""notes can be corrected: when a note was last edited by its author

Revision ID: 0005_note_edited_at
Revises: 0004_call_date_index
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_note_edited_at'
down_revision = '0004_call_date_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_column('edited_at')
