"""shared crawl state: HTTP validators, dispatched jobs, the worker of each run

Revision ID: 0015_shared_crawl_state
Revises: 0002
Create Date: 2026-11-29

What a crawl keeps between runs moves from the local disk into the database, so that a
job moved to another machine still revalidates (``http_validators``), and a dispatched
crawl is recorded once per due time (``crawl_dispatches``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision: str = '0015_shared_crawl_state'
down_revision: str | None = '0013_watches_alerts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('http_validators',
    sa.Column('url_key', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('etag', sa.String(length=512), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=True),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('seen_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_http_validators_article_id_articles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('url_key', name=op.f('pk_http_validators'))
    )
    with op.batch_alter_table('http_validators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_http_validators_seen_at'), ['seen_at'], unique=False)

    op.create_table('crawl_dispatches',
    sa.Column('job_key', sa.String(length=255), nullable=False),
    sa.Column('outlet', sa.String(length=100), nullable=False),
    sa.Column('due_at', UtcDateTime(), nullable=False),
    sa.Column('dispatched_at', UtcDateTime(), nullable=False),
    sa.Column('dispatcher', sa.String(length=255), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('job_key', name=op.f('pk_crawl_dispatches'))
    )
    with op.batch_alter_table('crawl_dispatches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_dispatches_outlet'), ['outlet'], unique=False)

    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('job_key', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_crawl_runs_job_key'), ['job_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_runs_job_key'))
        batch_op.drop_column('job_key')
        batch_op.drop_column('worker')
    with op.batch_alter_table('crawl_dispatches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_dispatches_outlet'))
    op.drop_table('crawl_dispatches')
    with op.batch_alter_table('http_validators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_http_validators_seen_at'))
    op.drop_table('http_validators')
