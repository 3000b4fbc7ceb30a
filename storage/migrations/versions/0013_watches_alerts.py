"""watches and alerts: version classification and lifecycle events, watches, matches, outbox

Revision ID: 0013_watches_alerts
Revises: 0002
Create Date: 2026-11-29

``article_versions`` gains what changed from the version before (``changes``) and the
lifecycle event a version records (``removed``/``restored`` with reason and evidence);
``articles`` its lifecycle state and last revisit; ``crawl_runs`` when the watches were
evaluated on it.  New: ``watches``, ``watch_matches`` (unique per watch, article, version,
event), ``watch_outbox`` and ``watch_delivery_attempts``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision: str = '0013_watches_alerts'
down_revision: str | None = '0012_search_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('article_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('event', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('event_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('event_evidence', sa.JSON(), nullable=True))
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lifecycle', sa.String(length=10), server_default='live', nullable=False))
        batch_op.add_column(sa.Column('checked_at', UtcDateTime(), nullable=True))
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watched_at', UtcDateTime(), nullable=True))

    op.create_table('watches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('outlets', sa.JSON(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=4), nullable=True),
    sa.Column('include_cosmetic', sa.Boolean(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('start_version_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watches')),
    sa.UniqueConstraint('name', name=op.f('uq_watches_name'))
    )
    op.create_table('watch_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=10), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('outlet', sa.String(length=100), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('published_at', sa.String(length=40), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_watch_matches_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['watch_id'], ['watches.id'], name=op.f('fk_watch_matches_watch_id_watches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_matches')),
    sa.UniqueConstraint('watch_id', 'article_id', 'version', 'event', name=op.f('uq_watch_matches_watch_id'))
    )
    op.create_index('ix_watch_matches_watch_created', 'watch_matches', ['watch_id', 'created_at'], unique=False)
    op.create_table('watch_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', UtcDateTime(), nullable=False),
    sa.Column('lease_until', UtcDateTime(), nullable=True),
    sa.Column('lease_holder', sa.String(length=255), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('sent_at', UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['match_id'], ['watch_matches.id'], name=op.f('fk_watch_outbox_match_id_watch_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['watch_id'], ['watches.id'], name=op.f('fk_watch_outbox_watch_id_watches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_watch_outbox_idempotency_key'))
    )
    op.create_index('ix_watch_outbox_status_next', 'watch_outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_watch_outbox_watch_id'), 'watch_outbox', ['watch_id'], unique=False)
    op.create_table('watch_delivery_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('at', UtcDateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['outbox_id'], ['watch_outbox.id'], name=op.f('fk_watch_delivery_attempts_outbox_id_watch_outbox'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_delivery_attempts'))
    )
    op.create_index(op.f('ix_watch_delivery_attempts_outbox_id'), 'watch_delivery_attempts', ['outbox_id'], unique=False)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite >= 3.35): recreating `articles` would drop
    # the old table, and SQLite's implicit DELETE would cascade to every article version.
    op.drop_index(op.f('ix_watch_delivery_attempts_outbox_id'), table_name='watch_delivery_attempts')
    op.drop_table('watch_delivery_attempts')
    op.drop_index(op.f('ix_watch_outbox_watch_id'), table_name='watch_outbox')
    op.drop_index('ix_watch_outbox_status_next', table_name='watch_outbox')
    op.drop_table('watch_outbox')
    op.drop_index('ix_watch_matches_watch_created', table_name='watch_matches')
    op.drop_table('watch_matches')
    op.drop_table('watches')
    with op.batch_alter_table('crawl_runs', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('watched_at')
    with op.batch_alter_table('articles', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('checked_at')
        batch_op.drop_column('lifecycle')
    with op.batch_alter_table('article_versions', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('event_evidence')
        batch_op.drop_column('event_reason')
        batch_op.drop_column('event')
        batch_op.drop_column('changes')
