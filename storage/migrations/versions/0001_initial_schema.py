"""initial schema: articles, versions, runs, sightings, LSH bands

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spiders', sa.String(length=200), nullable=False),
    sa.Column('outlets', sa.JSON(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('started_at', UtcDateTime(), nullable=False),
    sa.Column('finished_at', UtcDateTime(), nullable=True),
    sa.Column('heartbeat_at', UtcDateTime(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('changed_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), nullable=False),
    sa.Column('dropped_count', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crawl_runs'))
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_runs_status'), ['status'], unique=False)

    op.create_table('articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('canonical_url', sa.String(length=2048), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('outlet', sa.String(length=100), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('published_at', sa.String(length=40), nullable=True),
    sa.Column('author', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('fetched_at', UtcDateTime(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', UtcDateTime(), nullable=False),
    sa.Column('last_seen_at', UtcDateTime(), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_of', sa.Integer(), nullable=True),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.Column('body_chars', sa.Integer(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of'], ['articles.id'], name=op.f('fk_articles_duplicate_of_articles')),
    sa.ForeignKeyConstraint(['first_run_id'], ['crawl_runs.id'], name=op.f('fk_articles_first_run_id_crawl_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articles')),
    sa.UniqueConstraint('canonical_url', name=op.f('uq_articles_canonical_url'))
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_body_hash'), ['body_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_duplicate_of'), ['duplicate_of'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_outlet'), ['outlet'], unique=False)
        batch_op.create_index('ix_articles_outlet_first_seen', ['outlet', 'first_seen_at'], unique=False)

    op.create_table('run_problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], name=op.f('fk_run_problems_run_id_crawl_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_run_problems'))
    )
    with op.batch_alter_table('run_problems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_problems_run_id'), ['run_id'], unique=False)

    op.create_table('article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('published_at', sa.String(length=40), nullable=True),
    sa.Column('author', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('fetched_at', UtcDateTime(), nullable=False),
    sa.Column('recorded_at', UtcDateTime(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_versions_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], name=op.f('fk_article_versions_run_id_crawl_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_versions')),
    sa.UniqueConstraint('article_id', 'version', name=op.f('uq_article_versions_article_id'))
    )
    op.create_table('article_signatures',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_signatures_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_signatures'))
    )
    op.create_table('minhash_bands',
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('band', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_minhash_bands_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'band', 'article_id', name=op.f('pk_minhash_bands'))
    )
    with op.batch_alter_table('minhash_bands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minhash_bands_article_id'), ['article_id'], unique=False)

    op.create_table('sightings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('seen_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_sightings_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], name=op.f('fk_sightings_run_id_crawl_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sightings'))
    )
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sightings_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sightings_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sightings_run_id'))
        batch_op.drop_index(batch_op.f('ix_sightings_article_id'))

    op.drop_table('sightings')
    with op.batch_alter_table('minhash_bands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minhash_bands_article_id'))

    op.drop_table('minhash_bands')
    op.drop_table('article_signatures')
    op.drop_table('article_versions')
    with op.batch_alter_table('run_problems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_problems_run_id'))

    op.drop_table('run_problems')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index('ix_articles_outlet_first_seen')
        batch_op.drop_index(batch_op.f('ix_articles_outlet'))
        batch_op.drop_index(batch_op.f('ix_articles_duplicate_of'))
        batch_op.drop_index(batch_op.f('ix_articles_body_hash'))

    op.drop_table('articles')
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_runs_status'))

    op.drop_table('crawl_runs')
