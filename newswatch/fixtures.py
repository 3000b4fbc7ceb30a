"""Turning a page that came out wrong into a regression test: capture it, check every fixture.

``capture`` fetches one page through the crawler's own downloader (the SSRF
guard, robots.txt, the size limits, the outlet's allowed domains), saves its
bytes and a ``.meta.json`` sidecar (URL, fetch time) under
``fixtures/<spider>/``, and writes the record the parser makes of it today as
``<file>.expected.json``: a candidate golden for a person to review and correct.

``check`` parses every fixture that has a golden and reports the fields that
differ.  A fixture without a sidecar (the seeds) has no known fetch time, so
its ``fetched_at`` is not compared; every other field is.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.outlets import Outlet
from crawler.parsing import NotAnArticle, ParseError, RawPage, parse
from crawler.replay import SIDECAR_SUFFIXES
from crawler.urls import web_address_problem

#: Which parser reads the fixtures of each spider folder.
PARSER_OF_SPIDER = {"wechat": "wechat", "portal": "portal", "ecns": "ecns", "rfi": "rfi", "bbc": "bbc"}
#: Stand-in fetch time for fixtures without a sidecar (not compared).
UNKNOWN_FETCH = datetime(2026, 1, 1, tzinfo=UTC)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class CaptureError(Exception):
    """The page could not be captured; the message is one line for the user."""


class _CaptureSpider(scrapy.Spider):
    """Fetches one URL with the crawler's downloader and keeps the response."""

    name = "capture"

    def __init__(self, url: str, outlet: Outlet, found: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url, self.found = url, found
        self.allowed_domains = list(outlet.allowed_domains)
        if outlet.allow_private:  # read by the SSRF guard, as for the outlet's own spider
            self.allow_private_hosts = list(outlet.allowed_domains)

    async def start(self):  # type: ignore[no-untyped-def]
        yield scrapy.Request(self.url, callback=self.keep, errback=self.failed, dont_filter=True)

    def keep(self, response: scrapy.http.Response) -> None:
        self.found.update(
            url=response.url,
            status=response.status,
            body=response.body,
            headers={
                key.decode("latin-1").lower(): values[-1].decode("latin-1")
                for key, values in response.headers.items()
                if values
            },
            fetched_at=datetime.now(UTC),
        )

    def failed(self, failure: Any) -> None:
        response = getattr(failure.value, "response", None)
        if response is not None:
            self.found["error"] = f"HTTP {response.status} from {response.url}"
        else:
            self.found["error"] = f"{failure.type.__name__}: {failure.getErrorMessage() or 'no detail'}"


def _capture_settings(outlet: Outlet) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")  # nothing is stored
    settings.set("LOG_LEVEL", "ERROR", priority="cmdline")
    settings.set("RETRY_TIMES", 1, priority="cmdline")
    if outlet.allow_private:
        settings.set("NEWSWATCH_ALLOW_PRIVATE_HOSTS", list(outlet.allowed_domains), priority="cmdline")
    return settings


def fetch(url: str, outlet: Outlet) -> dict[str, Any]:
    """The response to ``url`` through the crawler's downloader; ``CaptureError`` if none came."""
    if problem := web_address_problem(url):
        raise CaptureError(f"the URL {problem}")
    found: dict[str, Any] = {}
    process = CrawlerProcess(_capture_settings(outlet), install_root_handler=False)
    crawler = process.create_crawler(_CaptureSpider)
    process.crawl(crawler, url=url, outlet=outlet, found=found)
    process.start()
    if "body" in found:
        return found
    raise CaptureError(found.get("error") or _refusal(url, crawler.stats.get_stats()))


def _refusal(url: str, stats: dict[str, Any]) -> str:
    """Why a request vanished: the guards drop a request without calling its errback."""
    if any(key.startswith("newswatch/ssrf/refused") for key in stats):
        return f"{url} refused by the SSRF guard (a private or reserved address; see the outlet's allow_private)"
    if any(key.startswith("robotstxt/forbidden") for key in stats):
        return f"{url} is disallowed by the site's robots.txt"
    if any(key.startswith(("offsite/", "newswatch/offsite")) for key in stats):
        return f"{url} is outside the outlet's allowed domains"
    return f"{url} was not fetched (no response; run with -v for Scrapy's log)"


def fixture_name(url: str) -> str:
    """A stable file name for a captured URL: its last path segment and a short hash."""
    parts = urlsplit(url)
    stem = _UNSAFE_NAME.sub("_", (parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc))[:60].strip("._")
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:10]
    return f"capture_{stem or 'page'}_{digest}.html"


