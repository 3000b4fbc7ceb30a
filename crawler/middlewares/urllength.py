"""Scrapy's URL length limit, with each page it drops listed in the run.

``UrlLengthMiddleware`` drops a request whose URL is longer than ``URLLENGTH_LIMIT``
with an INFO line and a stat: a feed entry or sitemap URL cut that way was neither
stored nor listed.  :class:`ListedUrlLengthMiddleware` keeps Scrapy's rule and lists
the page as dropped, with the reason (``SPIDER_MIDDLEWARES`` puts it in Scrapy's place).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.spidermiddlewares.urllength import UrlLengthMiddleware

from crawler.signals import report_refused

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class ListedUrlLengthMiddleware(UrlLengthMiddleware):
    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        kept = super().get_processed_request(request, response)
        if kept is None:
            reason = f"URL longer than URLLENGTH_LIMIT ({len(request.url):,} > {self.maxlength:,} characters)"
            logger.warning("dropped %s...: %s", request.url[:200], reason)
            report_refused(self.crawler, request, reason)
        return kept
