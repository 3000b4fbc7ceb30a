"""Signals newswatch adds to Scrapy's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.stats import problem_key

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

#: A page could not become an article.  Arguments: ``url``, ``reason`` (one line),
#: ``kind`` (``dropped`` for bad input, ``error`` for a failed download or store).
page_problem = object()

#: request.meta: the page a spider asked for (kept through redirects and retries).
PAGE_URL = "newswatch_page_url"
_REPORTED = "newswatch_refusal_reported"


def report_refused(crawler: Crawler, request: Request, reason: str) -> None:
    """List a page whose request was refused while being queued, so no errback will.

    Only a spider's page requests (those with ``PAGE_URL``) are pages of the run; the
    caller has logged the refusal already.
    """
    url = request.meta.get(PAGE_URL)
    if url is None or crawler.stats is None or request.meta.get(_REPORTED):
        return
    request.meta[_REPORTED] = True  # several guards may refuse one request: listed once
    send_page_problem(crawler, url, reason, kind="dropped")


def send_page_problem(crawler: Crawler, url: str, reason: str, *, kind: str) -> None:
    """Count a page problem in the crawl's stats and send :data:`page_problem` for it."""
    assert crawler.stats is not None
    crawler.stats.inc_value(problem_key(kind))
    crawler.signals.send_catch_log(page_problem, url=url, reason=reason, kind=kind)
