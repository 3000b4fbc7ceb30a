"""ECNS (ecns.cn) and China Daily (chinadaily.com.cn), English; live HTML and text scrapes.

Both print a byline line under the headline that holds what an analyst wants:

- ECNS: ``2023-04-20 08:36:29chinadaily.com.cn Editor : Li Yan ECNS App Download``
- China Daily: ``By Wang Xiaoyu | China Daily | Updated: 2024-05-13 09:08``

Pages of other English sites (this parser also serves as the English fallback)
go through the shared generic path.
"""

from __future__ import annotations

import re

from lxml.etree import XPath
from lxml.html import HtmlElement

from crawler.items import Article
from crawler.parsing import cleaning, furniture
from crawler.parsing.dates import SHANGHAI, parse_chinese, parse_english
from crawler.parsing.generic import draft_from_html, drop_link_tail, listing_reason
from crawler.parsing.html import block_lines, extract_lines, load_document, split_body_lines
from crawler.parsing.kind import refuse_non_article
from crawler.parsing.page import LISTING, NotAnArticle, RawPage
from crawler.parsing.record import Draft, finish
from crawler.parsing.snapshot import Snapshot, read_snapshot
from crawler.parsing.text import clean_line

# Article containers: China Daily's #Content, ECNS's #yanse content block,
# Xinhua English's (english.news.cn) #detailContent.
_CONTAINER = XPath("(//div[@id='Content'] | //div[@id='yanse'] | //div[@id='detailContent'])[1]")
# Short elements that may hold the byline line.
_BYLINE_CANDIDATES = XPath(
    "//span[@class='info_l'] | //div[contains(@class, 'mobile_none')] | //div[@class='info']"
)

_ECNS_BYLINE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}(?::\d{2})?)\s*(?P<source>[^\s].*?)?\s*"
    r"Editor\s*[:：]\s*(?P<editor>.+?)\s*(?:ECNS App Download)?$"
)
_CHINADAILY_BYLINE = re.compile(
    r"^(?:By\s+(?P<author>[^|]+?)\s*\|\s*)?(?P<source>[^|]+?)\s*\|\s*Updated\s*:\s*(?P<updated>.+)$"
)
# People's Daily Online prints "(People's Daily Online) 11:35, November 23, 2022"
# under the headline and "(Web editor: Hongyu, Du Mingming)" at the end.
_DATELINE = re.compile(
    r"^\((?:People's Daily Online|Xinhua|China Daily|chinadaily\.com\.cn)\)\s*(?P<date>.+)$"
)
_WEB_EDITOR = re.compile(r"^\((?:Web editor|Editor)s?\s*:\s*(?P<value>[^)]+)\)$", re.IGNORECASE)
_CUT = (
    re.compile(r"^More\s*(?:Photo|Video|Top news)$", re.IGNORECASE),
    re.compile(r"^(?:Most popular in 24h|Most Viewed|LINE|Related Stories|Related News)$"),
    # Headings of the lists of other stories and videos that follow English stories.
    # (Not "UP NEXT": AP sports recaps end with a section of that name.)
    re.compile(
        r"^(?:Watch Next|Latest Videos|You (?:may|might) also like|Related (?:Articles?|Stories|Coverage|Videos)"
        r"|More (?:Stories|Videos) (?:from|on)\b.{0,40}|What to Read Next|Recommended (?:for You|Stories))\W{0,3}$",
        re.IGNORECASE,
    ),
    re.compile(r"^Back to top\b"),
    re.compile(r"^主站蜘蛛池模板"),
)
_FURNITURE = (
    *cleaning.COMMON_FURNITURE,
    re.compile(r"^(?:Text\s*:\s*A{1,3}\s*Print|ECNS App Download|Share\s*-\s*WeChat)$"),
    re.compile(r"^Home\s*>>"),  # breadcrumbs
    # china.org.cn opinion footers.
    re.compile(
        r"^(?:Opinion articles reflect the views|If you would like to contribute, please contact)"
    ),
    re.compile(r"^http://www\.china\.org\.cn/opinion/\S+$|For more information please visit:$"),
    re.compile(r"^(?:Reproduction in whole or in part|\[網上傳播|\[京ICP|\[京公網安備)"),
    # Photo captions end with the credit: "… [Photo by Su Zhigang/For chinadaily.com.cn]".
    re.compile(r"\[(?:Photo|Photos|Video)(?: by [^\]]+|/[^\]]+)\]\s*$", re.IGNORECASE),
    re.compile(r"\b[A-Z][A-Z .]+/(?:FOR )?CHINA DAILY$"),
)


