"""scheduling: outlet locks (leases), crawl_runs.origin, the APScheduler job table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

``apscheduler_jobs`` is APScheduler 3's own table (``SQLAlchemyJobStore``; no model in
storage/models.py).  It is created here, with exactly the columns the job store
declares, so that it exists before any process starts a job store: two processes
starting one at once would otherwise race on its CREATE TABLE (migrations run under
storage.db's migration lock).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outlet_locks',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', UtcDateTime(), nullable=False),
    sa.Column('renewed_at', UtcDateTime(), nullable=False),
    sa.Column('expires_at', UtcDateTime(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_outlet_locks'))
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=12), server_default='cli', nullable=False))

    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))

    op.drop_table('apscheduler_jobs')
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_column('origin')

    op.drop_table('outlet_locks')
