"""Retry-After given as an HTTP date (RFC 9110 §10.2.3) is honoured, as the seconds form is.

A real crawl of a local site whose article answers 503 with ``Retry-After: <date>``
once, then 200: the retry must not come before that date.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from tests.support.local_site import SiteHandler, crawl_local, serving

WAIT_S = 3


class _BusySite(SiteHandler):
    article_hits: list[float] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        headers = {}
        if self.path == "/list.txt":
            status, body, content_type = 200, f"http://{self.headers['Host']}/a/busy\n".encode(), "text/plain"
        elif self.path == "/a/busy":
            type(self).article_hits.append(time.monotonic())
            if len(self.article_hits) == 1:
                status, body, content_type = 503, b"busy", "text/plain"
                headers["Retry-After"] = formatdate(time.time() + WAIT_S, usegmt=True)
            else:
                text = "A sentence of an ordinary article, long enough to be kept as one. " * 10
                body = f"<html lang='en'><body><article><h1>Busy</h1><p>{text}</p></article></body></html>".encode()
                status, content_type = 200, "text/html; charset=utf-8"
        else:
            status, body, content_type = 404, b"", "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def busy_site() -> Iterator[str]:
    _BusySite.article_hits = []
    with serving(_BusySite) as host:
        yield f"http://{host}"


def test_a_retry_waits_until_the_retry_after_date(busy_site: str, tmp_path: Path, sqlite_url: str) -> None:
    crawl_local(tmp_path, sqlite_url, f"{busy_site}/list.txt",
                settings=("-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "NEWSWATCH_RETRY_BACKOFF_S=0.05"), timeout=120)
    first, second = _BusySite.article_hits
    # The date has one-second resolution: the retry may come up to a second early.
    assert second - first >= WAIT_S - 1, second - first
