"""search: the full-text index of articles' current text, and the tokenizer version it was built with

Revision ID: 0012_search_index
Revises: 0002
Create Date: 2026-11-29

SQLite: a contentless FTS5 table ``article_search`` (rowid = article id).  PostgreSQL: a
table ``article_search(article_id, tsv tsvector)`` with a GIN index.  Both hold
``storage.textsearch.index_text(title, body)`` of each article's current version; the
index is built here for an existing database (see storage/search.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from storage import search

revision: str = '0012_search_index'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    search.create_index_schema(connection)
    search.rebuild(connection)


def downgrade() -> None:
    search.drop_index_schema(op.get_bind())
