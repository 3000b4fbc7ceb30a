"""Is a known article gone?  A pure judgement of one fetched page: no Scrapy, no database.

``page_state(url, status, body, headers)`` answers one of three ways:

- :class:`Takedown`: the article is gone (HTTP 404/410, a redirect to the outlet's home or
  a listing page, a page saying the content does not exist, a WeChat removal notice);
- :class:`Inconclusive`: the page says nothing about the article (an anti-bot or
  rate-limit page, a server error, an expired temporary WeChat link): try again later,
  never record it as a takedown;
- ``None``: nothing here says the article is gone (parse it as usual).

Removal notices are matched only when the article container is missing or nearly empty
(WeChat articles about censorship quote these very sentences), and never in ``<head>``
(an article's title may quote them too).  Markers and reasons follow WeChatscope (HKU
JMSC) and RSSHub's ``wechat-mp.ts``; see /work/shared/design/ui-alerts-anchors.md, part E.

Self-contained on purpose (it needs only the page kinds of crawler.parsing.page): a general
page-kind classifier can call :func:`page_state`.  It owns the table of WeChat notices
(:data:`WECHAT_NOTICES`) that the WeChat parser uses too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree, html

from crawler.parsing.page import ERROR, INTERSTITIAL, TAKEDOWN

#: Fewer visible characters than this in the article container counts as "nearly empty".
NEARLY_EMPTY_CHARS = 60
#: A non-WeChat page longer than this (visible text, outside any article container) is a
#: real page that merely mentions the words, not an error page.
SOFT_404_MAX_CHARS = 1500


@dataclass(frozen=True, slots=True)
class Takedown:
    """The article is gone: ``reason`` is a stable code, ``evidence`` what showed it."""

    reason: str
    evidence: str
    #: Where a migrated WeChat account's article now lives, when the page says.
    new_url: str | None = None


@dataclass(frozen=True, slots=True)
class Inconclusive:
    """The page tells nothing about the article; ``retry`` when a later fetch may."""

    reason: str
    evidence: str
    retry: bool = True


@dataclass(frozen=True, slots=True)
class WeChatNotice:
    """A page WeChat serves instead of an article, known by the sentence it shows."""

    marker: str
    #: Stable code: the :class:`Takedown` or :class:`Inconclusive` reason.
    reason: str
    #: What the page is, as a page kind (crawler.parsing.page): takedown, interstitial, error.
    kind: str
    #: In words, for the WeChat parser's "not an article" reason.
    description: str


# Every WeChat notice, the one table: page_state() judges a revisit by it, and the WeChat
# parser (crawler/parsing/wechat.py) names by it the page it got instead of an article.
# Order matters: the first notice found wins, and takedowns come before the expired link.
WECHAT_NOTICES: tuple[WeChatNotice, ...] = (
    WeChatNotice("环境异常", "anti_bot", INTERSTITIAL, "WeChat verification check instead of the article (环境异常)"),
    WeChatNotice("完成验证后即可继续访问", "anti_bot", INTERSTITIAL, "WeChat verification check instead of the article"),
    WeChatNotice("该内容已被发布者删除", "wechat_deleted_by_author", TAKEDOWN, "WeChat article deleted by its author"),
    WeChatNotice("该内容已被发送人删除", "wechat_deleted_by_author", TAKEDOWN, "WeChat article deleted by its sender"),
    WeChatNotice("此内容因违规无法查看", "wechat_violation", TAKEDOWN, "WeChat article removed for a content violation"),
    WeChatNotice("此内容因违规已删除", "wechat_violation", TAKEDOWN, "WeChat article deleted for a content violation"),
    WeChatNotice(
        "此内容因涉嫌违反相关法律法规和政策", "wechat_violation", TAKEDOWN, "WeChat article removed under laws and regulations"
    ),
    WeChatNotice("此内容被投诉且经审核涉嫌侵权", "wechat_complaint", TAKEDOWN, "WeChat article removed after a complaint (infringement)"),
    WeChatNotice("该内容被投诉且经审核涉嫌违规", "wechat_complaint", TAKEDOWN, "WeChat article removed after a complaint (violation)"),
    WeChatNotice("此帐号已被屏蔽", "wechat_account_blocked", TAKEDOWN, "WeChat account blocked"),
    WeChatNotice("此账号已被屏蔽", "wechat_account_blocked", TAKEDOWN, "WeChat account blocked"),
    WeChatNotice("该公众号已迁移", "wechat_account_migrated", TAKEDOWN, "WeChat account migrated"),
    WeChatNotice("此帐号已自主注销", "wechat_account_closed", TAKEDOWN, "WeChat account closed by its owner"),
    WeChatNotice("此账号已自主注销", "wechat_account_closed", TAKEDOWN, "WeChat account closed by its owner"),
    WeChatNotice("帐号已被系统回收", "wechat_account_closed", TAKEDOWN, "WeChat account reclaimed by the platform"),
    WeChatNotice("根据作者隐私设置", "wechat_privacy", TAKEDOWN, "WeChat article hidden by its author's privacy settings"),
    WeChatNotice("此内容发送失败无法查看", "wechat_unavailable", TAKEDOWN, "WeChat article failed to send"),
    WeChatNotice("该内容暂时无法查看", "wechat_unavailable", TAKEDOWN, "WeChat article temporarily unavailable"),
    # A temporary link (src,timestamp,ver,signature) that ran out: the article may be fine.
    WeChatNotice("链接已过期", "link_expired", ERROR, "WeChat link expired"),
    # An error about the request, not the article: page_state leaves it to the parser.
    WeChatNotice("参数错误", "wechat_bad_request", ERROR, "WeChat error page: invalid parameters (参数错误)"),
)
#: The removal notices alone, (sentence, reason) each.
WECHAT_MARKERS: tuple[tuple[str, str], ...] = tuple((n.marker, n.reason) for n in WECHAT_NOTICES if n.kind == TAKEDOWN)
# Pages that stand between us and the article: retried, never takedowns.
ANTI_BOT_MARKERS = ("环境异常", "完成验证", "去验证", "访问过于频繁", "请输入验证码")
_CAPTCHA_URL = re.compile(r"captcha|/mp/wappoc_|/antispider|/verify(?:[/?]|$)", re.I)
LINK_EXPIRED = "链接已过期"
SOFT_404_MARKERS = (
    "页面不存在",
    "内容已删除",
    "页面已删除",
    "文章不存在",
    "稿件不存在",
    "该页面不存在",
    "404 Not Found",
    "Page not found",
    "page you requested could not be found",
)
_TRANSFER_TARGET = re.compile(r"""transferTargetLink\s*[:=]\s*['"]([^'"]+)['"]""")
# Paths a site sends you to when the article is gone: its home page or a listing
# (/, /index.html, /world/, /list/3.html, /news/index_2.shtml), never a dated article path.
_HOME_OR_LISTING = re.compile(
    r"^/(?:index\.s?html?|default\.html?)?$"
    r"|^/(?:[a-z][\w-]*/){1,2}$"
    r"|^/(?:[a-z][\w-]*/)?(?:list|lists|index|channel|column|node)(?:[_/-]\d+)?(?:\.s?html?)?/?$",
    re.I,
)
_NOT_TEXT = ("script", "style", "noscript", "template", "head", "title")


def page_state(
    url: str,
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    requested_url: str | None = None,
) -> Takedown | Inconclusive | None:
    """Judge a page fetched for a known article (``url`` is where the fetch ended)."""
    if _CAPTCHA_URL.search(urlsplit(url).path + "?" + urlsplit(url).query):
        return Inconclusive("anti_bot", f"captcha address {url}")
    if status in (404, 410):
        return Takedown(f"http_{status}", f"HTTP {status} from {url}")
    if status == 429:
        return Inconclusive("rate_limited", "HTTP 429")
    if status >= 400:
        return Inconclusive("http_error", f"HTTP {status}")
    if requested_url and _redirected_home(requested_url, url):
        return Takedown("redirect_home", f"redirected from {requested_url} to {url}")
    if not body:
        return None
    document = _document(body, (headers or {}).get("content-type", ""))
    if document is None:
        return None
    return _wechat_state(document, body) if _is_wechat(url, document) else _portal_state(document)


def detect(
    url: str,
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    requested_url: str | None = None,
) -> Takedown | None:
    """Only the takedowns of :func:`page_state`."""
    state = page_state(url, status, body, headers, requested_url=requested_url)
    return state if isinstance(state, Takedown) else None


def _redirected_home(requested: str, final: str) -> bool:
    before, after = urlsplit(requested), urlsplit(final)
    if (before.netloc, before.path, before.query) == (after.netloc, after.path, after.query):
        return False
    if _registrable(before.netloc) != _registrable(after.netloc):
        return False  # another site: an off-site move, not the outlet's home page
    return bool(_HOME_OR_LISTING.match(after.path or "/")) and not _HOME_OR_LISTING.match(before.path or "/")


def _registrable(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower()
    return ".".join(host.split(".")[-2:])


def _document(body: bytes, content_type: str) -> etree._Element | None:
    charset = re.search(r"charset=([\w-]+)", content_type, re.I)
    for encoding in ([charset.group(1)] if charset else []) + ["utf-8", "gb18030"]:
        try:
            text = body.decode(encoding)
            break
        except (LookupError, UnicodeDecodeError):
            continue
    else:
        text = body.decode("utf-8", errors="replace")
    try:
        return html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def _visible_text(element: etree._Element) -> str:
    parts: list[str] = []
    for node in element.iter():
        if not isinstance(node.tag, str) or node.tag in _NOT_TEXT:
            continue
        if node.text and _outside_hidden(node):
            parts.append(node.text)
        if node.tail and node.getparent() is not None and _outside_hidden(node.getparent()):
            parts.append(node.tail)
    return re.sub(r"\s+", " ", " ".join(parts)).strip()


def _outside_hidden(node: etree._Element) -> bool:
    return not any(a.tag in _NOT_TEXT for a in node.iterancestors() if isinstance(a.tag, str))


def _is_wechat(url: str, document: etree._Element) -> bool:
    host = urlsplit(url).hostname or ""
    return host.endswith("weixin.qq.com") or bool(
        document.xpath("//*[@id='js_content' or @id='activity-name'] | //*[contains(@class, 'weui-msg')]")
    )


def _wechat_state(document: etree._Element, body: bytes) -> Takedown | Inconclusive | None:
    containers = document.xpath("//*[@id='js_content']")
    if containers and len(_visible_text(containers[0])) >= NEARLY_EMPTY_CHARS:
        return None  # an article, whatever sentences it quotes
    page_text = _visible_text(document.find("body") if document.find("body") is not None else document)
    for marker in ANTI_BOT_MARKERS:
        if marker in page_text:
            return Inconclusive("anti_bot", marker)
    for notice in WECHAT_NOTICES:
        if notice.marker not in page_text:
            continue
        if notice.kind == TAKEDOWN:
            new_url = None
            if notice.reason == "wechat_account_migrated":
                found = _TRANSFER_TARGET.search(body.decode("utf-8", errors="replace"))
                new_url = found.group(1).replace("&amp;", "&") if found else None
            return Takedown(notice.reason, notice.marker, new_url)
        if notice.kind == INTERSTITIAL:
            return Inconclusive("anti_bot", notice.marker)
        if notice.marker == LINK_EXPIRED:
            return Inconclusive("link_expired", LINK_EXPIRED, retry=False)
    return _soft_404(page_text)


def _portal_state(document: etree._Element) -> Takedown | Inconclusive | None:
    for container in document.xpath("//article | //*[@id='content' or @id='article']"):
        if len(_visible_text(container)) >= NEARLY_EMPTY_CHARS * 3:
            return None
    body = document.find("body")
    page_text = _visible_text(body if body is not None else document)
    for marker in ANTI_BOT_MARKERS:
        if marker in page_text and len(page_text) < SOFT_404_MAX_CHARS:
            return Inconclusive("anti_bot", marker)
    return _soft_404(page_text) if len(page_text) < SOFT_404_MAX_CHARS else None


def _soft_404(page_text: str) -> Takedown | None:
    lowered = page_text.lower()
    for marker in SOFT_404_MARKERS:
        if marker.lower() in lowered:
            return Takedown("soft_404", marker)
    return None
