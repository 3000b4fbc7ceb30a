"""The parsers' fast paths give exactly what the plain code they replace gave.

Each speed-up in the parse path (issue 14) stands in for a simpler expression; these
tests hold them to it on edge cases and on real saved pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from lxml import etree
from trafilatura.utils import load_html

from crawler.parsing import RawPage, bbc, cleaning, ecns, furniture, rfi, wechat
from crawler.parsing.html import _load_html
from crawler.parsing.portal import _CUT, _FURNITURE
from crawler.parsing.snapshot import _rfind_any_case, read_snapshot
from tests.support.parser_cases import CORPUS


def _same_tree(ours: etree._Element | None, theirs: etree._Element | None) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    return bool(etree.tostring(ours, encoding="unicode") == etree.tostring(theirs, encoding="unicode"))


EDGE_DOCUMENTS = [
    "<html><head><meta charset='gbk'><title>标题</title></head><body><p>正文，中文。</p></body></html>",
    "<!DOCTYPE html>\n<html><body><p>after a doctype</p></body></html>",
    "<html/>\n<body><p>self-closing html</p></body>",
    "<?xml version='1.0' encoding='gb2312'?><html><body><p>declared</p></body></html>",
    "<p>a lone block, no html</p>",  # dubious: trafilatura rejects it
    "<div><p>one</p><p>two</p></div>",
    "<html><body><p>lone surrogate \ud800 here</p></body></html>",  # not UTF-8 encodable
    "<html><body><p>control \x0c and \ufffe characters</p></body></html>",
    "",
    "   ",
    "<html><body>" + "<div>" * 300 + "deep" + "</div>" * 300 + "</body></html>",
]


@pytest.mark.parametrize("content", EDGE_DOCUMENTS)
def test_our_html_loader_gives_trafilaturas_tree(content: str) -> None:
    assert _same_tree(_load_html(content), load_html(content))


def _saved_html_pages(limit: int = 60) -> list[str]:
    pages = []
    for path in sorted((CORPUS / "pages").glob("*/*.html"))[: limit * 2]:
        if ".expected" in path.name:
            continue
        page = RawPage(url="https://example.invalid/a", body=path.read_bytes(), outlet="x",
                       fetched_at=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
        snapshot = read_snapshot(page)
        if snapshot.form == "html":
            pages.append(snapshot.content)
    return pages[:limit]


@pytest.mark.skipif(not (CORPUS / "pages").is_dir(), reason="the shared corpus is not beside the checkout")
def test_our_html_loader_gives_trafilaturas_tree_on_saved_pages() -> None:
    pages = _saved_html_pages()
    assert len(pages) >= 30
    for content in pages:
        assert _same_tree(_load_html(content), load_html(content))


RULE_SETS = [
    furniture.COMMON,
    (*furniture.COMMON, *furniture.PROMO),
    furniture.LIST_HEADINGS,
    furniture.RFI_DATES,
    _CUT,
    _FURNITURE,
    cleaning.COMMON_FURNITURE,
    ecns._FURNITURE,
    ecns._CUT,
    bbc._FURNITURE,
    rfi._FURNITURE,
    wechat._FURNITURE,
    wechat._TRAILER,
    (
        re.compile("^a|b"),
        re.compile(r"^[|]c$"),
        re.compile("^d", re.MULTILINE),
        re.compile(r"^(?:e|f)\|g"),
    ),
    (),
]
LINES = [
    "", "分享到：", "share", "SHARE THIS", "Copyright © 2024", "版权所有", "点个赞吧!", "往期推荐",
    "往期推荐：", "相关新闻", "正文", "张三 摄", "图源：新华社", "Accept all cookies.", "请点击“接受并继续”。",
    "一句话提到接受并继续和别的", "发表时间： 06/02/2022 - 13:48", "7 分钟", "【纠错】【打印】", "】", "Play Video",
    "广告 某品牌新品上市", "普通的一段新闻正文，没有任何特别之处。", "跳过 Instagram 帖子", "Instagram 帖子结束",
    "正文 分享到：", "长按识别二维码关注", "xb", "a", "|c", "x\nd", "e|g", "f|gh", "eg", "新华社记者 张三 摄）",
    "WANG QIAN/CHINA DAILY", "[Photo by Li Hua]", "Home >> World", "http://www.china.org.cn/opinion/x.htm",
]  # fmt: skip


@pytest.mark.parametrize("rules", RULE_SETS, ids=range(len(RULE_SETS)))
def test_a_combined_rule_set_matches_where_any_of_its_rules_does(rules: tuple[re.Pattern[str], ...]) -> None:
    test = cleaning.any_of(rules)
    for line in LINES:
        assert test(line) == cleaning.matches(line, rules), line


@pytest.mark.parametrize(
    ("pattern", "anchored"),
    [
        (re.compile("^a"), True),
        (re.compile("^a|^b"), True),
        (re.compile("^(?:a|b)c$"), True),
        (re.compile(r"^[|(]a"), True),
        (re.compile(r"^[]|]a"), True),
        (re.compile(r"^a\|b"), True),
        (re.compile("^a|b"), False),  # the second branch may match anywhere
        (re.compile(r"^[^|]|x"), False),
        (re.compile("a"), False),
        (re.compile("(?i)^a"), False),  # unsure: treated as unanchored
        (re.compile("^a", re.MULTILINE), False),  # "^" after every newline
        (re.compile("^ a", re.VERBOSE), False),
    ],
)
def test_a_rule_counts_as_anchored_only_when_it_can_match_nowhere_but_the_start(
    pattern: re.Pattern[str], anchored: bool
) -> None:
    assert cleaning.anchored_at_start(pattern) is anchored


def test_a_rule_set_with_groups_is_searched_rule_by_rule() -> None:
    rules = (re.compile(r"^(a)\1$"), re.compile(r"^(?P<x>b)$", re.IGNORECASE))
    test = cleaning.any_of(rules)
    assert test("aa") and test("B") and not test("ab")


@pytest.mark.parametrize(
    "text",
    ["", "<script", "<SCRIPT", "<script x <SCRIPT", "<SCRIPT x <script", "</script><SCRIPT", "no tags", "<Script"],
)
def test_the_case_insensitive_search_from_the_end_finds_the_last_of_either_case(text: str) -> None:
    for needle in ("<script", "</script"):
        assert _rfind_any_case(text, needle) == max(text.rfind(needle), text.rfind(needle.upper()))


def _plain_clean_line(line: str) -> str:
    """What ``clean_line`` did before its fast path."""
    import unicodedata

    line = re.sub(
        "[\u200b\u200c\u200d\u2060\ufeff]",
        "",
        unicodedata.normalize("NFC", re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", " ", line)),
    )
    return re.sub(r"[^\S\n]+", " ", line).strip()


@pytest.mark.parametrize(
    "line",
    ["", "  plain  text ", "中文\u3000全角空格", "e\u0301 decomposed", "zero\u200bwidth", "\ufeffBOM", "tab\there",
     "ctrl\x1bescape", "C1\x85next", "e\u0301\u200b both", "keeps\nnewline  \n here", "\u00a0nbsp\u00a0", "Å\u030a"],
)  # fmt: skip
def test_clean_line_gives_what_the_plain_substitutions_gave(line: str) -> None:
    from crawler.parsing.text import clean_line

    assert clean_line(line) == _plain_clean_line(line)


def test_every_element_of_our_tree_is_an_html_element() -> None:
    """The C-level class lookup gives lxml.html's element class everywhere, form controls included."""
    from lxml.html import HtmlElement

    tree = _load_html(
        "<html><body><form><input name=q><select><option>a</option></select><textarea>t</textarea>"
        "<label>l</label></form><p>text</p></body></html>"
    )
    assert tree is not None
    elements = list(tree.iter())
    assert len(elements) >= 9 and all(isinstance(element, HtmlElement) for element in elements)
    assert tree.text_content().endswith("text")


