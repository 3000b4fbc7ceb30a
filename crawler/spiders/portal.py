"""Chinese news portals and the mirror sites that copy them."""

from __future__ import annotations

from crawler.spiders.base import OutletSpider


class PortalSpider(OutletSpider):
    name = "portal"
    parser = "portal"
    default_article_patterns = (
        r"/(19|20)\d{2}-?\d{2}-?\d{2}/",
        r"/doc-[a-z0-9]+\.shtml",
        r"/article/[0-9A-Za-z]+",
        r"/a/\d+",
    )
