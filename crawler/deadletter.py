"""The dead-letter spool: articles that could not be stored wait here for the next run.

A storage outage mid-crawl must not lose items, so the storage pipeline appends
each one it could not record to ``<data_dir>/dead-letter/run-<id>.jsonl``; the
next run records them first.  A file is removed only after all its items were
stored.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from crawler.items import Article
from crawler.settings import data_dir
from storage.repository import Store

logger = logging.getLogger(__name__)


def spool_dir() -> Path:
    return data_dir() / "dead-letter"


def spool(item: Article, run_id: int | None) -> Path:
    folder = spool_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-{run_id}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    return path


def import_spool(store: Store, run_id: int) -> int:
    """Record every spooled article into ``run_id``; returns how many were stored."""
    stored = 0
    for path in sorted(spool_dir().glob("run-*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            try:
                article = Article(**json.loads(line))
            except (ValueError, TypeError) as exc:
                # A line cut by a crash while being written: keep the file for a person.
                logger.error("dead-letter %s line %d is unreadable (%s); file kept", path, number, exc)
                break
            store.record(article, run_id)
            stored += 1
        else:
            path.unlink()
            logger.warning("recorded %d dead-lettered articles from %s", len(lines), path.name)
    return stored
