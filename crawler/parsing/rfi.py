"""RFI 华语 (www.rfi.fr/cn), live HTML and archived fragments.

RFI prints its timestamp day first in Paris time (``08/11/2023 - 15:23``) and
ends every article with a share bar (``分享 :``) and newsletter/app promos.
"""

from __future__ import annotations

import re

from lxml.etree import XPath

from crawler.items import Article
from crawler.parsing import cleaning, furniture
from crawler.parsing.dates import PARIS, parse_day_first
from crawler.parsing.generic import draft_from_html
from crawler.parsing.html import block_lines, extract_lines, load_document
from crawler.parsing.kind import refuse_non_article
from crawler.parsing.page import RawPage
from crawler.parsing.record import finish
from crawler.parsing.snapshot import read_snapshot
from crawler.parsing.text import clean_line

_BODY = XPath(
    "(//div[contains(@class, 't-content__body')] | //article[contains(@class, 't-content')])[1]"
)
# The standfirst, printed in bold above the body: the article's first paragraph.
_CHAPO = XPath("//*[contains(concat(' ', @class, ' '), ' t-content__chapo ')]")
_FURNITURE_NODES = XPath(
    ".//*[@data-selfpromo-newsletter or @data-selfpromo-app or @data-root-share"
    " or contains(@class, 'm-em-share') or contains(@class, 'o-self-promo')"
    " or contains(@class, 'm-interstitial') or self::figcaption]"
)
_STAMP = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}\s*-\s*\d{1,2}:\d{2}$")
_CUT = (
    re.compile(r"^分享\s*[:：]?$"),
    re.compile(r"^(?:订阅|下载法广应用|Télécharger l'application)"),
)
_FURNITURE = (
    *cleaning.COMMON_FURNITURE,
    re.compile(r"^(?:广告|Publicité|阅读更多|免费订阅)$"),
)


def parse(page: RawPage) -> Article:
    snapshot = read_snapshot(page)
    fragment = snapshot.form != "html"
    document = load_document(snapshot.content, fragment=fragment)
    if not fragment:
        refuse_non_article(document)
    body = document.tree if fragment else next(iter(_BODY(document.tree)), None)
    if body is not None:
        furniture.strip(body, (*furniture.COMMON, *furniture.RFI_DATES), lists=True)
        for node in _FURNITURE_NODES(body):
            node.drop_tree()
        lines = block_lines(body)
        if not fragment:
            chapo = [clean_line(node.text_content()) for node in _CHAPO(document.tree)]
            lines = [line for line in chapo if line and line not in lines] + lines
    else:
        furniture.strip(document.tree, (*furniture.COMMON, *furniture.RFI_DATES), lists=True)
        lines = extract_lines(document.tree)
    stamp = next((line for line in lines[:5] if _STAMP.match(line)), None)
    lines = [line for line in lines if line != stamp]
    draft = draft_from_html(document, cleaning.drop(cleaning.cut_at(lines, _CUT), _FURNITURE))
    draft.language = "zh"
    draft.offer_published(parse_day_first(stamp, PARIS), "visible:stamp")
    return finish(page, snapshot, draft)
