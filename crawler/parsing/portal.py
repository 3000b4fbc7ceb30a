"""Chinese news portals and their mirror/content-farm copies, live HTML and text scrapes.

Portals put the article in a known container (sina ``#artibody``, 163
``.post_body``, people ``.rm_txt_con`` …, see ``portal_layout``); reading that
container whole keeps every paragraph a boilerplate classifier might drop, and
is cheaper than trafilatura, which remains the fallback for other layouts.
"""

from __future__ import annotations

import re

from lxml.etree import XPath

from crawler.items import Article
from crawler.parsing import cleaning, furniture, markdown, portal_layout
from crawler.parsing.credits import take_credits
from crawler.parsing.dates import SHANGHAI, parse_chinese
from crawler.parsing.generic import draft_from_html, drop_link_tail, language_of, listing_reason
from crawler.parsing.html import HtmlDocument, block_lines, extract_lines, load_document
from crawler.parsing.kind import refuse_non_article
from crawler.parsing.page import LISTING, NotAnArticle, RawPage
from crawler.parsing.record import Draft, finish, page_url
from crawler.parsing.snapshot import Snapshot, read_snapshot
from crawler.parsing.text import clean_line

# Where the related-story lists, comment boxes and spam blocks begin.
_CUT = (
    re.compile(
        r"^(?:相关文章|相关资讯|相关阅读|相关新闻|相关推荐|热门资讯|热门推荐|推荐阅读|延伸阅读)$"
    ),
    re.compile(r"^(?:猜你喜欢|为你推荐|热点推荐|大家都在看|精彩推荐|更多精彩|女王论坛)$"),
    # Traditional-script portals (Yahoo 香港, 台湾 sites): the same lists.
    re.compile(r"^(?:你可能還想看|你可能还想看|其他人也在看|相關新聞|相關文章|延伸閱讀|推薦閱讀|熱門新聞)$"),
    re.compile(r"^(?:网友评论|热门跟贴|我要评论|发表评论|打开APP阅读|查看更多评论)"),
    re.compile(r"^“?特别声明[:：]以上"),
    re.compile(r"^主站蜘蛛池模板"),
    re.compile(r"^点击进入专题"),
    re.compile(r"^精彩视频推荐$"),
)
_FURNITURE = (
    *cleaning.COMMON_FURNITURE,
    re.compile(r"^(?:展开全文|展开阅读全文|点击查看全文|阅读全文|收起全文)$"),
    re.compile(
        r"^(?:首页|返回首页|返回搜狐，查看更多|返回腾讯网首页>>|【纠错】|打印|关闭|收藏|举报)$"
    ),
    re.compile(
        r"^(?:分享让更多人看到|- 评论|- 关注|扫一扫.*|手机看新闻|微信扫一扫.*|转播到腾讯微博)$"
    ),
    re.compile(r"^[（(]?点击(?:看清晰大图|查看大图|图片)[）)]?$|^点击进入.{1,30}>>$"),
    # Image captions: "…张又侠。图源:新华社", "…现场。山东女子学院供图", "新华社记者 李学仁 摄".
    re.compile(r"(?:图源|图片来源|来源图片)[:：]\s*\S{1,20}[。）)]?$"),
    re.compile(r"^.{0,80}(?:供图|[\u4e00-\u9fff]{2,4}\s?摄)[）)]?$"),
    re.compile(r"^(?:浏览量|阅读量|阅读数|点击量)[:：]?\s*\d+"),
    re.compile(r"^\d+人参与\d*评论$"),
    re.compile(r"^(?:关键字|关键词|标签)\s*[:：>]"),
    re.compile(r"^(?:正文|打印\|?|字号[:：]?|\+关注|×|\+1|图集|Loading\.\.\.|查看原图.*)$"),
    re.compile(r"^赞 赶快成为第一个赞的人吧$"),
    re.compile(r"^发送\s*\S{1,12}\s*到\s*\d{3,8}"),  # SMS service ads of 2000s portals
    re.compile(r"^(?:Play Video|/?\d{1,2}:\d{2})$"),  # video player controls
    re.compile(r"^广告(?:\S.{0,40})?$"),  # inline ad slots: "广告" + an ad headline
    re.compile(r"^(?:关注公众号|关注我[，,]|图片均来自网络|图片来源于网络$)"),
    re.compile(r"^(?:【[^】]{1,6}】\s*)+$"),  # 【纠错】, 【1】【2】, 【关闭窗口】 【打印本稿】
    re.compile(r"如有侵权.{0,10}联系|未经授权.{0,6}不得转载|更多原创资讯请下载"),
    re.compile(r"^[\]】）)\s]+$"),  # the close of a bracket the template broke onto its own line
)
_TRAILING_LINKS = re.compile(r"(?:返回腾讯网首页>>|返回搜狐，查看更多)$")
_TABLE_EDGES = re.compile(r"^[|\s]+|[|\s]+$")

