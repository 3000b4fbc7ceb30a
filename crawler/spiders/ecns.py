"""English-language Chinese state media: ECNS and China Daily."""

from __future__ import annotations

from crawler.spiders.base import OutletSpider


class EcnsSpider(OutletSpider):
    name = "ecns"
    parser = "ecns"
    default_article_patterns = (
        r"ecns\.cn/.*/\d{4}-\d{2}-\d{2}/detail-",
        r"chinadaily\.com\.cn/a/\d{6}/\d{2}/WS[0-9a-f]+\.html",
    )
