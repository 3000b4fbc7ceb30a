"""Bad input gets a one-line reason; mis-declared encodings are detected and recovered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.parsing import PARSERS, ParseError, RawPage, parse
from crawler.parsing.decode import decode_body
from crawler.parsing.snapshot import MAX_TEXT_CHARS
from tests.support.parser_cases import FIXTURES, seed_page, seed_record

FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)
SEED_001 = FIXTURES / "portal" / "001_004c24d0aad6edaa.txt"

TITLE = "国防部举行例行记者会"
PARAGRAPHS = [
    "国防部新闻局副局长、国防部新闻发言人蒋斌大校答记者问，介绍了近期军事外交工作的有关情况。",
    "发言人表示，中方将继续深化两军务实合作，为维护地区和平稳定作出积极贡献。",
]
PAGE = (
    "<!DOCTYPE html><html><head><title>{title}_新浪新闻</title></head><body>"
    '<h1>{title}</h1><div id="artibody">{paragraphs}</div></body></html>'
).format(title=TITLE, paragraphs="".join(f"<p>{text}</p>" for text in PARAGRAPHS))


def _page(body: bytes, headers: dict[str, str] | None = None) -> RawPage:
    return RawPage(
        url="https://news.sina.com.cn/c/2024-05-01/doc-test.shtml",
        body=body,
        headers=headers or {},
        outlet="portal",
        fetched_at=FETCHED_AT,
    )


BAD_INPUT = [
    (b"", "empty file"),
    (b"  \n\t \r\n  ", "whitespace-only file"),
    (b"<html>\x00\x00\x01\x02binary", "binary content (NUL bytes)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content (PNG image)"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary content (PDF document)"),
    (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "binary content (GIF image)"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "binary content (gzip-compressed data)"),
    (
        b'<!DOCTYPE html><html><head><title>t</title></head><body><div class="art',
        "truncated HTML: document ends inside a <div tag",
    ),
    (
        b"<html><head><title>t</title><script>var a = 1;\nfunction f() {",
        "truncated HTML: document ends inside a <script> block",
    ),
    (
        b"<html><head><style>body { color: red; }</style></head><body><p>text</p><!-- footer",
        "truncated HTML: document ends inside a <!-- comment",
    ),
]


@pytest.mark.parametrize("parser", sorted(PARSERS))
@pytest.mark.parametrize(("body", "reason"), BAD_INPUT, ids=[reason for _, reason in BAD_INPUT])
def test_bad_input_raises_parse_error_with_reason(parser: str, body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as error:
        parse(_page(body), parser)
    assert type(error.value) is ParseError, "bad input is not a 'not an article' page"
    assert error.value.reason == reason
    assert "\n" not in error.value.reason


def test_oversized_page_is_refused() -> None:
    body = ("<html><body>" + "<p>新闻</p>" * (MAX_TEXT_CHARS // 9 + 1) + "</body></html>").encode()
    with pytest.raises(ParseError, match=r"^page too large: "):
        parse(_page(body), "portal")


def test_missing_closing_html_tag_is_not_truncation() -> None:
    article = parse(_page(PAGE.removesuffix("</body></html>").encode()), "portal")
    assert article.title == TITLE


def test_unknown_parser_name_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown parser 'nope'; known parsers: bbc, ecns"):
        parse(_page(PAGE.encode()), "nope")


def test_gb18030_copy_of_seed_gives_the_same_record() -> None:
    utf8 = seed_record(SEED_001)
    gb = SEED_001.read_text(encoding="utf-8").encode("gb18030")
    assert gb != SEED_001.read_bytes()
    assert parse(seed_page(SEED_001, body=gb), "portal").to_dict() == utf8


def test_gbk_page_served_as_utf8_is_recovered() -> None:
    article = parse(
        _page(PAGE.encode("gbk"), {"content-type": "text/html; charset=utf-8"}), "portal"
    )
    assert article.title == TITLE
    assert article.body == "\n".join(PARAGRAPHS)
    assert "\ufffd" not in article.body
    assert article.extra["encoding_conflict"] == {"declared": "utf-8", "decoded_as": "gb18030"}


def test_utf8_page_served_as_gbk_is_not_mojibake() -> None:
    article = parse(
        _page(PAGE.encode("utf-8"), {"content-type": "text/html; charset=gbk"}), "portal"
    )
    assert article.title == TITLE
    assert article.body == "\n".join(PARAGRAPHS)
    assert article.extra["encoding_conflict"] == {"declared": "gb18030", "decoded_as": "utf-8"}


def test_truthful_declarations_are_not_conflicts() -> None:
    gbk = PAGE.replace("<head>", '<head><meta charset="gbk">').encode("gbk")
    article = parse(_page(gbk, {"content-type": "text/html; charset=GB2312"}), "portal")
    assert article.title == TITLE
    assert "encoding_conflict" not in article.extra
    assert decode_body(gbk).encoding == "gb18030"


@pytest.mark.parametrize(
    ("body", "headers", "encoding", "conflict"),
    [
        ("\ufeff新闻".encode(), {"content-type": "text/html; charset=gbk"}, "utf-8", False),
        ("新闻".encode("gbk"), {}, "gb18030", False),
        ("新闻".encode("gbk"), {"content-type": "text/html; charset=utf-8"}, "gb18030", True),
        ('<meta charset="utf-8">新闻'.encode("gbk"), {}, "gb18030", True),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">新闻'.encode(
                "gbk"
            ),
            {},
            "gb18030",
            False,
        ),
        (
            "Café".encode("cp1252"),
            {"content-type": "text/html; charset=iso-8859-1"},
            "cp1252",
            False,
        ),
    ],
)
def test_decode_order(body: bytes, headers: dict[str, str], encoding: str, conflict: bool) -> None:
    decoded = decode_body(body, headers)
    assert (decoded.encoding, decoded.conflict) == (encoding, conflict)
    assert "\ufffd" not in decoded.text