@dataclass(frozen=True, slots=True)
class Captured:
    page: Path
    golden: Path
    record: dict[str, Any]


def capture(url: str, outlet: Outlet, root: Path) -> Captured:
    """Fetch, save page and sidecar, and write today's record as the candidate golden."""
    response = fetch(url, outlet)
    folder = root / outlet.spider
    page = folder / fixture_name(url)
    golden = page.with_name(page.name + ".expected.json")
    raw = RawPage(url=response["url"], body=response["body"], headers=response["headers"],
                  outlet=outlet.spider, fetched_at=response["fetched_at"])  # fmt: skip
    record = _record(raw, PARSER_OF_SPIDER.get(outlet.spider, "generic"))
    sidecar = {"url": response["url"], "fetched_at": response["fetched_at"].isoformat(timespec="seconds")}
    if response["url"] != url:
        sidecar["requested_url"] = url
    try:
        folder.mkdir(parents=True, exist_ok=True)
        page.write_bytes(response["body"])
        _write_json(page.with_name(page.name + ".meta.json"), sidecar)
        _write_json(golden, record)
    except OSError as exc:
        raise CaptureError(f"cannot write {folder}: {exc.strerror or exc}") from None
    return Captured(page, golden, record)


def _record(raw: RawPage, parser: str) -> dict[str, Any]:
    """The parser's record of a page, or what the page turned out to be when it is not an article."""
    try:
        return parse(raw, parser).to_dict()
    except NotAnArticle as refusal:
        return {"not_an_article": refusal.reason, "kind": refusal.kind}
    except ParseError as problem:
        return {"parse_error": problem.reason}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@dataclass(slots=True)
class CheckResult:
    fixture: str
    #: field -> (golden, now); empty when the fixture still gives its golden.
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return not self.differences and self.problem is None


def fixture_pages(root: Path) -> list[Path]:
    """Every page file under ``root/<spider>/`` that has a golden next to it."""
    return sorted(
        path
        for path in root.glob("*/*")
        if path.is_file()
        and not path.name.endswith(SIDECAR_SUFFIXES)
        and path.with_name(path.name + ".expected.json").exists()
    )


def check_one(path: Path) -> CheckResult:
    name = f"{path.parent.name}/{path.name}"
    try:
        golden = json.loads(path.with_name(path.name + ".expected.json").read_text(encoding="utf-8"))
        sidecar_path = path.with_name(path.name + ".meta.json")
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8")) if sidecar_path.exists() else {}
    except (OSError, ValueError) as exc:
        return CheckResult(name, problem=f"cannot read the golden or sidecar: {exc}")
    if not isinstance(golden, dict) or not isinstance(sidecar, dict):
        return CheckResult(name, problem="the golden and the sidecar must be JSON objects")
    try:
        fetched = datetime.fromisoformat(sidecar["fetched_at"]) if sidecar.get("fetched_at") else UNKNOWN_FETCH
    except (TypeError, ValueError):
        return CheckResult(name, problem=f"sidecar fetched_at is not an ISO 8601 time: {sidecar.get('fetched_at')!r}")
    raw = RawPage(url=sidecar.get("url") or f"fixture:{path.parent.name}/{path.name}", body=path.read_bytes(),
                  headers={}, outlet=path.parent.name, fetched_at=fetched)  # fmt: skip
    record = _record(raw, PARSER_OF_SPIDER.get(path.parent.name, "generic"))
    skipped = set() if sidecar.get("fetched_at") else {"fetched_at"}
    differences = {
        key: (golden.get(key), record.get(key))
        for key in sorted(set(golden) | set(record))
        if key not in skipped and golden.get(key) != record.get(key)
    }
    return CheckResult(name, differences)


def check(root: Path) -> list[CheckResult]:
    return [check_one(path) for path in fixture_pages(root)]
