"""Gzipped sitemaps (``sitemap.xml.gz``, served without Content-Encoding) are read, within bounds."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.crawl.test_refused_requests import _HostileSite
from tests.support.cli_helpers import newswatch
from tests.support.local_site import crawl_local, serving


def _gzipped_sitemap_site(host: str, path: str) -> tuple[int, bytes, str] | None:
    urlset = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'
    if path == "/sitemap-index.xml":
        locs = "".join(f"<sitemap><loc>http://{host}/{name}</loc></sitemap>" for name in ("news.xml.gz", "bomb.xml.gz"))
        return 200, f'<?xml version="1.0"?><sitemapindex>{locs}</sitemapindex>'.encode(), "application/xml"
    if path == "/news.xml.gz":
        body = urlset.format(f"<url><loc>http://{host}/a/from-gzipped-sitemap</loc></url>")
        return 200, gzip.compress(body.encode()), "application/x-gzip"
    if path == "/bomb.xml.gz":
        return 200, gzip.compress(b"<urlset>" + b" " * (64 * 1024 * 1024)), "application/octet-stream"
    return None


class _GzipSitemapSite(_HostileSite):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        answer = _gzipped_sitemap_site(self.headers["Host"], self.path)
        if answer is None:
            super().do_GET()
            return
        type(self).hits.append(self.path)
        self.reply(*answer)


def test_a_gzipped_sitemap_is_read_and_a_gzip_bomb_is_listed(tmp_path: Path, sqlite_url: str) -> None:
    with serving(_GzipSitemapSite) as host:
        result = crawl_local(tmp_path, sqlite_url, f"http://{host}/sitemap-index.xml", spider="ecns",
                             article_pattern="/a/", extra="max_depth = 1\n")
    summary = json.loads(result.stdout)
    problems = {p["url"]: p["reason"] for p in summary["problems"]}
    assert "larger than" in problems[f"http://{host}/bomb.xml.gz"], problems
    stored = json.loads(newswatch("items", "list", "--db", sqlite_url, "--json").stdout)
    assert [item["url"] for item in stored] == [f"http://{host}/a/from-gzipped-sitemap"]
