"""Pages refused before their download are listed in the run, with the reason.

A request refused while it is being queued (a redirect off-site, to a private address,
back to a page already requested; a URL over the length limit) never reaches its
errback: each refusal must still end up in the run's problems, as a failed download does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_helpers import newswatch
from tests.support.local_site import SiteHandler, crawl_local, serving

LONG = "/a/" + "x" * 2100


class _HostileSite(SiteHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        host = self.headers["Host"]
        port = host.rsplit(":", 1)[1]
        redirects = {
            "/r/offsite": f"http://localhost:{port}/a/offsite",
            "/r/private": "http://10.0.0.1/a/private",
            "/r/loop": "/r/loop",
        }
        if self.path == "/list.txt":
            paths = [*redirects, LONG, "/a/ok"]
            body = "\n".join(f"http://{host}{p}" for p in paths) + "\nhttp://10.0.0.2/a/listed-private\n"
            self.reply(200, body.encode(), "text/plain")
        elif self.path in redirects:
            self.send_response(302)
            self.send_header("Location", redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/a/"):
            text = "A sentence of an ordinary article, long enough to be kept as one. " * 10
            page = f"<html lang='en'><head><title>Ok</title></head><body><article><h1>Ok</h1><p>{text}</p></article></body></html>"
            self.reply(200, page.encode(), "text/html; charset=utf-8")
        else:
            self.reply(404, b"not here", "text/plain")


@pytest.fixture
def hostile_site() -> Iterator[str]:
    _HostileSite.hits = []
    with serving(_HostileSite) as host:
        yield host


def test_every_page_refused_before_its_download_is_listed_with_its_reason(
    tmp_path: Path, sqlite_url: str, hostile_site: str
) -> None:
    result = crawl_local(tmp_path, sqlite_url, f"http://{hostile_site}/list.txt")
    summary = json.loads(result.stdout)
    problems = {p["url"]: p["reason"] for p in summary["problems"]}
    base = f"http://{hostile_site}"
    assert "/a/offsite" not in _HostileSite.hits  # nothing was fetched from the refused targets
    assert "off-site" in problems[f"{base}/r/offsite"], problems
    assert "10.0.0.1" in problems[f"{base}/r/private"], problems
    assert "already requested" in problems[f"{base}/r/loop"], problems
    assert "10.0.0.2" in problems["http://10.0.0.2/a/listed-private"], problems
    assert "URL longer than" in problems[f"{base}{LONG}"], problems
    stored = json.loads(newswatch("items", "list", "--db", sqlite_url, "--json").stdout)
    assert [item["url"] for item in stored] == [f"{base}/a/ok"]
