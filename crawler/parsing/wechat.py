"""WeChat official-account articles (mp.weixin.qq.com), live HTML and archived Markdown.

The article is ``#js_content`` and nothing else: boilerplate classifiers lose
most of a WeChat article (readability #921, and trafilatura here) because the
page is 2-3 MB of scripts around it.  Share posts (picture and text posts) have
no ``#js_content``; their text is the ``content_noencode`` script value.
"""

from __future__ import annotations

import re

from lxml.etree import XPath

from crawler.items import Article
from crawler.parsing import cleaning, furniture, markdown
from crawler.parsing.credits import take_credits
from crawler.parsing.dates import from_epoch, parse_chinese
from crawler.parsing.html import HtmlDocument, block_lines, load_document
from crawler.parsing.page import (
    EMPTY,
    IMAGE_POST,
    NotAnArticle,
    RawPage,
)
from crawler.parsing.record import Draft, canonical_href, finish
from crawler.parsing.snapshot import Snapshot, read_snapshot
from crawler.parsing.takedown import WECHAT_NOTICES
from crawler.parsing.text import clean_line

_CONTENT = XPath("//*[@id='js_content']")
_TITLE = XPath("//*[@id='activity-name' or @id='js_text_title']")
_ACCOUNT = XPath("//*[@id='js_name']")
_AUTHOR = XPath("//*[@id='js_author_name']")
_REPOSTED_FROM = XPath("//*[contains(@class, 'original_primary_nickname')]")
_ERROR_MESSAGE = XPath(
    "//*[contains(@class, 'weui-msg__title')] | //*[contains(@class, 'mesg-block')]//p"
    " | //*[contains(@class, 'weui-msg__desc')]"
)
_ERROR_AREA = XPath("//*[contains(concat(' ', @class, ' '), ' weui-msg ')]")
_PUBLISH_TIME = XPath("string(//*[@id='publish_time'])")

# Publication time, most precise first: epoch seconds, then a stated time, then a date.
# Templates from 2016 to 2026 put it in ``var ct``, ``create_time`` (a var, an
# object key, or the fallback of ``getXmlValue``) or ``publish_time``.
_EPOCH = (
    # Every pattern starts with a literal, so the search of a 2-3 MB page stays fast.
    ("script:ct", re.compile(r"""ct\s*=\s*["']?(\d{9,11})\b""")),
    ("script:ori_create_time", re.compile(r"""ori_create_time\s*:\s*["'](\d{9,11})["']""")),
    ("script:create_time", re.compile(r"""create_time["']?\s*[:=]\s*["']?(\d{9,11})\b""")),
    ("script:create_time", re.compile(r"""create_time\.DATA['"]\)\s*:\s*['"](\d{9,11})['"]""")),
)
# ``ct`` is a variable only after "var ", "d." or "window." (not the end of "object").
_CT_OWNER = re.compile(r"(?:\bvar\s+|\bd\.|\bwindow\.)$")
_STATED_TIME = (
    ("script:create_time", re.compile(r"""create_time\s*:\s*JsDecode\(\s*'([^']{8,25})'\s*\)""")),
    ("script:publish_time", re.compile(
        r"""publish_time["']?\s*[:=]\s*["'](\d{4}-\d{2}-\d{2}[^"']{0,10})["']"""
    )),
)
_NICKNAME = (
    re.compile(r"""var\s+nickname\s*=\s*(?:htmlDecode\()?\s*["']([^"'\n]{1,60})["']"""),
    re.compile(r"""nick_name(?<!\wnick_name)\s*:\s*JsDecode\(\s*'([^'\n]{1,60})'\s*\)"""),
)
_MSG_TITLE = re.compile(r"""(?:var\s+msg_title|window\.msg_title)\s*=\s*["']([^"'\n]{1,200})["']""")
# These two are searched in 3 MB pages: a leading \b would hide the literal from the
# regex engine's fast prefix scan (30 times slower), so the boundary is a lookbehind
# after the name ("not preceded by a word character": the same matches).
_CONTENT_NOENCODE = re.compile(
    r"""content_noencode(?<!\wcontent_noencode)\s*:\s*JsDecode\(\s*'((?:\\.|[^'\\])*)'\s*\)"""
)
_JS_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)", re.DOTALL)
_SHOW_TYPE = re.compile(r"""item_show_type\s*=\s*["'](\d+)["']""")
#: Picture posts (8) and text posts (10): the text is a script value, not #js_content.
_SHARE_POST_TYPES = frozenset({"8", "10"})
_MARKDOWN_BOLD = re.compile(r"\*\*")

