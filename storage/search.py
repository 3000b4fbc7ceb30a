"""The full-text index of articles' current text: SQLite FTS5 or a PostgreSQL tsvector + GIN.

Both engines index the output of :func:`storage.textsearch.index_text` (Chinese bigrams,
Latin words, already normalised), so neither engine's own tokenizer decides anything that
matters: FTS5 ``unicode61`` and PostgreSQL's ``simple`` configuration just split on spaces.

* SQLite: ``article_search`` is a contentless FTS5 table (``content=''``), rowid = article
  id, with two columns: ``tokens`` (the text) and ``filters`` (outlet, language and
  published day as tokens, storage/search_filters.py).  SQLite 3.40 has no ``contentless_delete``, so re-indexing an edited article first
  issues FTS5's ``'delete'`` command with the tokens of the version being replaced
  (regenerated from that version's stored title, body, language and date, in the same
  transaction).
* PostgreSQL: ``article_search(article_id, tsv, outlet, language, day)`` with a stored
  ``tsvector`` and a GIN index, and a btree on (each filter column, article_id).  (A GIN on the expression ``to_tsvector(...)`` rechecks phrases by recomputing
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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.search_filters import day_of, filter_tokens
from storage.textsearch import TOKENIZER_VERSION, Query, Term, index_text

logger = logging.getLogger(__name__)

SEARCH_TABLE = "article_search"
STATE_TABLE = "search_index_state"
GIN_INDEX = f"ix_{SEARCH_TABLE}_tsv"
#: PostgreSQL: the filter columns, each with a btree on (column, article_id).
FILTER_COLUMNS = ("outlet", "language", "day")


@dataclass(frozen=True)
class Entry:
    """What the index holds for one article: its text's tokens and the filtered-on values."""

    #: ``index_text(title, body)``.
    tokens: str
    outlet: str
    language: str
    published_at: str | None

    def params(self, pg: bool) -> dict[str, Any]:
        if pg:
            return {"tokens": self.tokens, "outlet": self.outlet, "language": self.language,
                    "day": day_of(self.published_at)}
        return {"tokens": self.tokens, "filters": filter_tokens(self.outlet, self.language, self.published_at)}


@dataclass(frozen=True)
class Replaced:
    """The version an edit replaces, as the index was given it (tokenized only for FTS5)."""

    title: str
    body: str
    outlet: str
    language: str
    published_at: str | None


def is_index_table(name: str) -> bool:
    """Tables of the index (FTS5 adds shadow tables ``article_search_*``): not in the models."""
    return name in (STATE_TABLE, SEARCH_TABLE) or name.startswith(SEARCH_TABLE + "_")


#: Articles indexed per batch when the index is (re)built.
REBUILD_BATCH = 500


# -- schema (used by the migration) ----------------------------------------------------


def create_index_schema(connection: Connection) -> None:
    """The index table and the state table; empty."""
    create_index_table(connection)
    connection.execute(
        text(f"CREATE TABLE {STATE_TABLE} (name VARCHAR(40) PRIMARY KEY, value INTEGER NOT NULL)")
    )


