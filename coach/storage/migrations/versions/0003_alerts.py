"""alerts: what was raised to supervisors during live calls, and who acknowledged it when

Revision ID: 0003_alerts
Revises: 0002_call_warnings
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0003_alerts'
down_revision = '0002_call_warnings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('call_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('rule_id', sa.String(length=100), nullable=True),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('severity', sa.String(length=2), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('time', sa.Float(), nullable=True),
    sa.Column('utterance_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.String(length=200), nullable=True),
    sa.Column('team', sa.String(length=200), nullable=True),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_team'), ['team'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_raised_at'), ['raised_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_raised_at'))
        batch_op.drop_index(batch_op.f('ix_alerts_team'))
        batch_op.drop_index(batch_op.f('ix_alerts_agent_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_call_id'))
    op.drop_table('alerts')
