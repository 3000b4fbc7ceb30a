"""WeChat official-account articles (mp.weixin.qq.com)."""

from __future__ import annotations

from crawler.spiders.base import OutletSpider


class WeChatSpider(OutletSpider):
    name = "wechat"
    parser = "wechat"
    default_article_patterns = (
        r"^https?://mp\.weixin\.qq\.com/(s\b|mp/appmsg/show)",
    )
