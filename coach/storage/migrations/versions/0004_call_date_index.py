"""call date index: lists order calls by when they took place (their start, else when stored)

Revision ID: 0004_call_date_index
Revises: 0003_alerts
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_call_date_index'
down_revision = '0003_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_calls_call_date', 'calls', [sa.func.coalesce(sa.column('started_at'), sa.column('created_at'))],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_calls_call_date', table_name='calls')
