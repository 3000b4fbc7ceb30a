"""The content and the behaviour of the mirror news site (no sockets here; see server.py).

A :class:`MirrorSite` is built from a :class:`MirrorConfig`: for each outlet
(wechat, portal, ecns, rfi, bbc) it serves real saved pages from the shared
corpus and the outlet's seed from ``fixtures/<outlet>/`` as articles, plus a
paginated listing, an RSS 2.0 and an Atom feed and sitemaps (a plain one and a
Google News one), all generated here.  Fault paths (robots.txt modes, a GBK page
without any charset, redirects, 404, 503-then-200, slow, connection reset, gzip
bomb) are served when ``faults`` is on.

Everything is deterministic: article order, dates, ETags and bodies depend only
on the config and the files.  Per-path hit counts and body bytes are recorded
(thread-safe) so tests can assert what a crawl fetched.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS_DIR = Path(os.environ.get("NEWSWATCH_CORPUS_DIR") or REPO_ROOT.parent / "shared" / "corpus" / "pages")
SEEDS_DIR = REPO_ROOT / "fixtures"

OUTLETS: tuple[str, ...] = ("wechat", "portal", "ecns", "rfi", "bbc")

#: Corpus pages served per outlet (paths relative to the corpus ``pages`` dir).
#: ecns and rfi have no saved page anywhere (see SOURCES.md): ecns borrows two
#: chinadaily.com.cn English pages, rfi serves its seed only.
DEFAULT_PAGES: Mapping[str, tuple[str, ...]] = {
    "wechat": (
        "wechat/magichtml_7e99760d.html",
        "wechat/wechatsogou_qqmusic.html",
        "wechat/wechatsogou_iframe.html",
    ),
    "portal": (
        "portal/newspaper4k_chinadaily_cn_2023.html",
        "portal/fundus_people_2024.html",
        "portal/gne_people_1.html",
        "portal/htmldate_sohu_2023.html",
    ),
    "ecns": (
        "english_state/magichtml_chinadaily_2024a.html",
        "english_state/magichtml_chinadaily_2024b.html",
    ),
    "rfi": (),
    "bbc": ("bbc/newspaper4k_bbczhongwen_2012.html",),
}

OUTLET_NAMES = {
    "wechat": "微信公众号",
    "portal": "门户新闻",
    "ecns": "ECNS",
    "rfi": "RFI 华语",
    "bbc": "BBC News 中文",
}
OUTLET_LANG = {"wechat": "zh", "portal": "zh", "ecns": "en", "rfi": "zh", "bbc": "zh"}

#: Newest article date of the site; older ones follow at fixed steps.
BASE_TIME = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
#: Last-Modified of generated, content-independent pages (robots.txt, fault pages).
SITE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

ROBOTS_MODES = ("disallow", "allow", "404", "503", "slow", "reset")

SECRET_BODY = b"INTERNAL-SECRET"


class Paths:
    """The fixed paths of the fault pages."""

    secret = "/secret"
    private_index = "/private/"
    private = "/private/hidden.html"
    gbk = "/special/gbk-nocharset.html"
    redirect_article = "/redirect/article"  # 302 to the first article
    redirect_permanent = "/redirect/permanent"  # 301 to the first article
    redirect_offsite = "/redirect/offsite"  # 302 to http://<offsite_host>:<port>/secret
    missing = "/missing.html"  # 404 (as is every unknown path)
    flaky = "/flaky"  # <flaky_status> for the first <flaky_failures> hits, then 200
    slow = "/slow"  # sleeps <slow_seconds>, then 200
    reset = "/reset"  # headers + part of the body, then a TCP RST
    bomb = "/bomb"  # small gzip body inflating to <bomb_inflated_size> bytes
    special_list = "/special/urls.txt"  # a plain-text URL list of the pages above


@dataclass(frozen=True)
class MirrorConfig:
    """What the mirror serves; every field has a deterministic default."""

    outlets: tuple[str, ...] = OUTLETS
    #: Articles per listing page.
    per_page: int = 2
    #: Feed kinds served per outlet: any of "rss", "atom".
    feeds: tuple[str, ...] = ("rss", "atom")
    sitemaps: bool = True
    #: Serve the fault paths of :class:`Paths`.
    faults: bool = True
    #: robots.txt: "disallow" (Disallow: /private/), "allow" (no rules), "404",
    #: "503", "slow" (sleeps slow_seconds, then "disallow"), "reset".
    robots: str = "disallow"
    flaky_failures: int = 2
    flaky_status: int = 503
    slow_seconds: float = 2.0
    #: Size the /bomb body inflates to (it is served gzip-compressed).
    bomb_inflated_size: int = 16 * 1024 * 1024
    #: Host of the off-site redirect target (the mirror answers on it too).
    offsite_host: str = "127.0.0.1"
    #: Cache-Control of cacheable pages; "max-age=0" makes caches revalidate.
    cache_control: str | None = "max-age=0"
    #: Override the corpus pages per outlet (paths relative to corpus_dir).
    pages: Mapping[str, Sequence[str]] | None = None
    #: Serve each outlet's seed from fixtures/<outlet>/ as an article.
    seeds: bool = True
    corpus_dir: Path = CORPUS_DIR
    seeds_dir: Path = SEEDS_DIR

    def __post_init__(self) -> None:
        unknown = set(self.outlets) - set(OUTLETS)
        if unknown:
            raise ValueError(f"unknown outlets {sorted(unknown)}; known: {OUTLETS}")
        if self.robots not in ROBOTS_MODES:
            raise ValueError(f"robots must be one of {ROBOTS_MODES}, got {self.robots!r}")
        if self.per_page < 1:
            raise ValueError("per_page must be >= 1")


@dataclass(frozen=True)
class Article:
    outlet: str
    slug: str
    title: str
    published: datetime
    body: bytes
    source: str  # where the bytes come from, for provenance in failures

    @property
    def path(self) -> str:
        return f"/{self.outlet}/articles/{self.slug}.html"


@dataclass
class Reply:
    """What the server must send for one request."""

    status: int
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    #: Sends ETag/Last-Modified/Cache-Control and honours conditional requests.
    last_modified: datetime | None = None
    #: Seconds to sleep before answering.
    delay: float = 0.0
    #: Send the headers and this many body bytes, then reset the connection.
    reset_after: int | None = None


@dataclass
class PathStats:
    hits: int = 0
    bytes: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    status: int
    body_bytes: int
    headers: dict[str, str]  # request headers, names lower-cased


# ------------------------------------------------------------------- content


@lru_cache(maxsize=64)
def _read_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


_OG_TITLE = re.compile(rb'<meta[^>]+property=["\']og:title["\'][^>]+content=["\']([^"\']+)', re.I)
_MSG_TITLE = re.compile(rb'msg_title\s*=\s*["\']([^"\']+)["\']')
_TITLE = re.compile(rb"<title[^>]*>([^<]+)</title>", re.I)
_H1 = re.compile(rb"<h1[^>]*>\s*([^<\s][^<]*)</h1>", re.I)


def _page_title(raw: bytes, fallback: str) -> str:
    for pattern in (_OG_TITLE, _MSG_TITLE, _TITLE, _H1):
        match = pattern.search(raw)
        if match:
            text = html.unescape(match.group(1).decode("utf-8", "replace")).strip()
            if text:
                return text
    return fallback


_SEED_HEADER = re.compile(r"^<!--(\d{10,13})-->\s*\n\[(.+?)\]\((.+?)\)\s*\n-{3,}\s*\n", re.S)
_SEED_TIME = re.compile(r"(20\d\d-\d\d-\d\d) (\d\d:\d\d:\d\d)")


@dataclass(frozen=True)
class Seed:
    name: str
    title: str
    published: datetime | None
    fragment: str | None  # HTML fragment (archived form) or None for a text seed
    text: str


def parse_seed(path: Path) -> Seed:
    """A seed file: an archived ``<!--ms-->[title](url)\\n---`` HTML fragment, or text."""
    raw = path.read_text(encoding="utf-8")
    header = _SEED_HEADER.match(raw)
    if header:
        published = datetime.fromtimestamp(int(header.group(1)[:10]), tz=UTC)
        return Seed(path.stem, header.group(2).strip(), published, raw[header.end():], raw)
    lines = [line.strip() for line in raw.splitlines()]
    title = ""
    for index, line in enumerate(lines):  # a Markdown "Title\n=====" heading
        if line and set(line) == {"="} and index and lines[index - 1]:
            title = lines[index - 1]
            break
    if not title:
        title = next(
            (
                line
                for line in lines
                if len(line) >= 12 and not line.startswith(("时间", "Text:", "#", "!"))
            ),
            path.stem,
        )
    when = _SEED_TIME.search(raw)
    published = None
    if when:  # seed dates are Beijing time
        local = datetime.fromisoformat(f"{when.group(1)}T{when.group(2)}+08:00")
        published = local.astimezone(UTC)
    return Seed(path.stem, title, published, None, raw)


def _html_page(title: str, body: str, *, outlet: str, published: datetime | None) -> bytes:
    meta = ""
    if published is not None:
        meta = f'<meta property="article:published_time" content="{published.isoformat()}">\n'
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{OUTLET_LANG.get(outlet, "zh")}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<meta property="og:title" content="{html.escape(title)}">\n{meta}'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def _seed_page(seed: Seed, outlet: str) -> bytes:
    title = html.escape(seed.title)
    if seed.fragment is not None:
        inner = seed.fragment
    else:
        inner = "\n".join(
            f"<p>{html.escape(line.strip())}</p>" for line in seed.text.splitlines() if line.strip()
        )
    if outlet == "wechat":  # the WeChat article template's landmarks
        body = (
            f'<div id="page-content"><h1 class="rich_media_title" id="activity-name">{title}</h1>\n'
            f'<div class="rich_media_content" id="js_content">\n{inner}\n</div></div>'
        )
    else:
        body = f"<article>\n<h1>{title}</h1>\n{inner}\n</article>"
    return _html_page(seed.title, body, outlet=outlet, published=seed.published)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def build_articles(config: MirrorConfig) -> list[Article]:
    """The articles of every configured outlet, newest first within each outlet."""
    pages = dict(DEFAULT_PAGES)
    if config.pages is not None:
        pages.update({k: tuple(v) for k, v in config.pages.items()})
    articles: list[Article] = []
    step = 0
    for outlet in config.outlets:
        found: list[tuple[str, str, datetime | None, bytes, str]] = []
        if config.seeds:
            for seed_path in sorted((config.seeds_dir / outlet).glob("*.txt")):
                seed = parse_seed(seed_path)
                found.append(
                    (_slug(seed.name), seed.title, seed.published, _seed_page(seed, outlet),
                     str(seed_path))
                )
        for relative in pages.get(outlet, ()):
            path = config.corpus_dir / relative
            if not path.is_file():
                continue  # the corpus is optional; the seeds always exist
            raw = _read_bytes(str(path))
            found.append((_slug(path.stem), _page_title(raw, path.stem), None, raw, str(path)))
        for slug, title, published, body, source in found:
            if published is None:  # deterministic, 7 hours apart
                published = BASE_TIME - timedelta(hours=7 * step)
            step += 1
            articles.append(Article(outlet, slug, title, published, body, source))
    articles.sort(key=lambda a: (config.outlets.index(a.outlet), -a.published.timestamp(), a.slug))
    return articles


def gbk_page() -> tuple[str, bytes]:
    """(title, bytes) of a GBK article with no charset in header or markup."""
    seed = parse_seed(next(iter(sorted((SEEDS_DIR / "portal").glob("*.txt")))))
    paragraphs = [line.strip() for line in seed.text.splitlines() if line.strip()][:20]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    text = (
        f"<html>\n<head>\n<title>{html.escape(seed.title)}</title>\n</head>\n"
        f"<body>\n<h1>{html.escape(seed.title)}</h1>\n{body}\n</body>\n</html>\n"
    )
    return seed.title, text.encode("gbk", errors="xmlcharrefreplace")


@lru_cache(maxsize=4)
def gzip_bomb(inflated_size: int) -> bytes:
    return gzip.compress(b" " * inflated_size, compresslevel=9, mtime=0)


# ---------------------------------------------------------------------- site


def _http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


class MirrorSite:
    """Routes, content and per-path statistics of one mirror (see module doc)."""

    paths = Paths

    def __init__(self, config: MirrorConfig | None = None, **overrides: object):
        config = config or MirrorConfig()
        if overrides:
            config = replace(config, **overrides)  # type: ignore[arg-type]
        self.config = config
        self.articles: list[Article] = build_articles(config)
        self._by_path = {a.path: a for a in self.articles}
        self.gbk_title, self._gbk_body = gbk_page()
        self.port: int = 0  # set by the server once bound
        self._lock = threading.Lock()
        self._stats: dict[str, PathStats] = {}
        self._records: list[RequestRecord] = []
        self._counters: dict[str, int] = {}
        #: Article paths answered with something else (a takedown, an anti-bot page).
        self.replaced: dict[str, Reply] = {}
        #: Requests left before a ``take_down(..., times=N)`` path is served as usual again.
        self._replaced_left: dict[str, int] = {}

    # -- takedowns -----------------------------------------------------------

    def take_down(self, path: str, how: str | bytes, *, times: int | None = None) -> None:
        """Answer ``path`` with ``"404"``, ``"410"``, ``"home"`` (a 302 to /) or a 200 page of these bytes.

        With ``times``, only the next ``times`` requests: then the article is back (a
        transient failure, which a takedown's confirmation must not record).
        """
        if isinstance(how, bytes):
            reply = Reply(200, how)
        elif how == "home":
            reply = Reply(302, b"", headers={"Location": "/"})
        else:
            reply = Reply(int(how), b"<html><body><h1>Not Found</h1></body></html>")
        with self._lock:
            self.replaced[path] = reply
            if times is None:
                self._replaced_left.pop(path, None)
            else:
                self._replaced_left[path] = times

    def restore(self, path: str) -> None:
        with self._lock:
            self.replaced.pop(path, None)
            self._replaced_left.pop(path, None)

    def _replacement(self, path: str) -> Reply | None:
        with self._lock:
            reply = self.replaced.get(path)
            if reply is not None and path in self._replaced_left:
                self._replaced_left[path] -= 1
                if self._replaced_left[path] <= 0:
                    del self._replaced_left[path], self.replaced[path]
            return reply

    # -- queries for tests ---------------------------------------------------

    def outlet_articles(self, outlet: str) -> list[Article]:
        return [a for a in self.articles if a.outlet == outlet]

    def listing_pages(self, outlet: str) -> int:
        count = len(self.outlet_articles(outlet))
        return max(1, -(-count // self.config.per_page))

    def hits(self, path: str) -> int:
        """Requests for ``path`` (with its query string, exactly as requested)."""
        with self._lock:
            stats = self._stats.get(path)
            return stats.hits if stats else 0

    def hits_under(self, prefix: str) -> int:
        with self._lock:
            return sum(s.hits for p, s in self._stats.items() if p.startswith(prefix))

    def bytes_sent(self, path: str | None = None) -> int:
        """Body bytes sent for ``path``, or for every path."""
        with self._lock:
            if path is None:
                return sum(s.bytes for s in self._stats.values())
            stats = self._stats.get(path)
            return stats.bytes if stats else 0

    @property
    def bytes_sent_total(self) -> int:
        return self.bytes_sent()

    @property
    def hits_total(self) -> int:
        with self._lock:
            return sum(s.hits for s in self._stats.values())

    def stats(self) -> dict[str, PathStats]:
        """A copy of the per-path statistics."""
        with self._lock:
            return {
                p: PathStats(s.hits, s.bytes, dict(s.statuses)) for p, s in self._stats.items()
            }

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request answered so far, in order."""
        with self._lock:
            return list(self._records)

    def reset_stats(self) -> None:
        with self._lock:
            self._stats.clear()
            self._records.clear()

    def reset_counters(self) -> None:
        """Restart the per-path failure counters of /flaky and /reset."""
        with self._lock:
            self._counters.clear()

    def record(self, method: str, path: str, status: int, body_bytes: int,
               headers: Mapping[str, str]) -> None:
        with self._lock:
            stats = self._stats.setdefault(path, PathStats())
            stats.hits += 1
            stats.bytes += body_bytes
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            self._records.append(
                RequestRecord(method, path, status, body_bytes,
                              {k.lower(): v for k, v in headers.items()})
            )

    def _count(self, key: str) -> int:
        """How many times ``key`` was served before (then counts this time)."""
        with self._lock:
            seen = self._counters.get(key, 0)
            self._counters[key] = seen + 1
            return seen

    # -- routing ---------------------------------------------------------------

    def respond(self, method: str, target: str, headers: Mapping[str, str]) -> Reply:
        """The reply to ``method target`` (conditional requests are applied by the server)."""
        split = urlsplit(target)
        path, query = split.path or "/", parse_qs(split.query)
        host_header = headers.get("Host") or headers.get("host") or f"127.0.0.1:{self.port}"
        base = f"http://{host_header}"
        if method not in ("GET", "HEAD"):
            return Reply(405, b"method not allowed\n", "text/plain; charset=utf-8",
                         headers={"Allow": "GET, HEAD"})
        if path == "/robots.txt":
            return self._robots(base)
        if (replacement := self._replacement(path)) is not None:
            return replacement
        if path in self._by_path:
            article = self._by_path[path]
            return Reply(200, article.body, last_modified=article.published)
        if path == "/":
            return self._cacheable_html(self._home())
        if self.config.sitemaps and path == "/sitemap.xml":
            return self._xml(self._sitemap_index(base), "application/xml; charset=utf-8")
        parts = path.strip("/").split("/")
        if parts and parts[0] in self.config.outlets:
            reply = self._outlet_route(parts[0], parts[1:], path, base)
            if reply is not None:
                return reply
        if self.config.faults:
            reply = self._fault_route(path, target, query, base)
            if reply is not None:
                return reply
        return Reply(404, b"<html><body><h1>404 Not Found</h1></body></html>\n")

    def _outlet_route(self, outlet: str, rest: list[str], path: str, base: str) -> Reply | None:
        if rest in ([], [""]) and path.endswith("/"):
            return self._cacheable_html(self._listing(outlet, 1))
        if len(rest) == 2 and rest[0] == "list" and re.fullmatch(r"\d+\.html", rest[1]):
            page = int(rest[1][:-5])
            if 1 <= page <= self.listing_pages(outlet):
                return self._cacheable_html(self._listing(outlet, page))
            return None
        if rest == ["rss.xml"] and "rss" in self.config.feeds:
            return self._xml(self._rss(outlet, base), "application/rss+xml; charset=utf-8")
        if rest == ["atom.xml"] and "atom" in self.config.feeds:
            return self._xml(self._atom(outlet, base), "application/atom+xml; charset=utf-8")
        if rest == ["sitemap.xml"] and self.config.sitemaps:
            return self._xml(self._sitemap(outlet, base), "application/xml; charset=utf-8")
        if rest == ["sitemap-news.xml"] and self.config.sitemaps:
            return self._xml(self._news_sitemap(outlet, base), "application/xml; charset=utf-8")
        return None

    def _fault_route(self, path: str, target: str, query: dict[str, list[str]],
                     base: str) -> Reply | None:
        cfg = self.config
        first = self.articles[0].path if self.articles else "/"
        if path == Paths.secret:
            return Reply(200, SECRET_BODY, "text/plain; charset=utf-8")
        if path == Paths.special_list:
            listed = (Paths.gbk, Paths.flaky, Paths.redirect_article, Paths.private,
                      Paths.missing, Paths.redirect_offsite, Paths.bomb)
            return Reply(200, "".join(f"{base}{p}\n" for p in listed).encode(),
                         "text/plain; charset=utf-8", last_modified=SITE_EPOCH)
        if path == Paths.private_index:
            return self._cacheable_html(
                f'<html><body><a href="{Paths.private}">hidden</a></body></html>'.encode()
            )
        if path == Paths.private:
            return self._cacheable_html(
                _html_page("Private page", "<article><h1>Private page</h1>"
                           "<p>Robots.txt disallows this page.</p></article>",
                           outlet="portal", published=SITE_EPOCH)
            )
        if path == Paths.gbk:
            return Reply(200, self._gbk_body, "text/html", last_modified=SITE_EPOCH)
        if path == Paths.redirect_article:
            return Reply(302, b"", None, headers={"Location": first})
        if path == Paths.redirect_permanent:
            return Reply(301, b"", None, headers={"Location": first})
        if path == Paths.redirect_offsite:
            location = f"http://{cfg.offsite_host}:{self.port}{Paths.secret}"
            return Reply(302, b"", None, headers={"Location": location})
        if path == Paths.flaky:
            failures = int(query.get("fail", [cfg.flaky_failures])[0])
            status = int(query.get("status", [cfg.flaky_status])[0])
            if self._count(target) < failures:
                return Reply(status, f"<html><body>{status}</body></html>\n".encode())
            return Reply(200, _html_page("Flaky page", "<article><h1>Flaky page</h1>"
                                         "<p>Answered after the failures.</p></article>",
                                         outlet="portal", published=SITE_EPOCH))
        if path == Paths.slow:
            seconds = float(query.get("seconds", [cfg.slow_seconds])[0])
            return Reply(200, b"<html><body><p>slow page</p></body></html>\n", delay=seconds)
        if path == Paths.reset:
            failures = int(query.get("fail", [2**31])[0])
            if self._count(target) < failures:
                return Reply(200, b"<html><body>" + b"x" * 200_000 + b"</body></html>",
                             reset_after=1024)
            return Reply(200, b"<html><body><p>after reset</p></body></html>\n")
        if path == Paths.bomb:
            size = int(query.get("size", [cfg.bomb_inflated_size])[0])
            return Reply(200, gzip_bomb(size), headers={"Content-Encoding": "gzip"})
        return None

    # -- pages -------------------------------------------------------------------

    def _cacheable_html(self, body: bytes, when: datetime | None = None) -> Reply:
        return Reply(200, body, last_modified=when or self._newest())

    def _xml(self, body: bytes, content_type: str) -> Reply:
        return Reply(200, body, content_type, last_modified=self._newest())

    def _newest(self) -> datetime:
        return max((a.published for a in self.articles), default=SITE_EPOCH)

    def _robots(self, base: str) -> Reply:
        mode = self.config.robots
        if mode == "404":
            return Reply(404, b"<html><body>404</body></html>\n")
        if mode == "503":
            return Reply(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>\n")
        if mode == "reset":
            return Reply(200, b"User-agent: *\n" + b"#" * 100_000, "text/plain", reset_after=16)
        lines = ["User-agent: *"]
        if mode in ("disallow", "slow"):
            lines.append("Disallow: /private/")
        else:
            lines.append("Disallow:")
        if self.config.sitemaps:
            lines.append(f"Sitemap: {base}/sitemap.xml")
        body = ("\n".join(lines) + "\n").encode()
        delay = self.config.slow_seconds if mode == "slow" else 0.0
        return Reply(200, body, "text/plain; charset=utf-8", last_modified=SITE_EPOCH, delay=delay)

    def _home(self) -> bytes:
        items = []
        for outlet in self.config.outlets:
            feeds = " ".join(
                f'<a href="/{outlet}/{kind}.xml">{kind}</a>' for kind in self.config.feeds
            )
            items.append(
                f'<li><a href="/{outlet}/list/1.html">{html.escape(OUTLET_NAMES[outlet])}</a> {feeds}</li>'
            )
        body = f'<h1>Mirror news site</h1>\n<ul class="outlets">\n{"".join(items)}\n</ul>'
        return _html_page("Mirror news site", body, outlet="portal", published=None)

    def _listing(self, outlet: str, page: int) -> bytes:
        per = self.config.per_page
        chunk = self.outlet_articles(outlet)[(page - 1) * per: page * per]
        last = self.listing_pages(outlet)
        items = "\n".join(
            f'<li><a class="headline" href="{a.path}">{html.escape(a.title)}</a> '
            f'<time datetime="{a.published.isoformat()}">{a.published:%Y-%m-%d %H:%M}</time></li>'
            for a in chunk
        )
        nav = []
        head = []
        if page > 1:
            nav.append(f'<a class="prev" rel="prev" href="/{outlet}/list/{page - 1}.html">上一页</a>')
            head.append(f'<link rel="prev" href="/{outlet}/list/{page - 1}.html">')
        if page < last:
            nav.append(f'<a class="next" rel="next" href="/{outlet}/list/{page + 1}.html">下一页</a>')
            head.append(f'<link rel="next" href="/{outlet}/list/{page + 1}.html">')
        for kind, mime in (("rss", "application/rss+xml"), ("atom", "application/atom+xml")):
            if kind in self.config.feeds:
                head.append(f'<link rel="alternate" type="{mime}" href="/{outlet}/{kind}.xml">')
        name = html.escape(OUTLET_NAMES[outlet])
        return (
            "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{name} - 第{page}页</title>\n{chr(10).join(head)}\n</head>\n<body>\n"
            f'<h1>{name}</h1>\n<ul class="news-list">\n{items}\n</ul>\n'
            f'<div class="pagination">{" ".join(nav)}</div>\n</body>\n</html>\n'
        ).encode()

    def _rss(self, outlet: str, base: str) -> bytes:
        items = "".join(
            "<item>"
            f"<title>{xml_escape(a.title)}</title>"
            f"<link>{base}{a.path}</link>"
            f'<guid isPermaLink="true">{base}{a.path}</guid>'
            f"<pubDate>{_http_date(a.published)}</pubDate>"
            f"<description>{xml_escape(a.title)}</description>"
            "</item>\n"
            for a in self.outlet_articles(outlet)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n<channel>\n'
            f"<title>{xml_escape(OUTLET_NAMES[outlet])}</title>\n"
            f"<link>{base}/{outlet}/list/1.html</link>\n"
            f"<description>{xml_escape(OUTLET_NAMES[outlet])} (mirror)</description>\n"
            f"<language>{OUTLET_LANG[outlet]}</language>\n"
            f"<lastBuildDate>{_http_date(self._newest())}</lastBuildDate>\n"
            f"{items}</channel>\n</rss>\n"
        ).encode()

    def _atom(self, outlet: str, base: str) -> bytes:
        entries = "".join(
            "<entry>"
            f"<title>{xml_escape(a.title)}</title>"
            f'<link rel="alternate" href="{base}{a.path}"/>'
            f"<id>{base}{a.path}</id>"
            f"<published>{a.published.isoformat()}</published>"
            f"<updated>{a.published.isoformat()}</updated>"
            f"<summary>{xml_escape(a.title)}</summary>"
            "</entry>\n"
            for a in self.outlet_articles(outlet)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"<title>{xml_escape(OUTLET_NAMES[outlet])}</title>\n"
            f"<id>{base}/{outlet}/atom.xml</id>\n"
            f'<link rel="self" href="{base}/{outlet}/atom.xml"/>\n'
            f"<updated>{self._newest().isoformat()}</updated>\n"
            f"{entries}</feed>\n"
        ).encode()

    def _sitemap_index(self, base: str) -> bytes:
        maps = "".join(
            f"<sitemap><loc>{base}/{outlet}/{name}</loc>"
            f"<lastmod>{self._newest().isoformat()}</lastmod></sitemap>\n"
            for outlet in self.config.outlets
            for name in ("sitemap.xml", "sitemap-news.xml")
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{maps}</sitemapindex>\n"
        ).encode()

    def _sitemap(self, outlet: str, base: str) -> bytes:
        urls = "".join(
            f"<url><loc>{base}{a.path}</loc><lastmod>{a.published.isoformat()}</lastmod></url>\n"
            for a in self.outlet_articles(outlet)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{urls}</urlset>\n"
        ).encode()

    def _news_sitemap(self, outlet: str, base: str) -> bytes:
        urls = "".join(
            f"<url><loc>{base}{a.path}</loc><news:news><news:publication>"
            f"<news:name>{xml_escape(OUTLET_NAMES[outlet])}</news:name>"
            f"<news:language>{OUTLET_LANG[outlet]}</news:language></news:publication>"
            f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
            f"<news:title>{xml_escape(a.title)}</news:title></news:news></url>\n"
            for a in self.outlet_articles(outlet)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            f"{urls}</urlset>\n"
        ).encode()


def not_modified(request_headers: Mapping[str, str], etag: str, last_modified: datetime) -> bool:
    """Whether a conditional GET may be answered 304 (RFC 9110 §13.1.1-2)."""
    lowered = {k.lower(): v for k, v in request_headers.items()}
    inm = lowered.get("if-none-match")
    if inm is not None:
        if inm.strip() == "*":
            return True
        candidates = {tag.strip().removeprefix("W/") for tag in inm.split(",")}
        return etag in candidates
    ims = lowered.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def http_date(when: datetime) -> str:
    return _http_date(when)
