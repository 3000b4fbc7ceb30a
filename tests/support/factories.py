"""Articles for storage tests, built the way parsers build them."""

from __future__ import annotations

from typing import Any

from crawler.items import Article
from crawler.parsing.text import content_hash

BODY = (
    "俄罗斯总统普京今天在莫斯科会见中国军方高级别负责人张又侠。普京表示，俄罗斯和中国之间的军事合作越来越重要。\n"
    "普京在莫斯科接待了中国中央军事委员会副主席张又侠将军。据普京说，俄罗斯和中国并没有建立冷战式的军事联盟。\n"
    "周三，世界工业七国集团还呼吁北京在这场冲突中不要帮助莫斯科。北约正在寻求超越其地理框架，而华盛顿则试图在亚洲建立新的联盟。\n"
    "莫斯科和北京保持着紧密的联系，自2022年2月以来这种关系进一步得到加强。俄罗斯国防部长绍伊古保证，俄罗斯和中国不会建立军事集团。"
)


def make_article(
    url: str = "https://www.rfi.fr/cn/a/1",
    *,
    title: str = "张又侠今见普京",
    body: str = BODY,
    published_at: str | None = "2023-11-08T15:23:00+01:00",
    outlet: str = "rfi",
    canonical_url: str | None = None,
    **extra_fields: Any,
) -> Article:
    return Article(
        url=url,
        outlet=outlet,
        title=title,
        published_at=published_at,
        author=None,
        language="zh",
        body=body,
        extra=extra_fields.pop("extra", {}),
        fetched_at=extra_fields.pop("fetched_at", "2023-11-08T16:00:00+00:00"),
        content_hash=content_hash(title, published_at, body),
        canonical_url=canonical_url or url,
        **extra_fields,
    )
