"""Property tests on hostile input: parsers, the replay reader, sidecars and the URL canonicaliser.

Each input is either accepted (an Article, a SavedPage, a canonical URL) or refused with a
one-line reason (ParseError, ReplayProblem, ValueError); no other exception may escape.
Example counts are modest so the suite stays fast on two shared cores: this is a smoke
net over the classes of damage, not a search for every bug.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.items import Article
from crawler.parsing import PARSERS, ParseError, RawPage, parse
from crawler.replay import (
    ReplayProblem,
    SavedPage,
    read_page,
    read_sidecar,
    scan_outlet,
)
from crawler.urls import canonical_url, strip_secrets, web_address_problem
from tests.support.parser_cases import seed_files

SEEDS = [(path.parent.name, path.read_bytes()) for path in seed_files()]
CONTROLS = [bytes([c]) for c in (*range(0x00, 0x20), 0x7F)] + ["\u202e".encode(), "\x9b".encode(), b"&#27;", b"&#0;"]
ENCODINGS = ["utf-8", "gb18030", "big5", "shift_jis", "euc-kr", "cp1252", "utf-16", "utf-16-le", "koi8-r"]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated_page(draw: st.DrawFn) -> tuple[str, bytes]:
    """A seed page after a few rounds of truncation, byte flips, inserted controls or re-encoding."""
    parser, data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "control", "encode"]))
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        if kind == "truncate":
            data = data[:position]
        elif kind == "flip":
            for _ in range(draw(st.integers(1, 20))):
                at = draw(st.integers(0, len(data) - 1))
                data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif kind == "control":
            data = data[:position] + draw(st.sampled_from(CONTROLS)) + data[position:]
        else:
            text = data.decode("utf-8", "replace")
            data = text.encode(draw(st.sampled_from(ENCODINGS)), "replace")
    return parser, data


def _check_article(article: Article) -> None:
    assert article.title and article.body
    for text in (article.title, article.body):
        assert not any(ch < " " and ch not in "\n\t" for ch in text), repr(text[:200])
    if "encoding" in article.extra:
        assert article.extra["encoding"]["replacements"] > 0


@FAST
@given(page=mutated_page(), parser_name=st.sampled_from(sorted(PARSERS)))
def test_every_parser_stores_or_refuses_mutated_pages(page: tuple[str, bytes], parser_name: str) -> None:
    _, body = page
    raw = RawPage(url="https://www.example.com/a/1.html", body=body, headers={}, outlet="x",
                  fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    try:
        article = parse(raw, parser_name)
    except ParseError as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    _check_article(article)


SIDECAR_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
SIDECAR_URLS = st.one_of(
    st.text(max_size=60),
    st.builds(lambda s, rest: f"{s}://{rest}", st.sampled_from(["http", "https", "HTTP", "file", "javascript", "x", ""]), st.text(max_size=40)),
    st.sampled_from(["https://[::1", "http://h:99999/", "http://", "https://example.com/\x1b[2J", "https://例子.中国/路径?q=1#f"]),
)
SIDECAR_TIMES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", "2024-02-30", "2024-05-01T08:00:00"]),
    st.datetimes().map(lambda d: d.isoformat()),
)


@st.composite
def sidecar_bytes(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["fields", "any_json", "bytes"]))
    if shape == "bytes":
        return draw(st.binary(max_size=200))
    if shape == "any_json":
        return json.dumps(draw(SIDECAR_VALUES)).encode()
    meta = {"url": draw(st.one_of(SIDECAR_URLS, SIDECAR_VALUES)), "fetched_at": draw(st.one_of(SIDECAR_TIMES, SIDECAR_VALUES))}
    return json.dumps(meta, ensure_ascii=draw(st.booleans())).encode()


@FAST
@given(page=mutated_page(), sidecar=st.none() | sidecar_bytes())
def test_the_replay_reader_accounts_for_every_file(page: tuple[str, bytes], sidecar: bytes | None) -> None:
    parser, body = page
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / parser
        folder.mkdir()
        (folder / "page.html").write_bytes(body)
        if sidecar is not None:
            (folder / "page.html.meta.json").write_bytes(sidecar)
        entries = list(scan_outlet(folder, parser, datetime(2026, 1, 1, tzinfo=UTC)))
        assert len(entries) == 1
        entry = entries[0]
        if isinstance(entry, ReplayProblem):
            assert entry.reason and "\n" not in entry.reason
            return
        assert isinstance(entry, SavedPage)
        assert entry.fetched_at.tzinfo is not None
        assert entry.url.startswith(("http://", "https://", "HTTP://", "HTTPS://", "fixture:")) or entry.url[:5].lower() in ("http:", "https")
        data = read_page(str(entry.path), 8 * 1024 * 1024)
    raw = RawPage(url=entry.url, body=data, headers={}, outlet=parser, fetched_at=entry.fetched_at)
    try:
        article = parse(raw, parser)
    except ParseError:
        return
    _check_article(article)
    canonical_url(strip_secrets(article.url))  # what the pipeline does next: no exception


@settings(max_examples=120, deadline=None)
@given(data=sidecar_bytes())
@example(data=b'{"url": "https://a.example/x", "fetched_at": "9999-12-31T23:59:59-05:00"}')
@example(data=b'{"url": "https://a.example/x", "fetched_at": "0001-01-01T00:00:00+14:00"}')
@example(data=b'{"url": "javascript:alert(1)"}')
@example(data=b"[" * 100_000)
def test_the_sidecar_reader_returns_a_checked_dict_or_one_reason(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sidecar = Path(tmp) / "p.html.meta.json"
        sidecar.write_bytes(data)
        try:
            meta = read_sidecar(sidecar, Path(tmp))
        except ValueError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
    assert isinstance(meta, dict)
    if meta.get("url") is not None:
        assert web_address_problem(meta["url"]) is None
    if meta.get("fetched_at") is not None:
        assert meta["fetched_at"].utcoffset().total_seconds() == 0


URL_PARTS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@st.composite
def hostile_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "fixture", "ftp", "", "javascript"]))
    host = draw(st.one_of(URL_PARTS, st.sampled_from(["example.com", "[::1]", "[::1", "user:pw@h.com", "h.com:99999", "xn--ls8h.la", "例子.中国"])))
    path = draw(URL_PARTS)
    query = draw(st.lists(st.tuples(URL_PARTS, URL_PARTS), max_size=3))
    fragment = draw(URL_PARTS)
    url = f"{scheme}://{host}/{path}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query)
    if draw(st.booleans()):
        url += "#" + fragment
    return url


@settings(max_examples=150, deadline=None)
@given(url=st.one_of(hostile_urls(), st.text(max_size=80)), declared=st.none() | hostile_urls())
def test_the_url_canonicaliser_returns_a_url_or_a_value_error(url: str, declared: str | None) -> None:
    try:
        stripped = strip_secrets(url)
        canonical = canonical_url(stripped, declared)
    except ValueError:
        assert web_address_problem(url) is not None or url.startswith("fixture")
        return
    assert isinstance(canonical, str) and canonical
    if web_address_problem(url) is None:
        assert canonical_url(canonical) == canonical  # a canonical URL is its own canonical form