_TRAILER = (
    re.compile(r"^[-—–_=·\s]*(?:END|THE END|完)[-—–_=·\s]*$", re.IGNORECASE),
    re.compile(r"^(?:推荐阅读|往期推荐|往期回顾|往期精选|精彩推荐|相关阅读|延伸阅读)\s*[:：|｜]?"),
    re.compile(r"^(?:点击|戳)?\s*[“\"]?阅读原文[”\"]?"),
)
_FURNITURE = (
    *cleaning.COMMON_FURNITURE,
    re.compile(r"^在小说阅读器中沉浸阅读$"),
    re.compile(r"(?:长按|扫描|扫码|识别).{0,8}二维码|点击.{0,6}(?:蓝字|关注)|^关注我们$"),
    re.compile(r"^(?:预览时标签不可点|微信扫一扫|Scan to Follow)"),
    re.compile(r"^[（(]?(?:图|图片|配图|视频)\s*[/／|｜:：丨]"),  # "（图/社交媒体截图）"
    re.compile(r"^(?:欢迎分享到朋友圈|投稿\s*[|｜:：丨])"),
    *furniture.PROMO,
    # Sign-up calls: "请关注XX微信公众号…", short lines only (a news line may mention an account).
    re.compile(r"^(?=.{0,80}$).*(?:关注|關注).{0,15}(?:公众号|公眾號|视频号|視頻號)"),
)


