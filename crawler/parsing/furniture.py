"""Furniture removed from the tree before any text is read out of it.

Removing an element is cheaper and safer than removing lines afterwards: a
consent banner or a "往期推荐" list goes whole, with its links, and trafilatura
never weighs it as text.  Rules match an element by the whole of its own text
(short elements only, so a paragraph that merely mentions "接受并继续" stays);
list rules remove a heading together with the link list under it.

Rules are grouped by kind (``CONSENT``, ``EMBEDS``, ``PROMO``…); ``COMMON`` is
what any page may carry, and outlets add their own (``RFI_DATES``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml.etree import XPath
from lxml.html import HtmlElement

from crawler.parsing.cleaning import any_of
from crawler.parsing.text import clean_line

# Elements long enough to be article text are never furniture by these rules.
_MAX_FURNITURE_CHARS = 300
# A block under a list heading is a list of links when most of its text is linked.
_LINK_SHARE = 0.5
_MAX_LIST_CHARS = 3000
# A box whose text is this much linked is a list of links whatever its tag.
_LINK_BOX_SHARE = 0.8
# Elements with text of their own: furniture is a short text in its own element,
# and skipping pure wrappers keeps this pass cheap on large pages.
# (The text test goes first: most elements have no text of their own, and one test
# rejects them where seventeen name tests would; a third less time, the same nodes.)
# (``descendant::*`` rather than ``.//*``: the same elements in the same order, without
# libxml2 building the descendant-or-self node set first.)
_CANDIDATES = XPath(
    "descendant::*[text()[normalize-space()]]"
    "[self::p or self::span or self::strong or self::small or self::a or self::div"
    " or self::section or self::li or self::h2 or self::h3 or self::h4 or self::button"
    " or self::em or self::b or self::label or self::aside or self::figure]"
)
# (The five embed prefixes are tried only on elements that have a data-e2e at all; the
# first predicate, implied by the second, rejects the many elements with none of the four
# attributes in one cheap test.)
_STRUCTURAL = XPath(
    "descendant::*[@id or @href or @data-testid or @data-e2e]"
    "[@data-testid='consentBanner' or starts-with(@id, 'consentBanner') or starts-with(@id, 'end-of-')"
    " or (@data-e2e and (starts-with(@data-e2e, 'instagram-embed') or starts-with(@data-e2e, 'twitter-embed')"
    " or starts-with(@data-e2e, 'youtube-embed') or starts-with(@data-e2e, 'facebook-embed')"
    " or starts-with(@data-e2e, 'tiktok-embed')))"
    " or (self::a and starts-with(@href, '#end-of-'))]"
)

#: Cookie and consent banners, and the notices of an embed waiting for consent.
CONSENT = (
    # The banner ends with its button's words: "…请点击“接受并继续”。" (a sentence quoting them goes on).
    re.compile(r"(?:接受并继续|接受並繼續|Accept and continue|Accept all cookies)[”\"」]?\s*[。.]?$", re.I),
    re.compile(r"^(?:允许|允許|Allow)\s*\S{1,20}\s*(?:内容|內容|content)$", re.IGNORECASE),
    re.compile(r"^告知\s*[:：]\s*BBC\s*(?:不对外来网站内容负责|不對外來網站內容負責)"),
    re.compile(r"^BBC\s*(?:对外部网站内容不负责任|對外部網站內容不負責任)"),
    re.compile(r"(?:小甜饼政策|小甜餅政策|cookie policy)", re.IGNORECASE),
)
#: Placeholders of social and media embeds ("跳过 Instagram 帖子", "Instagram 帖子结束").
EMBEDS = (
    re.compile(r"^(?:跳过|跳過|Skip)\s*\S{1,20}\s*(?:帖子|貼文|内容|內容|post|content)$", re.I),
    re.compile(r"^(?:结尾|結尾|End of)\s*\S{1,20}\s*(?:帖子|貼文|内容|內容|post|content)$", re.I),
    re.compile(r"^\S{1,20}\s*(?:帖子|貼文)\s*(?:结束|結束|结尾|結尾)$"),
    re.compile(r"^(?:继续浏览|繼續瀏覽)\s*\S{1,20}$"),
    re.compile(r"^(?:你的器材不支持播放多媒体材料|您的設備不支援播放多媒體內容)$"),
)
#: Account promotion at the end of WeChat posts and self-media articles.
PROMO = (
    re.compile(r"(?:长按|長按|扫描|扫码|掃碼|识别|識別).{0,10}(?:二维码|二維碼|关注|關注|小程序)"),
    re.compile(r"后台.{0,8}(?:回复|回覆)"),
    re.compile(r"^(?:喜欢|喜歡)(?:此内容的人还喜欢|作者)$|^(?:赞赏|讚賞|赞赏支持|赞赏作者)$"),
    re.compile(r"^(?:点个?|點個?)(?:赞|讚|在看)(?:吧|哦)?[!！。]?$"),
    re.compile(r"^(?:点击|點擊|戳)?\s*[“\"「]?阅读原文[”\"」]?"),
    re.compile(r"^(?:感谢|感謝)(?:关注|關注|阅读|閱讀)\s*[/／、]"),
    re.compile(r"^(?:分享|收藏|点赞|在看)(?:\s*[/／、]\s*(?:分享|收藏|点赞|在看))+$"),
)
#: Headings of "more stories" lists: the heading and the link list under it go.
LIST_HEADINGS = (
    re.compile(
        r"^(?:往期推荐|往期回顾|往期精选|推荐阅读|相关阅读|延伸阅读|精彩推荐|热门推荐|相关新闻|相关文章"
        r"|猜你喜欢|为你推荐|大家都在看|更多精彩|今日推荐|编辑推荐|热点推荐|\S{0,6}新闻精选|\S{0,4}精选|\S{0,6}推荐)"
        r"\s*[:：|｜]?$"
    ),
)
#: RFI's header lines: "发表时间： 06/02/2022 - 13:48", "更新时间：…", reading time "7 分钟".
RFI_DATES = (
    re.compile(r"^(?:发表时间|發表時間|更新时间|更新時間|发表|發表)\s*[:：]"),
    re.compile(r"^(?:浏览时间|瀏覽時間|阅读时间|閱讀時間)?\s*[:：]?\s*\d{1,3}\s*(?:分钟|分鐘)$"),
)

COMMON = (*CONSENT, *EMBEDS)

# Overlays: report-abuse forms, login and sign-up boxes, pop-up windows. Pages ship
# them hidden in the markup; their class or id names them by what they are, and
# their text (report reasons, account perks) is never the article.
_BOX_TAGS = ("div", "section", "aside", "form", "dialog")
# A cheap first test of a box's name; the patterns below want the words as whole parts of it.
_BOX_WORDS = re.compile(r"modal|dialog|pop|login|passport|report|sign|comment|subscribe|newsletter", re.IGNORECASE)
_OVERLAY_NAME = re.compile(
    r"(?:^|[\s_-])(?:modal|dialog|popup|pop-?up|login|passport|report-box|signin|sign-in)(?:$|[\s_-])",
    re.IGNORECASE,
)
# Readers' comment threads and newsletter sign-up boxes, named so by their class or id
# ("user-comments", "news-comment-section", "SubscribeForm"). trafilatura drops comment
# boxes only when the name *starts* with "comment".
_THREAD_NAME = re.compile(
    r"(?:^|[\s_-])(?:comments?|comment-?(?:list|section|area|box)|subscribe\w*|newsletter\w*)(?:$|[\s_-])",
    re.IGNORECASE,
)
# A named box is a box, not a region: one holding this much of the page's text, the
# headline or an <article> (and, for an overlay, a long paragraph) is the page
# (nypost's article box is "box article modal-enabled").
_MAX_BOX_SHARE = 0.3
_HOLDS_HEADLINE = XPath(".//h1 | .//article")
_HOLDS_CONTENT = XPath(".//h1 | .//article | .//p[string-length(normalize-space()) > 200]")


def _text(element: HtmlElement) -> str:
    return clean_line(element.text_content())


_INLINE = frozenset({"span", "strong", "em", "b", "a", "small", "label"})


def _whole_block(element: HtmlElement, text: str, parent_texts: dict[HtmlElement, str]) -> bool:
    """An inline element counts only when it is all of its block: "点赞！" inside a sentence is prose.

    ``parent_texts`` remembers each parent's text for one pass over an unchanged tree:
    the many short links and spans of one large block would each normalise all of it.
    """
    parent = element.getparent()
    if element.tag not in _INLINE or parent is None:
        return True
    known = parent_texts.get(parent)
    if known is None:
        known = parent_texts[parent] = _text(parent)
    return known == text


def _link_share(element: HtmlElement) -> float:
    text = len(_text(element))
    linked = sum(len(_text(link)) for link in element.iter("a"))
    return linked / text if text else 1.0


def _drop(element: HtmlElement) -> None:
    if element.getparent() is not None:
        element.drop_tree()  # keeps the tail text, which belongs to the parent


def _is_link_list(element: HtmlElement) -> bool:
    """A list of links: a ``ul``/``ol`` mostly linked, or any block almost all linked."""
    if len(element.findall(".//a")) < 2 or len(_text(element)) > _MAX_LIST_CHARS:
        return False
    share = _link_share(element)
    # A box of list items counts as a list: dates beside the links ("2021-01-19 标题")
    # keep a related list under 80% linked.
    listed = element.tag in ("ul", "ol", "dl") or element.find(".//li") is not None
    return share >= _LINK_BOX_SHARE or (listed and share >= _LINK_SHARE)


def _drop_list(heading: HtmlElement) -> bool:
    """The heading and the one link list that follows it (its sibling, or its parent's)."""
    node = heading
    # Climb while the heading is alone in its wrapper ("<div class=title><h3>往期推荐</h3></div>").
    while node.getnext() is None and node.getparent() is not None and _text(node.getparent()) == _text(heading):
        node = node.getparent()
    following = node.getnext()
    if following is not None and _is_link_list(following):
        _drop(following)
    elif node.getparent() is not None and _is_link_list(node.getparent()):
        # Heading and links in one box ("<div><h3>相关新闻</h3><a/><a/>…</div>").
        node = node.getparent()
    else:
        # No list we recognise: the heading stays for the outlet's line rules
        # (a "推荐阅读" line still cuts a WeChat trailer there).
        return False
    _drop(node)
    return True


_LINK_BOXES = XPath(".//*[self::table or self::ul or self::ol or self::div][count(.//a) >= 4]")


def strip_link_boxes(container: HtmlElement) -> int:
    """Remove link lists (related stories, ads) nested in a known article container."""
    removed = 0
    for box in _LINK_BOXES(container):
        if box is not container and box.getparent() is not None and _link_share(box) >= _LINK_BOX_SHARE:
            _drop(box)
            removed += 1
    return removed


def _strip_named_boxes(root: HtmlElement) -> int:
    """Remove overlays, comment threads and sign-up forms that their class or id names."""
    removed = 0
    total = None
    for element in list(root.iter(_BOX_TAGS)):
        name = f"{element.get('class', '')} {element.get('id', '')}"
        dialog = element.get("role") in ("dialog", "alertdialog")
        if (not dialog and not _BOX_WORDS.search(name)) or element is root or element.getparent() is None:
            continue
        overlay = dialog or _OVERLAY_NAME.search(name)
        if not overlay and not _THREAD_NAME.search(name):
            continue
        if total is None:
            total = len(root.text_content())
        if len(element.text_content()) > total * _MAX_BOX_SHARE:
            continue
        if (_HOLDS_CONTENT if overlay else _HOLDS_HEADLINE)(element):
            continue
        _drop(element)
        removed += 1
    return removed


def strip(
    root: HtmlElement,
    rules: Sequence[re.Pattern[str]] = COMMON,
    *,
    lists: bool = False,
) -> int:
    """Remove furniture elements under ``root``; return how many went.

    Boxes named as overlays, comment threads or sign-up forms always go;
    ``lists`` also removes "往期推荐"-style headings with the link lists under them.
    """
    removed = _strip_named_boxes(root)
    for element in _STRUCTURAL(root):
        if element.getparent() is not None:
            _drop(element)
            removed += 1
    rule, headings = any_of(rules), any_of(LIST_HEADINGS)
    parent_texts: dict[HtmlElement, str] = {}
    for element in _CANDIDATES(root):
        if element.getparent() is None or not isinstance(element.tag, str):
            continue
        raw = element.text_content()
        if len(raw) > _MAX_FURNITURE_CHARS * 3:  # cheap bound before normalising
            continue
        text = clean_line(raw)
        if not text or len(text) > _MAX_FURNITURE_CHARS:
            continue
        # The rules first (rarely true), the whole-block test only for a match: the same
        # elements go, without normalising the parent of every short span and link.
        heading = lists and headings(text)
        if not heading and not rule(text):
            continue
        if not _whole_block(element, text, parent_texts):
            continue
        if heading:
            removed += _drop_list(element)
            parent_texts.clear()  # the tree may have changed: every remembered text may be stale
        else:
            _drop(element)
            parent_texts.clear()
            removed += 1
    return removed

