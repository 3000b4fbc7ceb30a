"""The dead-letter spool: articles that could not be stored wait here for the next run.

A storage outage mid-crawl must not lose items, so the storage pipeline appends
each one it could not record to ``<data_dir>/dead-letter/<database key>/run-<id>.jsonl``;
the next run against the same database records them first.  The spool is per
database (a key derived from its URL, password left out), so one database never
imports another's items.

Import is line by line: a line torn by a crash or a full disk is moved to
``<file>.torn`` for a person to look at, the good lines are recorded exactly once,
and the file is removed.  If the database fails during the import, the lines not
yet recorded are written back, so none is counted twice or lost.

The folders are 0700 and the files 0600: they hold crawled text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from crawler.items import Article
from crawler.settings import data_dir
from storage.repository import Store

logger = logging.getLogger(__name__)


def database_key(db_url: str) -> str:
    """A stable folder name for one database: its URL's hash, the password left out."""
    try:
        shown = make_url(db_url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = db_url
    return hashlib.sha256(shown.encode("utf-8")).hexdigest()[:16]


def spool_dir(db_url: str) -> Path:
    return data_dir() / "dead-letter" / database_key(db_url)


def spool(item: Article, run_id: int | None, db_url: str) -> Path:
    """Append ``item`` to the spool; raises ``OSError`` (e.g. disk full) if it is not on disk."""
    folder = spool_dir(db_url)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"run-{run_id}.jsonl"
    line = (json.dumps(item.to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, line)
        if written != len(line):  # a short write: the rest did not fit
            raise OSError(f"only {written} of {len(line)} bytes written")
        os.fsync(fd)  # "spooled" means on disk, not in a page cache that a crash loses
    finally:
        os.close(fd)
    return path


def import_spool(store: Store, run_id: int) -> int:
    """Record every article spooled for this database into ``run_id``; returns how many."""
    stored = 0
    for path in sorted(spool_dir(store.db.url).glob("run-*.jsonl")):
        stored += _import_file(store, run_id, path)
    return stored


def _import_file(store: Store, run_id: int, path: Path) -> int:
    lines = path.read_bytes().splitlines(keepends=True)
    stored = torn = 0
    for index, raw in enumerate(lines):
        try:
            if not raw.endswith(b"\n"):
                raise ValueError("line ends without a newline (cut off while being written)")
            article = Article(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            _quarantine(path, raw)
            torn += 1
            logger.error("dead-letter %s line %d is unreadable (%s); moved to %s.torn", path, index + 1, exc, path.name)
            continue
        try:
            store.record(article, run_id)
        except Exception:
            _write_back(path, lines[index:])  # nothing recorded twice, nothing lost
            raise
        stored += 1
    path.unlink()
    logger.warning("recorded %d dead-lettered articles from %s (%d torn lines quarantined)", stored, path.name, torn)
    return stored


def _quarantine(path: Path, raw: bytes) -> None:
    fd = os.open(path.with_name(path.name + ".torn"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, raw if raw.endswith(b"\n") else raw + b"\n")
    finally:
        os.close(fd)


def _write_back(path: Path, remaining: list[bytes]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"".join(remaining))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
