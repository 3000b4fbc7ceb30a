"""The full-text index of articles' current text: SQLite FTS5 or a PostgreSQL tsvector + GIN.

Both engines index the output of :func:`storage.textsearch.index_text` (Chinese bigrams,
Latin words, already normalised), so neither engine's own tokenizer decides anything that
matters: FTS5 ``unicode61`` and PostgreSQL's ``simple`` configuration just split on spaces.

* SQLite: ``article_search`` is a contentless FTS5 table (``content=''``), rowid = article
  id.  SQLite 3.40 has no ``contentless_delete``, so re-indexing an edited article first
  issues FTS5's ``'delete'`` command with the tokens of the version being replaced
  (regenerated from that version's stored title and body, in the same transaction).
* PostgreSQL: ``article_search(article_id, tsv)`` with a stored ``tsvector`` and a GIN
  index.  (A GIN on the expression ``to_tsvector(...)`` rechecks phrases by recomputing
  the vector: seconds, not milliseconds; see the design notes.)

``search_index_state`` holds the tokenizer version the index was built with; opening the
database for writing rebuilds the index when it differs from
:data:`storage.textsearch.TOKENIZER_VERSION`.

Queries are compiled from :func:`storage.textsearch.parse_query`; every user-supplied
string reaches the engine as a bound parameter and, for FTS5, inside a double-quoted
string with its quotes doubled, so no query syntax of either engine can be injected.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.textsearch import TOKENIZER_VERSION, Query, Term, index_text

logger = logging.getLogger(__name__)

SEARCH_TABLE = "article_search"
STATE_TABLE = "search_index_state"
GIN_INDEX = f"ix_{SEARCH_TABLE}_tsv"


def is_index_table(name: str) -> bool:
    """Tables of the index (FTS5 adds shadow tables ``article_search_*``): not in the models."""
    return name in (STATE_TABLE, SEARCH_TABLE) or name.startswith(SEARCH_TABLE + "_")


#: Articles indexed per batch when the index is (re)built.
REBUILD_BATCH = 500


# -- schema (used by the migration) ----------------------------------------------------


def create_index_schema(connection: Connection) -> None:
    """The index table and the state table; empty."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                f"CREATE TABLE {SEARCH_TABLE} ("
                " article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,"
                " tsv TSVECTOR NOT NULL)"
            )
        )
        create_gin_index(connection)
    else:
        # remove_diacritics 0: the tokens are already normalised by textsearch; FTS5 must
        # not fold them any further, or query and index could disagree.
        connection.execute(
            text(
                f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5("
                " tokens, content='', tokenize='unicode61 remove_diacritics 0')"
            )
        )
    connection.execute(
        text(f"CREATE TABLE {STATE_TABLE} (name VARCHAR(40) PRIMARY KEY, value INTEGER NOT NULL)")
    )


def create_gin_index(connection: Connection) -> None:
    """PostgreSQL: the GIN index on the stored tsvectors (also rebuilt by storage.bulk)."""
    connection.execute(text(f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON {SEARCH_TABLE} USING GIN (tsv)"))


def drop_gin_index(connection: Connection) -> None:
    connection.execute(text(f"DROP INDEX IF EXISTS {GIN_INDEX}"))


def drop_index_schema(connection: Connection) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS {SEARCH_TABLE}"))
    connection.execute(text(f"DROP TABLE IF EXISTS {STATE_TABLE}"))


# -- maintenance ---------------------------------------------------------------------------


def _is_pg(session_or_connection: Session | Connection) -> bool:
    bind = session_or_connection.get_bind() if isinstance(session_or_connection, Session) else session_or_connection
    return bind.dialect.name == "postgresql"


def _put_sql(pg: bool) -> str:
    if pg:
        return (
            f"INSERT INTO {SEARCH_TABLE} (article_id, tsv) VALUES (:id, to_tsvector('simple', :tokens))"
            " ON CONFLICT (article_id) DO UPDATE SET tsv = excluded.tsv"
        )
    return f"INSERT INTO {SEARCH_TABLE} (rowid, tokens) VALUES (:id, :tokens)"


def _put(db: Session | Connection, article_id: int, tokens: str) -> None:
    db.execute(text(_put_sql(_is_pg(db))), {"id": article_id, "tokens": tokens})


def index_many(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Index articles not yet in the index (``{"id", "tokens"}`` each; storage.bulk), by executemany."""
    if rows:
        connection.execute(text(_put_sql(_is_pg(connection))), rows)


def index_new(session: Session, article_id: int, tokens: str) -> None:
    """Index a newly recorded article (inside the recording transaction).

    ``tokens`` is ``index_text(title, body)``, computed before the transaction began so
    that the write lock is not held while Python tokenizes.
    """
    _put(session, article_id, tokens)


def reindex(session: Session, article_id: int, old_title: str, old_body: str, tokens: str) -> None:
    """Replace an article's entry by its new version's ``tokens`` (inside the recording transaction)."""
    if not _is_pg(session):
        session.execute(
            text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, tokens) VALUES ('delete', :id, :tokens)"),
            {"id": article_id, "tokens": index_text(old_title, old_body)},
        )
    _put(session, article_id, tokens)


def stored_version(connection: Connection) -> int | None:
    value = connection.execute(
        text(f"SELECT value FROM {STATE_TABLE} WHERE name = 'tokenizer_version'")
    ).scalar()
    return None if value is None else int(value)


def rebuild(connection: Connection) -> int:
    """Index every article's current version from scratch; returns how many were indexed."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DELETE FROM {SEARCH_TABLE}"))
    else:
        connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('delete-all')"))
    count, after = 0, 0
    while True:
        rows = connection.execute(
            text(
                "SELECT a.id, v.title, v.body FROM articles a JOIN article_versions v"
                " ON v.article_id = a.id AND v.version = a.version_count"
                " WHERE a.id > :after ORDER BY a.id LIMIT :n"
            ),
            {"after": after, "n": REBUILD_BATCH},
        ).all()
        if not rows:
            break
        for article_id, title, body in rows:
            _put(connection, article_id, index_text(title, body))
        count += len(rows)
        after = rows[-1][0]
    connection.execute(text(f"DELETE FROM {STATE_TABLE} WHERE name = 'tokenizer_version'"))
    connection.execute(
        text(f"INSERT INTO {STATE_TABLE} (name, value) VALUES ('tokenizer_version', :v)"),
        {"v": TOKENIZER_VERSION},
    )
    return count


def rebuild_if_stale(connection: Connection) -> bool:
    """Rebuild when the index was built by another tokenizer version (called on open)."""
    found = stored_version(connection)
    if found == TOKENIZER_VERSION:
        return False
    count = rebuild(connection)
    logger.warning(
        "search index rebuilt for tokenizer version %s (was %s): %d articles",
        TOKENIZER_VERSION, found, count,
    )
    return True


# -- query compilation ---------------------------------------------------------------------


def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _fts5_term(term: Term) -> str:
    if term.prefix:
        return _fts5_string(term.tokens[0]) + "*"
    # Tokens inside one quoted string form a phrase in FTS5.
    return _fts5_string(" ".join(term.tokens))


def fts5_match(query: Query) -> str:
    """An FTS5 MATCH expression: every include term AND-ed, each exclude term NOT-ed out.

    Each term is a quoted string (quotes doubled), so operators and column filters
    typed by a user are only ever text.
    """
    if query.empty:
        raise ValueError("an empty query matches nothing")
    expression = "(" + " AND ".join(_fts5_term(t) for t in query.include) + ")"
    for term in query.exclude:
        expression = f"({expression} NOT {_fts5_term(term)})"
    return expression


def _tsquery_literal(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def pg_tsquery(query: Query, prefix: str = "q") -> tuple[str, dict[str, Any]]:
    """A tsquery SQL expression with bound parameters (names start with ``prefix``)."""
    if query.empty:
        raise ValueError("an empty query matches nothing")
    params: dict[str, Any] = {}

    def compile_term(term: Term) -> str:
        name = f"{prefix}{len(params)}"
        if term.prefix:
            params[name] = _tsquery_literal(term.tokens[0]) + ":*"
            return f"to_tsquery('simple', :{name})"
        params[name] = " ".join(term.tokens)
        return f"phraseto_tsquery('simple', :{name})"

    expression = " && ".join(compile_term(t) for t in query.include)
    for term in query.exclude:
        expression += f" && !!{compile_term(term)}"
    return f"({expression})", params
