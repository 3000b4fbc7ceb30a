"""Redirects stay within ``allowed_domains``, even when the request had ``dont_filter``.

Scrapy's ``OffsiteMiddleware`` lets any request with ``dont_filter=True`` through,
start requests are built with ``dont_filter=True``, and ``RedirectMiddleware``
copies the flag onto the redirect it builds: a start URL that redirects
off-site is followed (docs/decisions.md, Crawling safety).  :class:`OffsiteRedirectMiddleware`
checks every redirect-generated request (one whose ``meta`` has
``redirect_urls``, which both ``RedirectMiddleware`` and ``MetaRefreshMiddleware``
set) against the spider's ``allowed_domains`` with Scrapy's own rule (the
domain or a subdomain of it), whatever ``dont_filter`` says.

A refusal raises :class:`OffsiteRedirectRefused` (an ``IgnoreRequest``), is logged
once at WARNING with both URLs and counted in ``newswatch/offsite_redirect/refused``.
``request.meta["allow_offsite"] = True`` opts a request out, as in Scrapy.  A
spider without ``allowed_domains`` is not restricted (Scrapy's convention);
newswatch spiders set it from the outlet config.

Order: ``"crawler.middlewares.offsite.OffsiteRedirectMiddleware": 35``, before the
SSRF guard (40), so an off-site host is refused before the guard looks its name
up in DNS.  Unlike Scrapy's filter it does not refuse on ``request_scheduled``:
the SSRF guard and Scrapy's filter already drop requests there, and a second
handler would count and log the same request twice.  So it counts the
off-site redirects Scrapy's filter lets through (those with ``dont_filter``).
On ``request_scheduled`` it only lists, in the run's problems, the page whose
redirect Scrapy's filter is refusing: a request dropped there gets no errback.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from crawler.signals import report_refused
from crawler.urls import strip_secrets

if TYPE_CHECKING:
    from scrapy import Request, Spider

logger = logging.getLogger(__name__)

__all__ = ["OffsiteRedirectMiddleware", "OffsiteRedirectRefused"]

STAT_REFUSED = "newswatch/offsite_redirect/refused"


class OffsiteRedirectRefused(IgnoreRequest):
    """A redirect to a host outside the spider's ``allowed_domains``."""

    def __init__(self, url: str, origin: str, host: str):
        super().__init__(f"redirect from {origin} to off-site host {host!r} refused: {url}")
        self.url = url
        self.origin = origin
        self.host = host


class OffsiteRedirectMiddleware(OffsiteMiddleware):
    """Refuses redirect-generated requests to hosts outside ``allowed_domains``."""

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Only lists the page of a redirect Scrapy's filter refuses now (see the module doc)."""
        if (
            request.meta.get("redirect_urls")
            and not request.dont_filter  # those are refused at download time, with an errback
            and not request.meta.get("allow_offsite")
            and not self.should_follow(request, spider)
        ):
            host = urlparse_cached(request).hostname or ""
            origin = strip_secrets(request.meta["redirect_urls"][0])
            refused = OffsiteRedirectRefused(strip_secrets(request.url), origin, host)
            report_refused(self.crawler, request, str(refused))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        redirects = request.meta.get("redirect_urls")
        if not redirects or request.meta.get("allow_offsite"):
            return
        assert self.crawler.spider is not None
        if self.should_follow(request, self.crawler.spider):
            return
        host = urlparse_cached(request).hostname or ""
        url, origin = strip_secrets(request.url), strip_secrets(redirects[0])
        logger.warning(
            "Refused redirect to off-site host %r: %s (redirected from %s)", host, url, origin
        )
        self.stats.inc_value(STAT_REFUSED)
        raise OffsiteRedirectRefused(url, origin, host)