# The header line of a text scrape: "时间:2025-05-30 17:43:44 作者:… 浏览量:36876".
_META_LINE = re.compile(
    r"(?:发布)?时间\s*[:：]\s*(?P<date>\d{4}[-年/.]\d{1,2}[-月/.]\d{1,2}[^作来浏]*)"
)
_META_AUTHOR = re.compile(r"作者\s*[:：]\s*(?P<value>.+?)\s*(?=浏览量|阅读量|来源[:：]|$)")
_META_SOURCE = re.compile(r"来源\s*[:：]\s*(?P<value>\S+)")
# A date line inside an unrecognised layout:
# "新华网河北频道 ( 2012-06-04 09:20:26 ) 稿件来源： 河北日报".
_DATE_LINE_MAX = 80
# A byline is a name, not a sentence: injected headlines carry punctuation.
_PERSON = re.compile(r"^[\u3400-\u9fffA-Za-z·• .、]{2,20}$")


def _clean_lines(lines: list[str]) -> list[str]:
    # Old table layouts come out of trafilatura as "| cell |" rows.
    lines = [_TRAILING_LINKS.sub("", _TABLE_EDGES.sub("", line)).strip() for line in lines]
    return [line for line in lines if line and set(line) != {"|"}]


def tidy(lines: list[str], extra: dict[str, str]) -> tuple[list[str], str | None]:
    """Cut related lists, drop furniture, move credit lines to ``extra``; return an author."""
    lines = cleaning.drop(cleaning.cut_at(_clean_lines(lines), _CUT), _FURNITURE)
    lines, fields = take_credits(lines, head=3, tail=8)
    author = fields.pop("author", None)
    for name, value in fields.items():
        extra.setdefault(name, value)
    return lines, author


def _header_date(lines: list[str], extra: dict[str, str]) -> tuple[list[str], str | None]:
    """A date-and-source line among the first lines of an unrecognised layout, removed.

    A first paragraph that opens with a date ("2024年5月1日 8时，…") is prose: a
    header line has no full stop and is short or names a source.
    """
    for index, line in enumerate(lines[:6]):
        if len(line) > _DATE_LINE_MAX or "。" in line or "，" in line:
            continue
        published = parse_chinese(line, SHANGHAI)
        if published and "T" in published:
            source = _META_SOURCE.search(line)
            if source:
                extra.setdefault("source", source["value"])
            return lines[:index] + lines[index + 1 :], published
    return lines, None


_AFTER_HEADLINE = XPath("(//h1)[1]/following::text()[normalize-space()][position() <= 12]")


def _date_near_headline(document: HtmlDocument) -> str | None:
    """A stated time in the few short texts after the headline (table layouts of the 2000s)."""
    for text in _AFTER_HEADLINE(document.tree):
        if len(text) <= _DATE_LINE_MAX:
            published = parse_chinese(text, SHANGHAI)
            if published and "T" in published:
                return published
    return None


