"""monitoring: aggregates, state, config, alert rules, alerts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 16:08:54.717292
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import steward.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('deployment', sa.String(length=100), nullable=False),
    sa.Column('version', sa.String(length=120), nullable=True),
    sa.Column('feature', sa.String(length=200), nullable=True),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('comparator', sa.String(length=4), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('window', sa.String(length=16), nullable=False),
    sa.Column('retrain', sa.Boolean(), nullable=False),
    sa.Column('auto_resolve', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules'))
    )
    with op.batch_alter_table('alert_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_rules_deployment'), ['deployment'], unique=False)

    op.create_table('monitor_buckets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('deployment', sa.String(length=100), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('start', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('counts', sa.LargeBinary(), nullable=False),
    sa.Column('sums', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_buckets')),
    sa.UniqueConstraint('deployment', 'version_id', 'route', 'start', name=op.f('uq_monitor_buckets_deployment'))
    )
    with op.batch_alter_table('monitor_buckets', schema=None) as batch_op:
        batch_op.create_index('ix_monitor_buckets_deployment_start', ['deployment', 'start'], unique=False)

    op.create_table('monitor_configs',
    sa.Column('deployment', sa.String(length=100), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('deployment', name=op.f('pk_monitor_configs'))
    )
    op.create_table('monitor_state',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=True),
    sa.Column('expires_at', steward.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_monitor_state'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('open_key', sa.String(length=400), nullable=True),
    sa.Column('deployment', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('retrain', sa.Boolean(), nullable=False),
    sa.Column('opened_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', steward.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', steward.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alerts_rule_id_alert_rules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('open_key', name=op.f('uq_alerts_open_key'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_deployment'), ['deployment'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_alerts_rule_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_deployment'))

    op.drop_table('alerts')
    op.drop_table('monitor_state')
    op.drop_table('monitor_configs')
    with op.batch_alter_table('monitor_buckets', schema=None) as batch_op:
        batch_op.drop_index('ix_monitor_buckets_deployment_start')

    op.drop_table('monitor_buckets')
    with op.batch_alter_table('alert_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_rules_deployment'))

    op.drop_table('alert_rules')
