"""A robots.txt over DOWNLOAD_MAXSIZE is unreachable, however it is sent (a real crawl).

Sent plain, the download is cancelled (a download error: disallow all, RFC 9309
§2.3.1.4); sent gzip-encoded, Scrapy's decompression stops at the same limit.  Both
must give the same policy: a gzip bomb in place of the rules must not open the site.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.local_site import SiteHandler, crawl_local, serving

RULES = b"User-agent: *\nDisallow: /private/\n"
PADDING = b"# " + b"-" * (17 * 1024 * 1024) + b"\n"


class _Site(SiteHandler):
    gzipped = False
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        base = f"http://{self.headers['Host']}"
        headers = {}
        if self.path == "/robots.txt":
            body, content_type = RULES + PADDING, "text/plain"
            if self.gzipped:
                body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
        elif self.path == "/list.txt":
            body, content_type = f"{base}/private/x\n{base}/a/ok\n".encode(), "text/plain"
        else:
            text = "A sentence of an ordinary article, long enough to be kept as one. " * 10
            body = f"<html lang='en'><body><article><h1>Hi</h1><p>{text}</p></article></body></html>".encode()
            content_type = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the crawler hangs up on an oversize body
            self.wfile.write(body)


@pytest.fixture
def site() -> Iterator[str]:
    _Site.hits = []
    with serving(_Site) as host:
        yield f"http://{host}"


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_an_oversize_robots_txt_disallows_the_host(gzipped: bool, site: str, tmp_path: Path, sqlite_url: str) -> None:
    _Site.gzipped = gzipped
    result = crawl_local(tmp_path, sqlite_url, f"{site}/list.txt",
                         settings=("-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "RETRY_TIMES=0"))
    assert _Site.hits == ["/robots.txt"]
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["url"] == f"{site}/list.txt" and "robots.txt" in problem["reason"], problem