def create_index_table(connection: Connection) -> None:
    """The index table with its filter columns (migration 0016 replaced 0012's), empty."""
    if connection.dialect.name == "postgresql":
        # The columns' types are those of articles.outlet/language/published_at, so
        # comparisons (and collation) are the ones the article-row filters made.
        connection.execute(
            text(
                f"CREATE TABLE {SEARCH_TABLE} ("
                " article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,"
                " tsv TSVECTOR NOT NULL, outlet VARCHAR(100) NOT NULL, language VARCHAR(8) NOT NULL,"
                " day VARCHAR(40))"
            )
        )
        create_gin_index(connection)
        create_filter_indexes(connection)
    else:
        # remove_diacritics 0: the tokens are already normalised by textsearch; FTS5 must
        # not fold them any further, or query and index could disagree.
        connection.execute(
            text(
                f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5("
                " tokens, filters, content='', tokenize='unicode61 remove_diacritics 0')"
            )
        )


def create_filter_indexes(connection: Connection) -> None:
    """PostgreSQL: a btree on (filter column, article_id) each, walked newest first."""
    for column in FILTER_COLUMNS:
        connection.execute(
            text(f"CREATE INDEX IF NOT EXISTS ix_{SEARCH_TABLE}_{column} ON {SEARCH_TABLE} ({column}, article_id)")
        )


def create_gin_index(connection: Connection) -> None:
    """PostgreSQL: the GIN index on the stored tsvectors (also rebuilt by storage.bulk)."""
    connection.execute(text(f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON {SEARCH_TABLE} USING GIN (tsv)"))


def drop_gin_index(connection: Connection) -> None:
    connection.execute(text(f"DROP INDEX IF EXISTS {GIN_INDEX}"))


def has_filters(connection: Connection) -> bool:
    """Whether the index table has the filter columns (created since migration 0016)."""
    if connection.dialect.name == "postgresql":
        found = connection.execute(
            text("SELECT 1 FROM information_schema.columns WHERE table_name = :t AND column_name = 'outlet'"
                 " AND table_schema = current_schema()"),
            {"t": SEARCH_TABLE},
        ).first()
    else:
        found = connection.execute(
            text("SELECT 1 FROM pragma_table_info(:t) WHERE name = 'filters'"), {"t": SEARCH_TABLE}
        ).first()
    return found is not None


def add_filters(connection: Connection) -> None:
    """Give an index built without filter columns its filters (migration 0016).

    PostgreSQL copies the entries aside with the values from the article rows and loads
    them back into the emptied table, then builds its indexes: an UPDATE of every row
    would leave as many dead rows (a table twice its size until vacuumed, every search
    visiting more pages) and re-insert every tsvector into the GIN index.  An FTS5 table
    cannot gain a column: it is made anew and rebuilt, tokenizing every article's current
    version again, as a tokenizer change does.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text(
            "CREATE TEMPORARY TABLE search_entries AS"
            " SELECT s.article_id, s.tsv, a.outlet, a.language, substr(a.published_at, 1, 10) AS day"
            f" FROM {SEARCH_TABLE} s JOIN articles a ON a.id = s.article_id"
        ))
        drop_gin_index(connection)
        connection.execute(text(f"TRUNCATE {SEARCH_TABLE}"))
        connection.execute(text(
            f"ALTER TABLE {SEARCH_TABLE} ADD COLUMN outlet VARCHAR(100) NOT NULL, ADD COLUMN language VARCHAR(8) NOT NULL,"
            " ADD COLUMN day VARCHAR(40)"
        ))
        connection.execute(text(
            f"INSERT INTO {SEARCH_TABLE} (article_id, tsv, outlet, language, day)"
            " SELECT article_id, tsv, outlet, language, day FROM search_entries ORDER BY article_id"
        ))
        connection.execute(text("DROP TABLE search_entries"))
        connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        create_gin_index(connection)
        create_filter_indexes(connection)
        return
    connection.execute(text(f"DROP TABLE {SEARCH_TABLE}"))
    create_index_table(connection)
    count = rebuild(connection)
    logger.warning("search index rebuilt with its filters: %d articles", count)


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
            f"INSERT INTO {SEARCH_TABLE} (article_id, tsv, outlet, language, day)"
            " VALUES (:id, to_tsvector('simple', :tokens), :outlet, :language, :day)"
            " ON CONFLICT (article_id) DO UPDATE SET tsv = excluded.tsv, outlet = excluded.outlet,"
            " language = excluded.language, day = excluded.day"
        )
    return f"INSERT INTO {SEARCH_TABLE} (rowid, tokens, filters) VALUES (:id, :tokens, :filters)"


def _put(db: Session | Connection, article_id: int, entry: Entry) -> None:
    pg = _is_pg(db)
    db.execute(text(_put_sql(pg)), {"id": article_id, **entry.params(pg)})


def index_many(connection: Connection, entries: list[tuple[int, Entry]]) -> None:
    """Index articles not yet in the index (storage.bulk, rebuild), by executemany."""
    if entries:
        pg = _is_pg(connection)
        connection.execute(text(_put_sql(pg)), [{"id": i, **entry.params(pg)} for i, entry in entries])


def index_new(session: Session, article_id: int, entry: Entry) -> None:
    """Index a newly recorded article (inside the recording transaction).

    ``entry.tokens`` is ``index_text(title, body)``, computed before the transaction began
    so that the write lock is not held while Python tokenizes.
    """
    _put(session, article_id, entry)


def reindex(session: Session, article_id: int, old: Replaced, new: Entry) -> None:
    """Replace an article's entry, made from ``old``, by ``new`` (inside the recording transaction).

    FTS5 (contentless) deletes by the exact tokens that were indexed, so ``old`` must be
    the replaced version's title and body and the article row's outlet, language and
    published date before the edit.
    """
    if not _is_pg(session):
        replaced = Entry(index_text(old.title, old.body), old.outlet, old.language, old.published_at)
        session.execute(
            text(
                f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, tokens, filters)"
                " VALUES ('delete', :id, :tokens, :filters)"
            ),
            {"id": article_id, **replaced.params(pg=False)},
        )
    _put(session, article_id, new)


def stored_version(connection: Connection) -> int | None:
    value = connection.execute(
        text(f"SELECT value FROM {STATE_TABLE} WHERE name = 'tokenizer_version'")
    ).scalar()
    return None if value is None else int(value)


def rebuild(connection: Connection) -> int:
    """Index every article's current version from scratch; returns how many were indexed.

    Articles are read and indexed REBUILD_BATCH at a time (keyset pages by id), so memory
    stays bounded whatever the number of articles.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DELETE FROM {SEARCH_TABLE}"))
    else:
        connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('delete-all')"))
    count, after = 0, 0
    while True:
        rows = connection.execute(
            text(
                "SELECT a.id, v.title, v.body, a.outlet, a.language, a.published_at"
                " FROM articles a JOIN article_versions v"
                " ON v.article_id = a.id AND v.version = a.version_count"
                " WHERE a.id > :after ORDER BY a.id LIMIT :n"
            ),
            {"after": after, "n": REBUILD_BATCH},
        ).all()
        if not rows:
            break
        # One executemany per batch (sqlite3 loops in C, psycopg pipelines): a statement per
        # article cost a round trip and SQLAlchemy's per-call overhead each.  The tokens are
        # Python's (index_text), so the database cannot build the entries by INSERT ... SELECT.
        index_many(connection, [
            (article_id, Entry(index_text(title, body), outlet, language, published_at))
            for article_id, title, body, outlet, language, published_at in rows
        ])
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


def fts5_match(query: Query, filters: str | None = None) -> str:
    """An FTS5 MATCH expression: every include term AND-ed, each exclude term NOT-ed out,
    confined to the ``tokens`` column, AND the ``filters`` (search_filters.fts5_filters).

    Each term is a quoted string (quotes doubled), so operators and column filters
    typed by a user are only ever text.
    """
    if query.empty:
        raise ValueError("an empty query matches nothing")
    expression = "(" + " AND ".join(_fts5_term(t) for t in query.include) + ")"
    for term in query.exclude:
        expression = f"({expression} NOT {_fts5_term(term)})"
    expression = f"(tokens : {expression})"
    return f"{expression} AND {filters}" if filters else expression


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
