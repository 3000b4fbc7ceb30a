"""``newswatch fixtures capture`` and ``check``, as a user runs them, against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_helpers import newswatch
from tests.support.parser_cases import CORPUS

ARTICLE = CORPUS / "pages" / "bbc" / "radarflow_bbc_simp_article_cwyv1yz8yrno.html"
if not ARTICLE.exists():
    pytest.skip(f"shared corpus not found at {ARTICLE}", allow_module_level=True)

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class _Pages(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, kind = ROBOTS, "text/plain"
        elif self.path.startswith(("/zhongwen/articles/", "/private/")):
            body, kind = ARTICLE.read_bytes(), "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _config(path: Path, base: str) -> Path:
    path.write_text(
        f"""
[outlets.bbc_local]
spider = "bbc"
start_urls = ["{base}/"]
allowed_domains = ["127.0.0.1"]
allow_private = true

[outlets.bbc_public_only]
spider = "bbc"
start_urls = ["{base}/"]
allowed_domains = ["127.0.0.1"]
""",
        encoding="utf-8",
    )
    return path


def test_capture_then_check_then_a_changed_golden_is_reported(server: str, tmp_path: Path) -> None:
    config, fixtures = _config(tmp_path / "outlets.toml", server), tmp_path / "fixtures"
    url = f"{server}/zhongwen/articles/cwyv1yz8yrno/simp"
    result = newswatch("--config", str(config), "fixtures", "capture", url, "--outlet", "bbc_local",
                       "--dir", str(fixtures), "--json", timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["title"] == "香港大埔宏福苑大火幸存者：第一次觉得死亡和我有关"
    page = Path(summary["page"])
    assert page.parent == fixtures / "bbc" and page.read_bytes() == ARTICLE.read_bytes()
    sidecar = json.loads(page.with_name(page.name + ".meta.json").read_text(encoding="utf-8"))
    assert sidecar["url"] == url and sidecar["fetched_at"]

    checked = newswatch("fixtures", "check", "--dir", str(fixtures), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [r["ok"] for r in json.loads(checked.stdout)] == [True]

    golden = Path(summary["golden"])
    record = json.loads(golden.read_text(encoding="utf-8"))
    record["title"] = "a reviewer's corrected headline"
    golden.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    checked = newswatch("fixtures", "check", "--dir", str(fixtures), "--json")
    assert checked.returncode == 1
    [result_row] = json.loads(checked.stdout)
    assert list(result_row["differences"]) == ["title"]
    assert result_row["differences"]["title"]["now"] == summary["title"]


def test_capture_goes_through_the_ssrf_guard_and_robots(server: str, tmp_path: Path) -> None:
    config, fixtures = _config(tmp_path / "outlets.toml", server), tmp_path / "fixtures"
    url = f"{server}/zhongwen/articles/cwyv1yz8yrno/simp"
    private = newswatch("--config", str(config), "fixtures", "capture", url, "--outlet", "bbc_public_only",
                        "--dir", str(fixtures), timeout=180)  # fmt: skip
    assert private.returncode == 1
    assert "Traceback" not in private.stderr and "SSRF guard" in private.stderr
    robots = newswatch("--config", str(config), "fixtures", "capture", f"{server}/private/page", "--outlet",
                       "bbc_local", "--dir", str(fixtures), timeout=180)  # fmt: skip
    assert robots.returncode == 1
    assert "Traceback" not in robots.stderr and "robots.txt" in robots.stderr
    assert not list(fixtures.glob("*/*"))


def test_capture_into_a_folder_it_cannot_write_is_one_line(server: str, tmp_path: Path) -> None:
    config, not_a_folder = _config(tmp_path / "outlets.toml", server), tmp_path / "plain-file"
    not_a_folder.write_text("x")
    url = f"{server}/zhongwen/articles/cwyv1yz8yrno/simp"
    result = newswatch("--config", str(config), "fixtures", "capture", url, "--outlet", "bbc_local",
                       "--dir", str(not_a_folder), timeout=180)  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"capture failed: cannot write {not_a_folder / 'bbc'}" in result.stderr, result.stderr


def test_capture_refuses_what_is_not_a_web_address_before_any_lookup(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    for url, reason in (
        ("file:///etc/passwd", "must be an http(s) web address"),
        ("https://www.rfi .fr/cn/x", "contains spaces or control characters"),  # was looked up in DNS
        ("https://www.rfi.fr:99999/cn/x", "is not a valid URL"),
    ):
        result = newswatch("fixtures", "capture", url, "--outlet", "rfi_cn", "--dir", str(fixtures))
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert f"capture failed: the URL {reason}" in result.stderr, result.stderr
    assert not fixtures.exists()


def test_bundled_seed_fixtures_pass_the_check() -> None:
    result = newswatch("fixtures", "check", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(json.loads(result.stdout)) == 5
