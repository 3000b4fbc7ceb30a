"""robots.txt per RFC 9309: an unreachable robots.txt means "disallow everything".

Scrapy's ``RobotsTxtMiddleware`` parses whatever body comes back, so a 503 error
page yields no rules and the whole site is allowed; a download error sets the
host to allow-all as well (docs/decisions.md, Crawling safety).
:class:`RobotsPolicyMiddleware` replaces it and decides by the outcome of the
robots.txt request (which goes through every downloader middleware, so
``RetryMiddleware`` has already retried it):

===========================================  ==============================================
outcome                                      policy for that host (scheme+host+port) this run
===========================================  ==============================================
2xx                                          obey the parsed rules (Protego, Scrapy's parser)
3xx left over (redirects exhausted/disabled) RFC 9309 §2.3.1.2: "unavailable" → allow all
4xx except 429                               RFC 9309 §2.3.1.3: "unavailable" → allow all
429, 5xx, other                              RFC 9309 §2.3.1.4: "unreachable" → disallow all
network error or timeout (after retries)     "unreachable" → disallow all
over ``DOWNLOAD_MAXSIZE`` (plain or unpacked)  "unreachable" → disallow all
``IgnoreRequest`` (e.g. off-site redirect)   allow all, as Scrapy (nothing was fetched from it)
===========================================  ==============================================

Stats: Scrapy's ``robotstxt/*`` (``request_count``, ``response_count``,
``response_status_count/<status>``, ``forbidden`` for each ``Disallow``d request)
plus ``newswatch/robots/unreachable`` (hosts), ``newswatch/robots/refused_unreachable``
(requests refused because their host's robots.txt was unreachable) and
``newswatch/robots/unavailable`` (hosts whose robots.txt was 4xx).  An
unreachable host is logged once at WARNING with the reason; a download error
is logged without a traceback.

Settings: ``DOWNLOADER_MIDDLEWARES`` must disable Scrapy's middleware and put this
one at its place (``RobotsTxtMiddleware: None``, ``RobotsPolicyMiddleware: 100``),
and ``ROBOTSTXT_OBEY = True``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils._compression import _DecompressionMaxSizeExceeded  # HttpCompressionMiddleware's
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.urls import strip_secrets

if TYPE_CHECKING:
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

__all__ = ["RobotsPolicyMiddleware", "RobotsUnreachable", "Unreachable"]

STAT_UNREACHABLE = "newswatch/robots/unreachable"
STAT_REFUSED_UNREACHABLE = "newswatch/robots/refused_unreachable"
STAT_UNAVAILABLE = "newswatch/robots/unavailable"


@dataclass(frozen=True)
class Unreachable:
    """The policy of a host whose robots.txt could not be fetched: disallow all."""

    netloc: str
    reason: str


class RobotsUnreachable(IgnoreRequest):
    """A request refused because its host's robots.txt was unreachable this run."""

    def __init__(self, url: str, netloc: str, reason: str):
        super().__init__(f"robots.txt of {netloc} unreachable ({reason}); refused {url}")
        self.url = url
        self.netloc = netloc
        self.reason = reason


def classify_status(status: int) -> str:
    """``"parse"``, ``"unavailable"`` (allow all) or ``"unreachable"`` (disallow all)."""
    if 200 <= status < 300:
        return "parse"
    if 300 <= status < 400 or (400 <= status < 500 and status != 429):
        return "unavailable"
    return "unreachable"


def _relay(parent: Deferred[Any]) -> Deferred[Any]:
    """A Deferred firing with ``parent``'s result, leaving that result in ``parent``."""
    child: Deferred[Any] = Deferred()

    def relay(result: Any) -> Any:
        child.callback(result)
        return result

    parent.addCallback(relay)
    return child


class RobotsPolicyMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309 error handling (see module doc)."""

    def process_request_2(self, rp: RobotParser | Unreachable | None, request: Request) -> None:
        if isinstance(rp, Unreachable):
            self._stats.inc_value(STAT_REFUSED_UNREACHABLE)
            logger.debug("Refused (robots.txt unreachable): %s", request)
            raise RobotsUnreachable(strip_secrets(request.url), rp.netloc, rp.reason)
        super().process_request_2(rp, request)

    async def robot_parser(self, request: Request) -> RobotParser | Unreachable | None:  # type: ignore[override]
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            waiter: Deferred[RobotParser | Unreachable | None] = Deferred()
            self._parsers[netloc] = waiter  # type: ignore[assignment]
            robotsreq = Request(
                f"{url.scheme}://{netloc}/robots.txt",
                priority=self.DOWNLOAD_PRIORITY,
                meta={"dont_obey_robotstxt": True},
                callback=NO_CALLBACK,
            )
            policy: RobotParser | Unreachable | None
            try:
                response = await self.crawler.engine.download_async(robotsreq)
                policy = await self._policy_for_response(response, netloc, request)
            except IgnoreRequest as exc:
                if isinstance(exc.__cause__, _DecompressionMaxSizeExceeded):
                    # Fetched, but over the size limit once unpacked: what a plain body
                    # over it is (a cancelled download), not "nothing was fetched".
                    policy = self._unreachable(netloc, "larger than DOWNLOAD_MAXSIZE once decompressed")
                else:
                    logger.info("robots.txt of %s not fetched (%s): allowing all", netloc, exc)
                    policy = None
            except Exception as exc:
                self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
                policy = self._unreachable(netloc, f"{type(exc).__name__}: {exc}")
            self._stats.inc_value("robotstxt/request_count")
            self._parsers[netloc] = policy  # type: ignore[assignment]
            waiter.callback(policy)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            # One child Deferred per waiter: converting a Deferred to a Future
            # consumes its result, so awaiting the shared one directly hands
            # None (allow all) to every waiter after the first (Scrapy 2.19's
            # RobotsTxtMiddleware has that bug with 3+ concurrent requests).
            return await maybe_deferred_to_future(_relay(parser))
        return parser

    async def _policy_for_response(
        self, response: Response, netloc: str, request: Request
    ) -> RobotParser | Unreachable | None:
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        verdict = classify_status(response.status)
        if verdict == "unreachable":
            return self._unreachable(netloc, f"HTTP {response.status}")
        if verdict == "unavailable":
            self._stats.inc_value(STAT_UNAVAILABLE)
            logger.info("robots.txt of %s answered %s: allowing all", netloc, response.status)
            return None
        rp = build_from_crawler(self._parserimpl, self.crawler, response.body)
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=rp, request=request
        )
        return rp

    def _unreachable(self, netloc: str, reason: str) -> Unreachable:
        logger.warning(
            "robots.txt of %s unreachable (%s): disallowing every request to %s for this run",
            netloc,
            reason,
            netloc,
        )
        self._stats.inc_value(STAT_UNREACHABLE)
        return Unreachable(netloc, reason)
