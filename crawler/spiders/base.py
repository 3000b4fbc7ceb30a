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
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import Article
from crawler.outlets import ConfigError, Outlet, load_outlets
from crawler.parsing import ParseError, RawPage, parse
from crawler.parsing.takedown import Inconclusive, Takedown, page_state
from crawler.replay import REPLAY_FILE, ReplayProblem, request_url, scan_outlet
from crawler.revisit import GONE_STATUSES, REVISIT_ARTICLE, REVISIT_CONFIRM, find_ledger
from crawler.signals import page_problem
from crawler.spiders.discovery import ArticleMatcher, discover

#: request.meta keys the spiders use.
PAGE_URL = "newswatch_page_url"
FETCHED_AT = "newswatch_fetched_at"
DEPTH = "newswatch_depth"

# Every discovery and article request is revalidated with the server (ETag /
# Last-Modified through the RFC 2616 HTTP cache): a monitoring crawler must not
# trust a heuristic freshness that would hide an edit or a new feed entry.
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

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> OutletSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if not crawler.settings.get("NEWSWATCH_REPLAY_DIR"):
            spider.configure_outlet(crawler.settings.get("NEWSWATCH_CONFIG"))
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
        found = discover(
            response.body,
            response.url,
            content_type=response.headers.get("Content-Type", b"").decode("latin-1"),
            is_article=matcher,
            follow_patterns=follow_patterns,
        )
        self.crawler.stats.inc_value(f"newswatch/discovery/{found.kind}")
        for url in found.articles:
            yield self.article_request(url)
        depth = response.meta.get(DEPTH, 0)
        max_depth = config.max_depth if config else 0
        if depth < max_depth:
            for url in found.follow:
                yield self.discovery_request(url, depth=depth + 1)

    def replay_requests(self, root: Path) -> Iterable[scrapy.Request]:
        now = datetime.now(UTC)
        for entry in scan_outlet(root / self.name, self.outlet, now):
            if isinstance(entry, ReplayProblem):
                self.report_problem(entry.location, entry.reason, kind="dropped")
                continue
            yield self.article_request(
                entry.url,
                meta={REPLAY_FILE: str(entry.path), FETCHED_AT: entry.fetched_at},
                # Two saved copies of one page are two sightings, both to be recorded.
                dont_filter=True,
            )

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

    def parse_revisit(self, response: Response) -> Iterable[Any]:
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
        yield from self.parse_article(response)

    # -- reading ----------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterable[Article]:
        limit = self.settings.getint("NEWSWATCH_MAX_PAGE_BYTES")
        if len(response.body) > limit:  # replayed files are not bounded by DOWNLOAD_MAXSIZE
            url = response.meta.get(PAGE_URL, response.url)
            self.report_problem(url, f"page too large: {len(response.body):,} bytes (limit {limit:,})", kind="dropped")
            return
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
        try:
            yield parse(page, self.parser)
        except ParseError as exc:
            self.report_problem(page.url, exc.reason, kind="dropped")

    def on_download_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.meta.get(PAGE_URL, request.url) if request is not None else "?"
        response = getattr(failure.value, "response", None)
        if response is not None:  # HttpError: the server answered, with an error status
            reason = f"HTTP {response.status} from {response.url}"
        else:
            reason = f"{failure.type.__name__}: {failure.getErrorMessage() or 'no detail'}"
        self.report_problem(url, f"download failed: {reason}", kind="error")

    def report_problem(self, url: str, reason: str, *, kind: str) -> None:
        self.logger.warning("%s %s: %s", kind, url, reason)
        self.crawler.stats.inc_value(f"newswatch/{kind}")
        self.crawler.signals.send_catch_log(page_problem, url=url, reason=reason, kind=kind)