def _page(body: bytes) -> RawPage:
    return RawPage(
        url="https://example.invalid/a",
        body=body,
        outlet="x",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("code_point", range(0x100))
def test_a_utf8_page_skips_the_control_search_only_when_it_has_no_control_character(
    code_point: int,
) -> None:
    from crawler.parsing.decode import decode_body
    from crawler.parsing.snapshot import _CONTROLS, _may_hold_controls

    for body in (
        f"<html><body><p>中文{chr(code_point)}正文 ©\u00a0</p></body></html>".encode(),
        f"<html><body><p>中文{chr(code_point)}</p>".encode()
        + b"\xff broken",  # decoded with U+FFFD
    ):
        decoded = decode_body(body)
        if _CONTROLS.search(decoded.text):
            assert _may_hold_controls(decoded, body)
        snapshot = read_snapshot(_page(body))
        content, removed = _CONTROLS.subn("", decoded.text)
        assert (snapshot.content, snapshot.decoded.controls_removed) == (content, removed)


def test_a_page_in_another_encoding_is_always_searched_for_controls() -> None:
    from crawler.parsing.decode import decode_body
    from crawler.parsing.snapshot import _may_hold_controls

    body = "<html><head><meta charset='gbk'></head><body><p>中文\x1b正文</p></body></html>".encode(
        "gbk"
    )
    assert _may_hold_controls(decode_body(body), body)
    assert read_snapshot(_page(body)).decoded.controls_removed == 1


@pytest.mark.parametrize(
    "pieces",
    [
        ["短文"] * 700,  # 1,400 characters: over the limit, but not by the bound's margin
        ["正文" * 1300],
        ["\u200b" * 5000, "内容已删除"],  # zero-width padding: short once cleaned
        ["\x01" * 5000, "内容已删除"],  # control characters become spaces, then collapse
        ["\u1100\u1161\u11a8" * 500],  # Hangul jamo: NFC makes one syllable of three
        ["\u03b1\u0314\u0342\u0345" * 400],  # a base letter and three marks: one character
        ["  \n\t "] * 3000,
        ["a b c d e " * 600],
    ],
)
def test_a_visible_text_is_called_surely_long_only_when_its_cleaned_form_is(
    pieces: list[str],
) -> None:
    from crawler.parsing.kind import _surely_longer_than
    from crawler.parsing.text import clean_line

    cleaned = len(clean_line(" ".join(pieces)))
    if _surely_longer_than(pieces, 600):
        assert cleaned > 600
    if cleaned > 600 * 4 * 4:
        assert _surely_longer_than(pieces, 600)  # the bound still does its job on long text


def test_a_takedown_notice_padded_with_invisible_characters_is_still_one() -> None:
    from crawler.parsing.html import load_document
    from crawler.parsing.kind import classify

    padding = "\u200b" * 6000
    document = load_document(
        f"<html><head><title>提示</title></head><body><p>{padding}该内容已被发布者删除</p></body></html>"
    )
    assert classify(document).kind == "takedown"
