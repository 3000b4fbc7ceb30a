"""The five outlet spiders, one per outlet parser, derived from the parser registry.

A spider only discovers and requests (``crawler.spiders.base``); what differs between
outlet types is the parser and the URL patterns that tell an article link from the rest
of a feed, sitemap or listing when the outlet's config gives none.  Adding an outlet type
is a parser in ``crawler.parsing.OUTLET_PARSERS`` plus its row here.
"""

from __future__ import annotations

from crawler.parsing import OUTLET_PARSERS
from crawler.spiders.base import OutletSpider

#: Article URL patterns per outlet type, used when the outlet's config gives none.
DEFAULT_ARTICLE_PATTERNS: dict[str, tuple[str, ...]] = {
    # WeChat official-account articles (mp.weixin.qq.com).
    "wechat": (r"^https?://mp\.weixin\.qq\.com/(s\b|mp/appmsg/show)",),
    # Chinese news portals and the mirror sites that copy them.
    "portal": (
        r"/(19|20)\d{2}-?\d{2}-?\d{2}/",
        r"/doc-[a-z0-9]+\.shtml",
        r"/article/[0-9A-Za-z]+",
        r"/a/\d+",
    ),
    # English-language Chinese state media: ECNS and China Daily.
    "ecns": (
        r"ecns\.cn/.*/\d{4}-\d{2}-\d{2}/detail-",
        r"chinadaily\.com\.cn/a/\d{6}/\d{2}/WS[0-9a-f]+\.html",
    ),
    # RFI Chinese (rfi.fr/cn).
    "rfi": (r"/cn/[^/?#]+/\d{8}-",),
    # BBC Chinese (bbc.com/zhongwen).
    "bbc": (
        # The Next.js template (2023-): /zhongwen/articles/<id>/simp.
        r"/zhongwen/articles/[a-z0-9]{8,16}(?:/(?:simp|trad))?$",
        r"/zhongwen/(simp|trad)/(?!institutional-)[a-z-]+-\d{6,}$",
        r"/zhongwen/(simp|trad)/[a-z_-]+/\d{4}/\d{2}/\d{6}_",
    ),
}


def _spider_class(outlet_type: str) -> type[OutletSpider]:
    return type(
        f"{outlet_type.capitalize()}Spider",
        (OutletSpider,),
        {
            "__module__": __name__,
            "__doc__": f"Discovers and requests {outlet_type} pages; the {outlet_type} parser reads them.",
            "name": outlet_type,
            "parser": outlet_type,
            "default_article_patterns": DEFAULT_ARTICLE_PATTERNS[outlet_type],
        },
    )


#: One spider class per outlet parser, by spider name (Scrapy's loader finds them here).
SPIDERS: dict[str, type[OutletSpider]] = {name: _spider_class(name) for name in OUTLET_PARSERS}
globals().update({cls.__name__: cls for cls in SPIDERS.values()})
