"""Many small news sites on 127.0.0.1, one port per outlet: the workers' test and benchmark.

Each site serves ``/robots.txt`` (allow all), ``/feed.xml`` (RSS 2.0 linking every
article) and ``/articles/<n>.html``: an English article of generated, distinct text
(ETag and Last-Modified; conditional GETs get 304 with no body).  ``twin_of`` makes a
site's articles near-copies of another site's (same story, a different last line).
Every request is counted by path and status; ``delay_s`` slows each article down so a
crawl lasts long enough to be interrupted.
"""

from __future__ import annotations

import hashlib
import html
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_WORDS = [
    "".join(random.Random(i).choice("abcdefghijklmnoprstuvwy") for _ in range(3 + i % 7)) for i in range(4000)
]
PUBLISHED = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def story(seed: str, paragraphs: int = 6) -> list[str]:
    """Paragraphs of distinct generated English-like text (each seed its own story)."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    out = []
    for _ in range(paragraphs):
        words = [rng.choice(_WORDS) for _ in range(45)]
        out.append(" ".join(words).capitalize() + ".")
    return out


class Site:
    def __init__(self, name: str, articles: int, *, twin_of: str | None = None, delay_s: float = 0.0) -> None:
        self.name = name
        self.count = articles
        self.twin_of = twin_of
        self.delay_s = delay_s
        self.lock = threading.Lock()
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.server: ThreadingHTTPServer | None = None

    # -- content --------------------------------------------------------------
    def article_paths(self) -> list[str]:
        return [f"/articles/{n}.html" for n in range(self.count)]

    def article(self, n: int) -> tuple[str, bytes]:
        base = self.twin_of or self.name
        title = f"{base.capitalize()} report number {n}"
        paragraphs = story(f"{base}/{n}")
        if self.twin_of:  # the same story, lightly edited by the copying site
            paragraphs[-1] = f"Reposted by {self.name} from {self.twin_of}."
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        page = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            f'<meta property="og:title" content="{html.escape(title)}">'
            f'<meta property="article:published_time" content="{(PUBLISHED + timedelta(minutes=n)).isoformat()}">'
            f"</head><body><article><h1>{html.escape(title)}</h1>\n{body}\n</article></body></html>\n"
        )
        return title, page.encode()

    def feed(self, base: str) -> bytes:
        items = "".join(
            f"<item><title>{self.name} {n}</title><link>{base}/articles/{n}.html</link></item>"
            for n in range(self.count)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{self.name}</title><link>{base}/</link>{items}</channel></rss>"
        ).encode()

    # -- serving --------------------------------------------------------------
    def hits(self, path: str, status: int | None = None) -> int:
        with self.lock:
            return sum(n for (p, s), n in self.statuses.items() if p == path and (status is None or s == status))

    def count_status(self, status: int, prefix: str = "/articles/") -> int:
        with self.lock:
            return sum(n for (p, s), n in self.statuses.items() if s == status and p.startswith(prefix))

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Site:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status, body, headers = site.respond(self.path, {k.lower(): v for k, v in self.headers.items()})
                with site.lock:
                    site.statuses[(self.path, status)] += 1
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        if path == "/robots.txt":
            return 200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"}
        if path == "/feed.xml":
            return 200, self.feed(self.base), {"Content-Type": "application/rss+xml"}
        if path.startswith("/articles/") and path.endswith(".html"):
            try:
                n = int(path[len("/articles/"):-len(".html")])
            except ValueError:
                n = -1
            if 0 <= n < self.count:
                if self.delay_s:
                    threading.Event().wait(self.delay_s)
                _title, body = self.article(n)
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                modified = PUBLISHED + timedelta(minutes=n)
                out = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True),
                       "Cache-Control": "max-age=0", "Set-Cookie": f"session=secret{n}; HttpOnly"}
                if _not_modified(headers, etag, modified):
                    return 304, b"", out
                return 200, body, {**out, "Content-Type": "text/html; charset=utf-8"}
        return 404, b"not here", {"Content-Type": "text/plain"}


def _not_modified(headers: dict[str, str], etag: str, modified: datetime) -> bool:
    if "if-none-match" in headers:
        return etag in [t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")]
    if "if-modified-since" in headers:
        try:
            return parsedate_to_datetime(headers["if-modified-since"]) >= modified
        except (TypeError, ValueError):
            return False
    return False


def outlets_toml(sites: list[Site], *, timeout: str = "5m", every: str | None = None) -> str:
    tables = []
    for site in sites:
        schedule = f'every = "{every}"\n' if every else ""
        tables.append(
            f"[outlets.{site.name}]\nspider = \"ecns\"\nstart_urls = [\"{site.base}/feed.xml\"]\n"
            f"allowed_domains = [\"127.0.0.1\"]\narticle_patterns = ['/articles/']\nallow_private = true\n"
            f"max_depth = 0\ntimeout = \"{timeout}\"\n{schedule}\n"
        )
    return "".join(tables)
