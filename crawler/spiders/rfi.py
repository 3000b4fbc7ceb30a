"""RFI Chinese (rfi.fr/cn)."""

from __future__ import annotations

from crawler.spiders.base import OutletSpider


class RfiSpider(OutletSpider):
    name = "rfi"
    parser = "rfi"
    default_article_patterns = (
        r"/cn/[^/?#]+/\d{8}-",
    )
