"""Conditional requests from validators kept in the database (storage/validators.py).

In place of Scrapy's HTTP cache, which stored whole responses with their cookies on one
machine's disk: this middleware keeps only ETag/Last-Modified (plus status and content
type) of each page, in the crawl's database, so that a crawl moved to another machine
still sends ``If-None-Match``.

* Before a request: if an article was stored from this URL, send its validators.
* After a 200: remember the new validators.
* After a 304 to a conditional request: record an ``unchanged`` sighting of that article
  (no body is downloaded or parsed) and end the request as :class:`NotModified`.  If the
  article is gone (deleted, or never stored), forget the validators and fetch again in full.

Off in replay (no network) and when no run owner gives it a database (a bare spider).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from crawler.stats import conditional_key, outcome_key
from crawler.urls import strip_secrets
from storage import validators

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from storage.db import Database

logger = logging.getLogger(__name__)

#: request.meta: validators were sent with this request.
CONDITIONAL = "newswatch_conditional"
#: request.meta: send no validators (a refetch after a 304 that named no stored article).
UNCONDITIONAL = "newswatch_unconditional"


class NotModified(IgnoreRequest):
    """The server answered 304 and the sighting was recorded: nothing more to do."""


@runtime_checkable
class RunDatabase(Protocol):
    """The run owner's extension (``newswatch.runs.RunRecorder``): its run and database."""

    @property
    def run_id(self) -> int | None: ...

    @property
    def database(self) -> Database | None: ...


class ConditionalRequestMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._owner: RunDatabase | None | bool = False  # False: not looked up yet

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.get("NEWSWATCH_REPLAY_DIR") or not crawler.settings.getbool(
            "NEWSWATCH_CONDITIONAL_REQUESTS", True
        ):
            raise NotConfigured("no conditional requests in replay")
        remove_old_cache()
        return cls(crawler)

    def _database(self) -> tuple[Database, int | None] | None:
        if self._owner is False:
            extensions = self.crawler.extensions.middlewares if self.crawler.extensions else ()
            owners = [e for e in extensions if isinstance(e, RunDatabase)]
            self._owner = owners[0] if len(owners) == 1 else None
        owner = self._owner
        if not isinstance(owner, RunDatabase) or owner.database is None:
            return None
        return owner.database, owner.run_id

    def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get(UNCONDITIONAL) or request.method != "GET":
            return None
        found = self._database()
        if found is None:
            return None
        try:
            known = validators.conditional(found[0], strip_secrets(request.url))
        except Exception as exc:  # no validators is only a full download
            logger.warning("could not read validators of %s: %s", request.url, _first_line(exc))
            return None
        if known is None:
            return None
        if known.etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = known.etag.encode("latin-1", "replace")
        if known.last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = known.last_modified.encode("latin-1", "replace")
        request.meta[CONDITIONAL] = True
        self.crawler.stats.inc_value(conditional_key("sent"))
        return None

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        found = self._database()
        if found is None:
            return response
        db, run_id = found
        url = strip_secrets(request.url)
        if response.status == 304 and request.meta.get(CONDITIONAL):
            article_id = validators.record_not_modified(db, url, run_id)
            if article_id is not None:
                self.crawler.stats.inc_value(conditional_key("not_modified"))
                self.crawler.stats.inc_value(outcome_key("unchanged"))
                raise NotModified(f"not modified: {request.url}")
            validators.forget(db, url)
            self.crawler.stats.inc_value(conditional_key("refetched"))
            headers = request.headers.copy()
            headers.pop(b"If-None-Match", None)
            headers.pop(b"If-Modified-Since", None)
            meta = {**request.meta, UNCONDITIONAL: True, CONDITIONAL: False}
            return request.replace(headers=headers, meta=meta, dont_filter=True)
        if response.status == 200:
            etag = _header(response, b"ETag")
            last_modified = _header(response, b"Last-Modified")
            if etag or last_modified:
                try:
                    validators.remember(
                        db, url, etag=etag, last_modified=last_modified, status=200,
                        content_type=_header(response, b"Content-Type"),
                    )
                except Exception as exc:  # the next crawl downloads it in full: nothing lost
                    logger.warning("could not keep validators of %s: %s", request.url, _first_line(exc))
        return response


def remove_old_cache(home: Path | None = None) -> bool:
    """Delete the response cache older versions kept under the data directory (cookies and all)."""
    from crawler.settings import data_dir

    old = (home or data_dir()) / "httpcache"
    if not old.is_dir() or old.is_symlink():
        return False
    shutil.rmtree(old, ignore_errors=True)
    logger.warning("removed %s: the old HTTP cache kept whole responses; only validators are kept now", old)
    return True


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
