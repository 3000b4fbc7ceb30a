"""SSRF guard: no request to private or special addresses, nor to non-http(s) schemes.

Scrapy has no IP-range check anywhere, and its offsite filter skips start
requests and the redirects they produce (``dont_filter``); see
``docs/decisions.md`` (Crawling safety).  Two layers close that:

:class:`SSRFGuardMiddleware` (downloader middleware, ``process_request``)
    Sees *every* request, start requests and redirect-generated ones included.
    It refuses any scheme but ``http``/``https``; any IP-literal host in any
    spelling (``127.0.0.1``, ``[::1]``, ``[::ffff:127.0.0.1]``, ``2130706433``,
    ``0x7f.1``, ``0177.0.0.1``…) in a refused range; and any hostname that
    resolves to one (it looks the name up before the download; with
    :class:`SSRFSafeResolver` installed the answer is cached and the connection
    uses exactly the checked addresses).  A refusal raises :class:`SSRFRefused`
    (an ``IgnoreRequest``), is logged once at WARNING with the URL and the
    reason, and is counted in ``newswatch/ssrf/refused`` and
    ``newswatch/ssrf/refused/<reason>``.

:class:`SSRFSafeResolver` (``TWISTED_DNS_RESOLVER``)
    An ``IHostnameResolver`` that asks ``getaddrinfo`` for *all* answers (A and
    AAAA; Scrapy's default ``CachingThreadedResolver`` only ever sees one IPv4
    address) and delivers none when *any* answer is in a refused range, so the
    connection fails with ``DNSLookupError`` instead of reaching the address.
    It runs at connect time, so DNS rebinding and URL-parser differentials are
    caught too.  It also enforces ``DNS_TIMEOUT`` (Twisted's resolver has none).
    Its refusals are logged at WARNING and copied into the stats of every
    crawler at close as ``newswatch/ssrf/resolver_refused``.

Allow-listing (tests, or an outlet configured with ``allow_private = true``):

* ``NEWSWATCH_ALLOW_PRIVATE_HOSTS``: a list of ``host`` or ``host:port`` entries
  (``localhost``, ``127.0.0.1:8080``, ``[::1]:8080``).  A URL whose host (and
  port, when the entry names one) matches may use a private address; the host
  is compared as written in the URL, after normalisation, never by the address
  it resolves to.  So allowing ``localhost`` does not allow a redirect to
  ``127.0.0.1``.
* A spider attribute ``allow_private_hosts`` (same entry syntax) adds to it when
  the spider opens.

There is deliberately no ``request.meta`` switch: redirects copy meta, so a
per-request allowance would follow a redirect to anywhere.  The resolver has no
request context; it is built from the *process* settings and the middleware
adds each crawler's allowances to it when the spider opens (one crawl per
process, so this is not a leak between outlets in practice).

``NEWSWATCH_SSRF_ENABLED = False`` turns both layers off; set it for the
offline replay, which opens no connection (and must not resolve names).

The pieces: :mod:`crawler.middlewares.addresses` (the refused ranges, IP-literal
parsing, the allow-list), :mod:`crawler.middlewares.resolver` (the resolver) and
this module (the middleware; both classes can be named from here).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, NoReturn

from scrapy import signals
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from crawler.middlewares.addresses import (
    HostPolicy,
    _refusal_for_addresses,
    classify_address,
    parse_ip_literal,
)
from crawler.middlewares.resolver import SSRFSafeResolver, installed_resolver
from crawler.signals import report_refused
from crawler.urls import strip_secrets

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = [
    "ALLOWED_SCHEMES",
    "HostPolicy",
    "SSRFGuardMiddleware",
    "SSRFRefused",
    "SSRFSafeResolver",
    "classify_address",
    "installed_resolver",
    "parse_ip_literal",
]

ALLOWED_SCHEMES = frozenset({"http", "https"})
STATS_PREFIX = "newswatch/ssrf"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SSRFRefused(IgnoreRequest):
    """A request refused by the SSRF guard; ``reason`` is the short stats key."""

    def __init__(self, url: str, reason: str, detail: str):
        super().__init__(f"SSRF guard refused {url}: {detail}")
        self.url = url
        self.reason = reason
        self.detail = detail


class SSRFGuardMiddleware:
    """Refuses non-http(s) schemes and private or special destinations (see module doc).

    Put it before every other downloader middleware that may fetch (robots.txt
    at 100): ``"crawler.middlewares.ssrf.SSRFGuardMiddleware": 40``.  It also
    runs on ``request_scheduled`` for the checks that need no DNS, so a refused
    request is never queued.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSWATCH_SSRF_ENABLED", True):
            raise NotConfigured  # no message: Scrapy would log a warning for a deliberate choice
        self.crawler = crawler
        self.stats = crawler.stats
        self.policy = HostPolicy(settings.getlist("NEWSWATCH_ALLOW_PRIVATE_HOSTS"))
        self.dns_timeout = settings.getfloat("DNS_TIMEOUT", 60.0)
        self._spider_synced = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SSRFGuardMiddleware:
        o = cls(crawler)
        crawler.signals.connect(o.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(o.request_scheduled, signal=signals.request_scheduled)
        return o

    # -- signals -------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        self._sync_policy(spider)
        if installed_resolver() is None:
            logger.warning(
                "SSRF guard: TWISTED_DNS_RESOLVER is not crawler.middlewares.ssrf.SSRFSafeResolver;"
                " hostnames are checked before the download but not pinned at connect time"
            )

    def spider_closed(self, spider: Spider) -> None:
        resolver = installed_resolver()
        if resolver is not None and resolver.refused:
            self.stats.set_value(f"{STATS_PREFIX}/resolver_refused", sum(resolver.refused.values()))
            for reason, count in resolver.refused.items():
                self.stats.set_value(f"{STATS_PREFIX}/resolver_refused/{reason}", count)

    def _sync_policy(self, spider: Spider | None) -> None:
        if self._spider_synced:
            return
        self._spider_synced = True
        extra = getattr(spider, "allow_private_hosts", None) or ()
        if extra:
            self.policy.add(extra)
        resolver = installed_resolver()
        if resolver is not None and self.policy:
            resolver.policy.add(self.policy.entries)

    # -- the check -----------------------------------------------------------

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Refuse what needs no DNS before the request is even queued."""
        self._sync_policy(spider)
        try:
            self._static_check(request)
        except SSRFRefused as refused:  # no errback runs for a request refused here
            report_refused(self.crawler, request, str(refused))
            raise

    async def process_request(self, request: Request) -> None:
        self._sync_policy(self.crawler.spider)
        pending = self._static_check(request)
        if pending is None:
            return None
        host, port = pending
        addresses = await self._resolve(host, port)
        if addresses is None:
            return None
        if not addresses:
            raise CannotResolveHostError(f"no address found for {host}")
        refused = _refusal_for_addresses(host, addresses)
        if refused is not None:
            self._refuse(request, *refused)
        return None

    def _static_check(self, request: Request) -> tuple[str, int] | None:
        """Check scheme, host syntax and IP literals; raises :class:`SSRFRefused`.

        Returns ``(host, port)`` when the host is a name that still needs a DNS check.
        """
        parsed = urlparse_cached(request)
        scheme = (parsed.scheme or "").lower()
        if scheme not in ALLOWED_SCHEMES:
            self._refuse(request, "scheme", f"scheme not allowed: {scheme or '(none)'}")
        try:
            host = parsed.hostname or ""
            port = parsed.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:  # a port out of range or not a number
            self._refuse(request, "invalid-host", f"invalid netloc {parsed.netloc!r}: {exc}")
        if not host:
            self._refuse(request, "invalid-host", "no host")
        if self.policy.allows(host, port):
            return None
        try:
            ip = parse_ip_literal(host)
        except ValueError as exc:
            self._refuse(request, "invalid-host", str(exc))
        if ip is not None:
            reason = classify_address(ip)
            if reason is not None:
                self._refuse(request, reason, f"{reason} address {ip}")
            return None
        return host, port

    async def _resolve(self, host: str, port: int) -> list[str] | None:
        """The addresses ``host`` resolves to; None when no lookup is possible here."""
        resolver = installed_resolver()
        try:
            if resolver is not None:
                answers = await maybe_deferred_to_future(resolver.lookup(host))
                return [a.host for a in answers]
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return None  # a non-asyncio reactor: only the resolver (if any) checks
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), self.dns_timeout or None
            )
            return [str(info[4][0]) for info in infos]
        except (TimeoutError, DNSLookupError, OSError) as exc:
            raise CannotResolveHostError(f"DNS lookup of {host} failed: {exc}") from None

    def _refuse(self, request: Request, reason: str, detail: str) -> NoReturn:
        redirects = request.meta.get("redirect_urls")
        via = f" (via redirect from {strip_secrets(redirects[0])})" if redirects else ""
        url = strip_secrets(request.url)
        logger.warning("SSRF guard refused %s: %s%s", url, detail, via)
        self.stats.inc_value(f"{STATS_PREFIX}/refused")
        self.stats.inc_value(f"{STATS_PREFIX}/refused/{reason}")
        raise SSRFRefused(url, reason, detail + via)