def _text_byline(line: str, extra: dict[str, str]) -> tuple[str | None, str | None] | None:
    """(published, author) from a byline line, filling ``extra``; ``None`` if it is not one."""
    ecns = _ECNS_BYLINE.match(line)
    if ecns:
        extra["source"] = clean_line(ecns["source"] or "")
        extra["editor"] = clean_line(ecns["editor"])
        return parse_chinese(ecns["date"], SHANGHAI), None
    daily = _CHINADAILY_BYLINE.match(line)
    if daily:
        extra["source"] = clean_line(daily["source"])
        extra["updated_at"] = parse_chinese(daily["updated"], SHANGHAI) or ""
        return None, clean_line(daily["author"] or "") or None
    return None


def _people_daily_lines(lines: list[str], extra: dict[str, str]) -> tuple[list[str], str | None]:
    """Remove the dateline and web-editor lines; return the dateline's time."""
    published = None
    kept: list[str] = []
    for index, line in enumerate(lines):
        dateline = _DATELINE.match(line) if index < 4 else None
        editor = _WEB_EDITOR.match(line) if index >= len(lines) - 4 else None
        if dateline and (stamp := parse_english(dateline["date"], SHANGHAI)):
            published = published or stamp
        elif editor:
            extra.setdefault("editor", clean_line(editor["value"]))
        else:
            kept.append(line)
    return kept, published


def _html_byline(
    candidates: list[HtmlElement], extra: dict[str, str]
) -> tuple[str | None, str | None]:
    for element in candidates:
        found = _text_byline(clean_line(element.text_content()), extra)
        if found is not None:
            return found
    return None, None


def _from_html(page: RawPage, snapshot: Snapshot) -> Article:
    document = load_document(snapshot.content, fragment=snapshot.form == "fragment")
    if snapshot.form == "html":
        refuse_non_article(document)
    furniture.strip(document.tree, lists=True)
    container = _CONTAINER(document.tree)
    candidates = _BYLINE_CANDIDATES(document.tree)
    if container:
        lines = block_lines(container[0])
    else:
        lines = extract_lines(document.tree)
        lines = split_body_lines(document.tree, lines) or lines
        if reason := listing_reason(document, lines):
            raise NotAnArticle(reason, kind=LISTING)
        lines = cleaning.drop_teaser_runs(drop_link_tail(document, lines))
    draft = draft_from_html(document, cleaning.drop(cleaning.cut_at(lines, _CUT), _FURNITURE))
    draft.lines, dateline = _people_daily_lines(draft.lines, draft.extra)
    published, author = _html_byline(candidates, draft.extra)
    draft.offer_published(published, "visible:byline")
    draft.offer_published(dateline, "visible:dateline")
    draft.author = draft.author or author
    return finish(page, snapshot, draft)


def _from_text(page: RawPage, snapshot: Snapshot) -> Article:
    lines = [clean_line(line) for line in snapshot.content.splitlines()]
    lines = [line for line in lines if line]
    extra: dict[str, str] = {}
    title = None
    published = author = None
    body = lines
    for index, line in enumerate(lines[:12]):
        found = _text_byline(line, extra)
        if found is None:
            continue
        published, author = found
        # Above the byline: headline, and before it the section name ("Military").
        header = cleaning.drop(lines[:index], _FURNITURE)
        header = [line for line in header if not re.fullmatch(r"\d+\.\s*LINE|LINE", line)]
        if header and not snapshot.header_title:  # the archive header names the headline
            title = header[-1]
            if len(header) >= 2:
                extra["section"] = header[-2]
        body = lines[index + 1 :]
        break
    body = cleaning.drop(cleaning.cut_at(body, _CUT), _FURNITURE)
    draft = Draft(
        title=title, published_at=published, author=author, language="en", lines=body, extra=extra
    )
    return finish(page, snapshot, draft)


def parse(page: RawPage) -> Article:
    snapshot = read_snapshot(page)
    if snapshot.form in ("html", "fragment"):
        return _from_html(page, snapshot)
    return _from_text(page, snapshot)
