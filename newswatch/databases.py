"""One open database per URL per process, shared by the CLI, the scheduler, the workers and the crawlers.

Its own small module: a command that only reads the database (``items list``, ``runs
show``) gets its engine from here without importing the run owner, which brings Scrapy,
Twisted and every parser with it.
"""

from __future__ import annotations

import threading

from storage.db import Database, open_database

_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def database(url: str) -> Database:
    """One engine per database per process, however many commands and crawlers use it."""
    with _databases_lock:
        if url not in _databases:
            _databases[url] = open_database(url)
        return _databases[url]
