"""BBC Chinese (bbc.com/zhongwen)."""

from __future__ import annotations

from crawler.spiders.base import OutletSpider


class BbcSpider(OutletSpider):
    name = "bbc"
    parser = "bbc"
    default_article_patterns = (
        r"/zhongwen/(simp|trad)/[a-z-]+-\d{6,}$",
        r"/zhongwen/(simp|trad)/[a-z_-]+/\d{4}/\d{2}/\d{6}_",
    )
