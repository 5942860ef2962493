"""predictions: drop the request_id index (the unique (request_id, route, version_id) index
already serves lookups by request id; one B-tree less to update per logged request)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:30:00
"""
from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_predictions_request_id'))


def downgrade() -> None:
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_predictions_request_id'), ['request_id'],
                              unique=False)
