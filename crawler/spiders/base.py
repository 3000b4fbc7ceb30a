"""What every outlet spider shares: replay from saved pages, and handing pages to a parser.

A spider only discovers and requests; reading a page is the parser's job
(``crawler.parsing``), and storing it the pipelines'.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.python.failure import Failure

from crawler.inorder import InOrder
from crawler.items import Article
from crawler.middlewares.conditional import NotModified
from crawler.outlets import ConfigError, Outlet, load_outlets
from crawler.parsepool import ParsePool, shared_pool
from crawler.parseworker import Crashed, Dropped, Result, parse_page
from crawler.parsing import RawPage
from crawler.parsing.health import STATS_PREFIX as HEALTH_PREFIX
from crawler.parsing.health import health_marks
from crawler.parsing.page import LISTING
from crawler.parsing.takedown import Inconclusive, Takedown, page_state
from crawler.replay import REPLAY_FILE, PageTooLarge, ReplayProblem, request_url, scan_outlet
from crawler.revisit import GONE_STATUSES, REVISIT_ARTICLE, REVISIT_CONFIRM, find_ledger
from crawler.signals import PAGE_URL, report_refused, send_page_problem
from crawler.spiders.discovery import ArticleMatcher, discover, gunzipped
from crawler.stats import ENQUEUE_CUT, discovery_key

#: request.meta keys the spiders use (and PAGE_URL, from crawler.signals).
FETCHED_AT = "newswatch_fetched_at"
DEPTH = "newswatch_depth"
#: The start URL a discovery request descends from (its links count against that start URL's cap).
ROOT = "newswatch_root"
#: The article page's ticket in the order articles are stored (crawler.inorder).
ORDER = "newswatch_order"

# Every request asks caches on the way to revalidate: a monitoring crawler must not
# trust a heuristic freshness that would hide an edit or a new feed entry.  Article
# pages are then requested conditionally (crawler.middlewares.conditional).
REVALIDATE = {"Cache-Control": "max-age=0"}


class OutletSpider(scrapy.Spider):
    """Base of the five outlet spiders; ``parser`` names the parser in crawler.parsing."""

    parser: ClassVar[str]
    #: Article URL patterns used when the outlet config gives none.
    default_article_patterns: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, outlet: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The outlet recorded on articles: a config outlet name, or the spider name.
        self.outlet = outlet or self.name
        #: The outlet's config entry (live crawls only).
        self.outlet_config: Outlet | None = None
        #: Requests enqueued from discovery, per start URL and in all (the enqueue caps).
        self._enqueued_from: dict[str, int] = {}
        self._enqueued = 0
        self.in_order = InOrder()
        self._pool: ParsePool | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> OutletSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if not crawler.settings.get("NEWSWATCH_REPLAY_DIR"):
            spider.configure_outlet(crawler.settings.get("NEWSWATCH_CONFIG"))
        # An article page's turn is over once its item has been through the pipelines.
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider._item_done, signal=signal)
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    def configure_outlet(self, config: str | None) -> None:
        """Take start URLs, domains and patterns from the outlet's config entry."""
        outlets = load_outlets(Path(config) if config else None)
        explicit = self.outlet != self.name
        if explicit:
            if self.outlet not in outlets:
                raise ConfigError(f"no outlet {self.outlet!r} in the outlets config")
            chosen = outlets[self.outlet]
        else:  # `scrapy crawl rfi`: the first enabled outlet served by this spider
            candidates = [o for o in outlets.values() if o.spider == self.name and o.enabled]
            if not candidates:
                raise ConfigError(f"no enabled outlet uses spider {self.name!r}")
            chosen = candidates[0]
        if chosen.spider != self.name:
            raise ConfigError(f"outlet {chosen.name!r} is for spider {chosen.spider!r}, not {self.name!r}")
        self.outlet, self.outlet_config = chosen.name, chosen
        self.start_urls = list(chosen.start_urls)
        self.allowed_domains = list(chosen.allowed_domains)
        if chosen.allow_private:  # read by the SSRF guard (crawler.middlewares.ssrf)
            self.allow_private_hosts = list(chosen.allowed_domains)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        replay_dir = self.settings.get("NEWSWATCH_REPLAY_DIR")
        requests = (
            self.replay_requests(Path(replay_dir)) if replay_dir else self.discovery_requests()
        )
        for request in requests:
            yield request
        if not replay_dir:
            for request in self.revisit_requests():
                yield request

    # -- discovery -------------------------------------------------------------

    def discovery_requests(self) -> Iterable[scrapy.Request]:
        for url in self.start_urls:
            yield self.discovery_request(url, depth=0)

    def discovery_request(self, url: str, *, depth: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_discovery,
            errback=self.on_download_error,
            headers=REVALIDATE,
            meta={PAGE_URL: url, DEPTH: depth},
        )

    def parse_discovery(self, response: Response) -> Iterable[scrapy.Request]:
        """Read a feed, sitemap, URL list or listing page; request its articles and next pages."""
        config = self.outlet_config
        patterns = (config.article_patterns if config else ()) or self.default_article_patterns
        matcher = ArticleMatcher(patterns, outlet_given=bool(config and config.article_patterns))
        follow_patterns = tuple(re.compile(p) for p in (config.follow_patterns if config else ()))
        page = response.meta.get(PAGE_URL, response.url)
        try:
            limit = self.settings.getint("DOWNLOAD_MAXSIZE") or self.settings.getint("NEWSWATCH_MAX_PAGE_BYTES")
            body = gunzipped(response.body, limit)
        except ValueError as exc:
            self.report_problem(page, str(exc), kind="dropped")
            return
        if not body.strip():  # a broken feed or sitemap must not look like a quiet one
            self.report_problem(page, f"empty response (HTTP {response.status}): no feed, sitemap or links to read", kind="dropped")
            return
        found = discover(
            body,
            response.url,
            content_type=(response.headers.get("Content-Type") or b"").decode("latin-1"),
            is_article=matcher,
            follow_patterns=follow_patterns,
        )
        self.crawler.stats.inc_value(discovery_key(found.kind))
        for url in found.invalid:  # one broken entry never costs the page's other links
            self.report_problem(url[:2000], f"not a valid URL, listed in {response.url}", kind="dropped")
        depth = response.meta.get(DEPTH, 0)
        max_depth = config.max_depth if config else 0
        follow = found.follow if depth < max_depth else ()
        root = response.meta.get(ROOT, response.meta.get(PAGE_URL, response.url))
        budget = self.enqueue_budget(root, len(found.articles) + len(follow), response.url)
        for url in found.articles[:budget]:
            yield self.article_request(url)
        for url in follow[: max(0, budget - len(found.articles))]:
            request = self.discovery_request(url, depth=depth + 1)
            request.meta[ROOT] = root
            yield request

    def enqueue_budget(self, root: str, wanted: int, page: str) -> int:
        """How many of ``wanted`` new requests one page may add: the rest is cut, counted, logged.

        Three caps bound the queue (and so memory): one discovery page (a 100,000-URL
        sitemap), everything found from one start URL, and the whole run.
        """
        settings = self.settings
        caps = {
            "page": settings.getint("NEWSWATCH_MAX_ENQUEUE_PER_PAGE"),
            "start URL": settings.getint("NEWSWATCH_MAX_ENQUEUE_PER_START_URL") - self._enqueued_from.get(root, 0),
            "run": settings.getint("NEWSWATCH_MAX_ENQUEUE_PER_RUN") - self._enqueued,
        }
        limit, granted = min(caps.items(), key=lambda cap: cap[1])
        granted = max(0, min(wanted, granted))
        self._enqueued_from[root] = self._enqueued_from.get(root, 0) + granted
        self._enqueued += granted
        if granted < wanted:
            cut = wanted - granted
            self.crawler.stats.inc_value(ENQUEUE_CUT, cut)
            self.logger.warning("cut %d of %d links found on %s: the per-%s enqueue limit is reached", cut, wanted, page, limit)
        return granted

    def replay_requests(self, root: Path) -> Iterable[scrapy.Request]:
        now = datetime.now(UTC)
        for entry in scan_outlet(root / self.name, self.outlet, now):
            if isinstance(entry, ReplayProblem):
                self.report_problem(entry.location, entry.reason, kind="dropped")
                continue
            try:
                request = self.article_request(
                    entry.url,
                    meta={REPLAY_FILE: str(entry.path), FETCHED_AT: entry.fetched_at},
                    # Two saved copies of one page are two sightings, both to be recorded.
                    dont_filter=True,
                )
            except ValueError as exc:  # one unusable page never stops the rest of the folder
                self.report_problem(str(entry.path), f"cannot replay {entry.url[:200]!r}: {exc}", kind="dropped")
                continue
            # The ticket only for a request that exists: an unsettled ticket would hold
            # every later article back.
            request.meta[ORDER] = self.in_order.ticket()
            yield request

    def article_request(self, url: str, **kwargs: Any) -> scrapy.Request:
        meta = {PAGE_URL: url, **kwargs.pop("meta", {})}
        return scrapy.Request(
            request_url(url),
            callback=self.parse_article,
            errback=self.on_download_error,
            headers=REVALIDATE,
            meta=meta,
            **kwargs,
        )

    # -- revisits (crawler/revisit.py) ---------------------------------------------

    def revisit_requests(self) -> Iterable[scrapy.Request]:
        """Known articles due for a look: are they still there?"""
        ledger = find_ledger(self.crawler.extensions)
        if ledger is None or not self.settings.getbool("NEWSWATCH_REVISIT_ENABLED", True):
            return
        for article_id, url in ledger.revisits_due(self.outlet):
            yield self.revisit_request(url, article_id)

    def revisit_request(self, url: str, article_id: int, *, confirm: bool = False) -> scrapy.Request:
        meta = {PAGE_URL: url, REVISIT_ARTICLE: article_id, "handle_httpstatus_list": GONE_STATUSES}
        if confirm:
            meta[REVISIT_CONFIRM] = True
        # The confirmation must reach the server again, past the duplicate filter.
        return scrapy.Request(url, callback=self.parse_revisit, errback=self.on_download_error,
                              headers=REVALIDATE, meta=meta, dont_filter=confirm)

    async def parse_revisit(self, response: Response) -> AsyncIterator[Any]:
        article_id = response.meta[REVISIT_ARTICLE]
        requested = response.meta[PAGE_URL]
        headers = {k.decode("latin-1").lower(): v[-1].decode("latin-1") for k, v in response.headers.items() if v}
        state = page_state(response.url, response.status, response.body, headers, requested_url=requested)
        ledger = find_ledger(self.crawler.extensions)
        stats = self.crawler.stats
        if isinstance(state, Takedown) and ledger is not None:
            if not response.meta.get(REVISIT_CONFIRM):
                stats.inc_value("newswatch/revisit/suspected")
                yield self.revisit_request(requested, article_id, confirm=True)
                return
            evidence = {"evidence": state.evidence, "status": response.status, "url": response.url, "new_url": state.new_url}
            if ledger.record_takedown(article_id, state.reason, evidence):
                stats.inc_value("newswatch/revisit/removed")
                self.logger.warning("article %s is gone (%s): %s", requested, state.reason, state.evidence)
            return
        if isinstance(state, Inconclusive):
            stats.inc_value(f"newswatch/revisit/{state.reason}")
            self.logger.info("revisit of %s inconclusive (%s); %s", requested, state.reason,
                             "retried next run" if state.retry else "not retried")
            if not state.retry and ledger is not None:
                ledger.mark_checked(article_id)
            return
        stats.inc_value("newswatch/revisit/present")
        async for item in self.parse_article(response):
            yield item

    # -- reading ----------------------------------------------------------------

    async def parse_article(self, response: Response) -> AsyncIterator[Article | scrapy.Request]:
        """Parse the page (in a worker process, see crawler.parsepool) and store in fetch order."""
        ticket = response.meta.get(ORDER)
        if ticket is None:  # a live crawl: the order responses arrive in
            ticket = response.meta[ORDER] = self.in_order.ticket()
        try:
            result = await self._parse_response(response)
            await maybe_deferred_to_future(self.in_order.turn(ticket))
        except BaseException:
            self.in_order.settle(ticket)
            raise
        if isinstance(result, Article):
            # Parser health: per run and outlet, how many records had each field.
            stats = self.crawler.stats
            stats.inc_value(f"{HEALTH_PREFIX}/articles")
            for mark in health_marks(result):
                stats.inc_value(f"{HEALTH_PREFIX}/{mark}")
            yield result  # settled by the item signals, after the pipelines stored it
            return
        self.in_order.settle(ticket)
        url = response.meta.get(PAGE_URL, response.url)
        if isinstance(result, Crashed):  # a parser bug met hostile bytes: count the page, keep crawling
            self.logger.error("parser %s failed on %s: %s\n%s", self.parser, url, result.error, result.traceback)
            self.report_problem(url, f"parser error: {result.error}"[:300], kind="error")
            return
        if result.kind is not None:
            # Every page that is not stored is counted by what it turned out to be.
            self.crawler.stats.inc_value(f"newswatch/page_kind/{result.kind}")
        if result.kind == LISTING:
            # A home, section or topic page reached as an article: its links are
            # discovery, not a problem.  Replayed files never lead to the network.
            self.logger.info("listing %s: %s", url, result.reason)
            if response.meta.get(REPLAY_FILE) is None:
                for request in self.listing_articles(response):
                    yield request
            return
        self.report_problem(url, result.reason, kind="dropped")

    async def _parse_response(self, response: Response) -> Article | Dropped | Crashed:
        limit = self.settings.getint("NEWSWATCH_MAX_PAGE_BYTES")
        if len(response.body) > limit:  # replayed files are not bounded by DOWNLOAD_MAXSIZE
            return Dropped(f"page too large: {len(response.body):,} bytes (limit {limit:,})")
        page = RawPage(
            # Redirects change response.url; a fixture id must survive Scrapy's URL escaping.
            url=response.url if response.meta.get(REPLAY_FILE) is None else response.meta[PAGE_URL],
            body=response.body,
            headers={
                key.decode("latin-1").lower(): values[-1].decode("latin-1")
                for key, values in response.headers.items()
                if values
            },
            outlet=self.outlet,
            fetched_at=response.meta.get(FETCHED_AT) or datetime.now(UTC),
        )
        pool = self.parse_pool()
        result: Result
        if pool is None:
            result = parse_page(page, self.parser)
        else:
            result = await maybe_deferred_to_future(pool.parse(page, self.parser))
        if isinstance(result, (Dropped, Crashed)):
            return result
        return result.article

    def parse_pool(self) -> ParsePool | None:
        """The process's parse workers, or None to parse in this process (0 workers)."""
        workers = self.settings.getint("NEWSWATCH_PARSE_WORKERS")
        if workers <= 0:
            return None
        if self._pool is None:
            self._pool = shared_pool(workers, self.settings.getfloat("NEWSWATCH_PARSE_TIMEOUT"))
        return self._pool

    def _item_done(self, response: Response | None = None, **_: Any) -> None:
        ticket = getattr(response, "meta", {}).get(ORDER) if response is not None else None
        if ticket is not None:
            self.in_order.settle(ticket)

    def _request_dropped(self, request: scrapy.Request, **_: Any) -> None:
        if (ticket := request.meta.get(ORDER)) is not None:
            self.in_order.settle(ticket)
        # The duplicate filter dropped it.  A link found twice is simply one page; a
        # redirect to a URL already requested (a loop) leaves its page unread.
        if request.meta.get("redirect_urls"):
            self.logger.warning("dropped %s: redirected to %s, already requested", request.meta.get(PAGE_URL), request.url)
            report_refused(self.crawler, request, f"redirected to {request.url}, a page already requested in this run (a redirect loop?)")

    def listing_articles(self, response: Response) -> Iterable[scrapy.Request]:
        """Article requests for the links of a listing page (not its further listing pages)."""
        config = self.outlet_config
        patterns = (config.article_patterns if config else ()) or self.default_article_patterns
        matcher = ArticleMatcher(patterns, outlet_given=bool(config and config.article_patterns))
        found = discover(
            response.body, response.url, content_type="text/html", is_article=matcher, follow_patterns=()
        )
        self.crawler.stats.inc_value("newswatch/discovery/listing_as_article")
        for url in found.articles:
            yield self.article_request(url)

    def on_download_error(self, failure: Failure) -> None:
        if isinstance(failure.value, NotModified):  # a 304, already recorded as an unchanged sighting
            return
        request = getattr(failure, "request", None)
        if request is not None and (ticket := request.meta.get(ORDER)) is not None:
            self.in_order.settle(ticket)
        url = request.meta.get(PAGE_URL, request.url) if request is not None else "?"
        response = getattr(failure.value, "response", None)
        if isinstance(failure.value, PageTooLarge):  # refused before reading: bad input, not a fault
            self.report_problem(url, str(failure.value), kind="dropped")
            return
        if response is not None:  # HttpError: the server answered, with an error status
            reason = f"HTTP {response.status} from {response.url}"
        else:
            reason = f"{type(failure.value).__name__}: {failure.getErrorMessage() or 'no detail'}"
        self.report_problem(url, f"download failed: {reason}", kind="error")

    def report_problem(self, url: str, reason: str, *, kind: str) -> None:
        self.logger.warning("%s %s: %s", kind, url, reason)
        send_page_problem(self.crawler, url, reason, kind=kind)