def _js_unescape(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "xu" and len(code) > 1:
            return chr(int(code[1:], 16))
        return {"n": "\n", "r": "\r", "t": "\t"}.get(code, code)

    return _JS_ESCAPE.sub(replace, value)


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def _published(raw_html: str, document: HtmlDocument) -> tuple[str | None, str]:
    """The publication time and where it was read (``""`` when nowhere)."""
    for source, pattern in _EPOCH:
        for match in pattern.finditer(raw_html):
            if source == "script:ct" and not _CT_OWNER.search(raw_html, max(0, match.start() - 12), match.start()):
                continue
            if value := from_epoch(match.group(1)):
                return value, source
            break
    for source, pattern in _STATED_TIME:
        if (stated := pattern.search(raw_html)) and (value := parse_chinese(stated.group(1))):
            return value, source
    # Filled in by the page's script: present in browser-saved copies.
    value = parse_chinese(clean_line(_PUBLISH_TIME(document.tree)))
    return (value, "visible:#publish_time") if value else (None, "")


def _tidy_body(lines: list[str], extra: dict[str, str]) -> tuple[list[str], str | None]:
    """Cut the trailer, drop furniture, move credit lines into ``extra``; return the author."""
    lines = cleaning.drop(cleaning.cut_at(lines, _TRAILER), _FURNITURE)
    lines, fields = take_credits(lines, head=8, tail=12)
    author = fields.pop("author", None)
    for name, value in fields.items():
        extra.setdefault(name, value)
    return lines, author


def _from_markdown(page: RawPage, snapshot: Snapshot) -> Article:
    text = snapshot.content
    title = markdown.heading(text)
    extra: dict[str, str] = {}
    for line in text.splitlines():
        # The account name is rendered as a javascript: link right under the headline.
        for label, href in markdown.links(line):
            if href.lower().startswith("javascript:") and clean_line(label):
                extra.setdefault("account", clean_line(label))
    lines = [line for line in markdown.render(text) if clean_line(line) != clean_line(snapshot.header_title or title or "")]
    lines, author = _tidy_body(lines, extra)
    draft = Draft(title=title, author=author, lines=lines, extra=extra)
    return finish(page, snapshot, draft)


def _script_lines(text: str) -> list[str]:
    """Lines of a ``content_noencode`` value: HTML for articles, plain text for share posts.

    Share-post text still carries inline markup (topic links ``<a class="wx_topic_link">``).
    """
    if text.lstrip().startswith("<"):
        return block_lines(load_document(text, fragment=True).tree)
    lines = []
    for line in text.splitlines():
        if "<" in line and ">" in line:
            line = " ".join(block_lines(load_document(line, fragment=True).tree))
        lines.append(clean_line(_MARKDOWN_BOLD.sub("", line)))
    return [line for line in lines if line]


def _unavailable(document: HtmlDocument) -> NotAnArticle:
    """What WeChat served instead of the article, by the message it shows."""
    messages = [clean_line(el.text_content()) for el in _ERROR_MESSAGE(document.tree)]
    messages.append(document.title_tag)
    # Some error templates put the message straight in .weui-msg, with no title element.
    messages.extend(clean_line(el.text_content())[:200] for el in _ERROR_AREA(document.tree))
    for message in messages:
        # The notices are takedown.py's table, shared with the revisit's takedown judgement.
        for notice in WECHAT_NOTICES:
            if notice.marker in message:
                return NotAnArticle(notice.description, kind=notice.kind)
    return NotAnArticle("WeChat page without article content", kind=EMPTY)


def _from_html(page: RawPage, snapshot: Snapshot) -> Article:
    raw = snapshot.content
    document = load_document(raw, fragment=snapshot.form == "fragment")
    content = _CONTENT(document.tree)
    if content:
        furniture.strip(content[0], (*furniture.COMMON, *furniture.PROMO), lists=True)
    lines = block_lines(content[0]) if content else []
    script_text = _CONTENT_NOENCODE.search(raw)
    show_type = _first((_SHOW_TYPE,), raw)
    if script_text and (show_type in _SHARE_POST_TYPES or not lines):
        lines = _script_lines(_js_unescape(script_text.group(1)))
    if not lines:
        if content or script_text:
            raise NotAnArticle("WeChat post without text (image-only)", kind=IMAGE_POST)
        raise _unavailable(document)

    extra: dict[str, str] = {}
    account = next((clean_line(el.text_content()) for el in _ACCOUNT(document.tree)), "")
    extra["account"] = account or clean_line(_first(_NICKNAME, raw) or "")
    reposted = next((clean_line(el.text_content()) for el in _REPOSTED_FROM(document.tree)), "")
    extra["reposted_from"] = reposted
    lines, body_author = _tidy_body(lines, extra)

    title = next((clean_line(el.text_content()) for el in _TITLE(document.tree)), "")
    title = title or document.meta_value("og:title", "twitter:title") or ""
    title = title or _js_unescape(_first((_MSG_TITLE,), raw) or "")
    byline = next((clean_line(el.text_content()) for el in _AUTHOR(document.tree)), "")
    author = byline or document.meta_value("author", "og:article:author") or body_author
    draft = Draft(
        title=title, author=author, lines=lines, extra=extra, canonical_href=canonical_href(document)
    )
    draft.offer_published(*_published(raw, document))
    if show_type in _SHARE_POST_TYPES:
        extra["page_kind"] = IMAGE_POST if show_type == "8" else "text_post"
    return finish(page, snapshot, draft)


def parse(page: RawPage) -> Article:
    snapshot = read_snapshot(page)
    if snapshot.form in ("html", "fragment"):
        return _from_html(page, snapshot)
    return _from_markdown(page, snapshot)
