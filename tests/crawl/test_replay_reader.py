"""crawler/replay.py in this process: which files are pages, what their sidecars say, and
the download handler that answers from disk (tests/crawl/test_replay.py runs the command)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.replay import (
    FIXTURE_SCHEME,
    REPLAY_FILE,
    REPLAY_SETTINGS,
    ReplayDownloadHandler,
    ReplayProblem,
    SavedPage,
    fixture_id,
    outlet_folders,
    request_url,
    scan_outlet,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _scan(folder: Path, outlet: str = "rfi") -> list[SavedPage | ReplayProblem]:
    return list(scan_outlet(folder, outlet, NOW))


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_fixture_ids_and_the_urls_requested_for_them() -> None:
    assert FIXTURE_SCHEME == "fixture"
    assert fixture_id("rfi", "a.html") == "fixture:rfi/a.html"
    assert request_url("fixture:rfi/a.html") == "fixture://rfi/a.html"
    assert request_url("fixture://rfi/a.html") == "fixture://rfi/a.html"
    assert request_url("https://www.rfi.fr/cn/a") == "https://www.rfi.fr/cn/a"
    assert request_url("fixtures:rfi/a.html") == "fixtures:rfi/a.html"


def test_outlet_folders_are_sorted_and_skip_hidden_and_private(tmp_path: Path) -> None:
    for name in ("rfi", "bbc", ".git", "_drafts", "wechat"):
        (tmp_path / name).mkdir()
    _write(tmp_path, "README.md", "not a folder")
    assert [p.name for p in outlet_folders(tmp_path)] == ["bbc", "rfi", "wechat"]


def test_pages_sidecars_and_problems(tmp_path: Path) -> None:
    _write(tmp_path, "b.html", "<p>b</p>")
    _write(tmp_path, "a.html", "<p>a</p>")
    _write(tmp_path, "a.html.meta.json", json.dumps({"url": "https://www.rfi.fr/cn/a", "fetched_at": "2023-11-08T16:00:00+01:00"}))
    _write(tmp_path, "a.html.expected.json", "{}")
    _write(tmp_path, ".hidden.html", "x")
    (tmp_path / "0-nested").mkdir()  # sorts first: the pages after it are still read
    found = _scan(tmp_path)
    assert found == [
        ReplayProblem(str(tmp_path / "0-nested"), f"not a regular file inside {tmp_path}"),
        SavedPage(tmp_path / "a.html", "rfi", "https://www.rfi.fr/cn/a",
                  datetime(2023, 11, 8, 16, 0, tzinfo=timezone(timedelta(hours=1)))),
        SavedPage(tmp_path / "b.html", "rfi", "fixture:rfi/b.html", NOW),
    ]


def test_a_sidecar_may_name_only_the_url_or_only_the_time(tmp_path: Path) -> None:
    _write(tmp_path, "a.html", "x")
    _write(tmp_path, "a.html.meta.json", json.dumps({"url": "https://e.example/a"}))
    _write(tmp_path, "b.html", "x")
    _write(tmp_path, "b.html.meta.json", json.dumps({"fetched_at": "2024-01-02T03:04:05"}))
    _write(tmp_path, "c.html", "x")
    _write(tmp_path, "c.html.meta.json", json.dumps({"url": None, "fetched_at": None}))
    a, b, c = _scan(tmp_path, "portal")
    assert (a.url, a.fetched_at) == ("https://e.example/a", NOW)
    # A time without a zone is UTC (the sidecars are written by our own fetcher).
    assert (b.url, b.fetched_at) == ("fixture:portal/b.html", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert (c.url, c.fetched_at) == ("fixture:portal/c.html", NOW)


BAD_SIDECARS = [
    (b"\xff\xfe{", "sidecar a.html.meta.json is not UTF-8 text"),
    ('{"url": ', "sidecar a.html.meta.json is not valid JSON (line 1 column 9: Expecting value)"),
    ('{\n  "url": "x",\n}', "sidecar a.html.meta.json is not valid JSON (line 3 column 1: Expecting property name enclosed in double quotes)"),
    ("[1, 2]", "sidecar a.html.meta.json must hold a JSON object, not list"),
    ('"https://e.example/a"', "sidecar a.html.meta.json must hold a JSON object, not str"),
    ('{"url": 5}', "sidecar a.html.meta.json: url must be a string, got int"),
    ('{"url": "www.rfi.fr/cn/a"}', "sidecar a.html.meta.json: url must be an http(s) web address, got 'www.rfi.fr/cn/a'"),
    ('{"fetched_at": "yesterday"}', "sidecar a.html.meta.json: fetched_at must be an ISO 8601 time, got 'yesterday'"),
    ('{"fetched_at": 1700000000}', "sidecar a.html.meta.json: fetched_at must be an ISO 8601 time string, got 1700000000"),
]


@pytest.mark.parametrize(("sidecar", "reason"), BAD_SIDECARS)
def test_a_bad_sidecar_is_a_problem_with_a_one_line_reason(tmp_path: Path, sidecar: str | bytes, reason: str) -> None:
    _write(tmp_path, "a.html", "x")
    _write(tmp_path, "a.html.meta.json", sidecar)
    _write(tmp_path, "b.html", "x")
    found = _scan(tmp_path)
    assert found[0] == ReplayProblem(str(tmp_path / "a.html"), reason)
    assert isinstance(found[1], SavedPage) and found[1].path.name == "b.html"  # the rest goes on


def test_replay_settings_keep_everything_on_disk() -> None:
    handlers = REPLAY_SETTINGS["DOWNLOAD_HANDLERS"]
    assert set(handlers) == {"http", "https", "fixture", "file", "data", "ftp", "s3"}
    assert set(handlers.values()) == {"crawler.replay.ReplayDownloadHandler"}
    assert REPLAY_SETTINGS["ROBOTSTXT_OBEY"] is False
    assert REPLAY_SETTINGS["NEWSWATCH_SSRF_ENABLED"] is False
    assert REPLAY_SETTINGS["RETRY_ENABLED"] is False
    assert REPLAY_SETTINGS["HTTPCACHE_ENABLED"] is False
    assert REPLAY_SETTINGS["AUTOTHROTTLE_ENABLED"] is False


def test_the_handler_answers_from_disk_with_the_bytes_untouched(tmp_path: Path) -> None:
    page = _write(tmp_path, "a.html", b"<meta charset=gbk>" + "中文".encode("gbk"))
    # A bare crawler has none of newswatch's settings: give it the page size limit it checks.
    handler = ReplayDownloadHandler(get_crawler(settings_dict={"NEWSWATCH_MAX_PAGE_BYTES": 1024}))
    request = Request("https://www.rfi.fr/cn/a", meta={REPLAY_FILE: str(page)})
    response = asyncio.run(handler.download_request(request))
    assert type(response).__name__ == "Response" and not isinstance(response, HtmlResponse)
    assert (response.url, response.status, response.body) == (request.url, 200, page.read_bytes())
    assert response.request is request and response.flags == ["replay"]


def test_the_handler_refuses_what_it_has_no_page_for() -> None:
    handler = ReplayDownloadHandler(get_crawler())
    with pytest.raises(IgnoreRequest, match=r"replay has no saved page for https://www\.rfi\.fr/robots\.txt"):
        asyncio.run(handler.download_request(Request("https://www.rfi.fr/robots.txt")))