def _from_html(page: RawPage, snapshot: Snapshot) -> Article:
    document = load_document(snapshot.content, fragment=snapshot.form == "fragment")
    if snapshot.form == "html":
        refuse_non_article(document)
    layout = portal_layout.scan(document, page_url(page, snapshot))
    if layout.container is not None:
        container = portal_layout.without_junk(layout.container)
        furniture.strip(container, (*furniture.COMMON, *furniture.PROMO), lists=True)
        furniture.strip_link_boxes(container)
        lines = block_lines(container)
    else:
        furniture.strip(document.tree, (*furniture.COMMON, *furniture.PROMO), lists=True)
        lines = extract_lines(document.tree)
        if reason := listing_reason(document, lines):
            raise NotAnArticle(reason, kind=LISTING)
        lines = cleaning.drop_teaser_runs(drop_link_tail(document, lines))
    draft = draft_from_html(document, lines)
    # Metas name the portal ("网易", "参考消息") or a CMS id as author: only a
    # byline in the text counts.
    lines, draft.author = tidy(lines, draft.extra)
    header_date = None
    if layout.container is None:
        lines, header_date = _header_date(lines, draft.extra)
    around = portal_layout.page_credits(layout)
    draft.author = draft.author or around.pop("author", None)
    for name, value in around.items():
        draft.extra.setdefault(name, value)
    draft.lines = lines
    # What the reader sees first; a stated time beats a bare date from any source.
    # The script search is last and lazy: it scans the whole page.
    stated = [
        (portal_layout.visible_published(layout), "visible:date_line"),
        (header_date, "visible:header_line"),
        (draft.published_at, draft.published_source),
    ]
    if not any(value and "T" in value for value, _ in stated):
        stated.append((portal_layout.machine_published(document, snapshot.content), "script"))
    if not any(value for value, _ in stated):
        stated.append((_date_near_headline(document), "visible:near_h1"))
    chosen = next((item for item in stated if item[0] and "T" in item[0]), None) or next(
        (item for item in stated if item[0]), (None, None)
    )
    draft.published_at, draft.published_source = chosen
    return finish(page, snapshot, draft)


def _byline(value: str, extra: dict[str, str]) -> str | None:
    value = clean_line(value)
    if _PERSON.match(value):
        return value
    # Content farms fill the author slot with an unrelated headline: keep it
    # for the record, never as the author.
    extra["byline_raw"] = value
    return None


def _from_text(page: RawPage, snapshot: Snapshot) -> Article:
    if snapshot.form == "markdown":
        lines = markdown.render(snapshot.content)
    else:
        lines = [clean_line(line) for line in snapshot.content.splitlines()]
    lines = [line for line in lines if line]
    extra: dict[str, str] = {}
    published = author = None
    start = 0
    header = None
    for index, line in enumerate(lines[:8]):
        header = _META_LINE.search(line)
        if header:
            published = parse_chinese(header["date"], SHANGHAI)
            if (match := _META_AUTHOR.search(line)) is not None:
                author = _byline(match["value"], extra)
            if (match := _META_SOURCE.search(line)) is not None:
                extra["source"] = match["value"]
            # Above the header line there is only site navigation ("首页", channel names).
            start = index + 1
            break
    if header is None and snapshot.header_title is None:
        # Without a portal header line or an archive header, plain text is any text
        # file at all (a log, /etc/passwd): never an article.
        raise NotAnArticle("plain text without a portal header line (时间/来源) or an archive header")
    title = lines[start] if start < len(lines) else None
    body = lines[start:]
    body, body_author = tidy(body, extra)
    draft = Draft(
        title=title,
        published_at=published,
        author=author or body_author,
        language=language_of("\n".join(body)),
        lines=body,
        extra=extra,
    )
    return finish(page, snapshot, draft)


def parse(page: RawPage) -> Article:
    snapshot = read_snapshot(page)
    if snapshot.form in ("html", "fragment"):
        return _from_html(page, snapshot)
    return _from_text(page, snapshot)
