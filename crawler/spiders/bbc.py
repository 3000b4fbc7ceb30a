"""BBC Chinese (bbc.com/zhongwen)."""

from __future__ import annotations

from crawler.spiders.base import OutletSpider


class BbcSpider(OutletSpider):
    name = "bbc"
    parser = "bbc"
    default_article_patterns = (
        # The Next.js template (2023-): /zhongwen/articles/<id>/simp.
        r"/zhongwen/articles/[a-z0-9]{8,16}(?:/(?:simp|trad))?$",
        r"/zhongwen/(simp|trad)/(?!institutional-)[a-z-]+-\d{6,}$",
        r"/zhongwen/(simp|trad)/[a-z_-]+/\d{4}/\d{2}/\d{6}_",
    )
