"""Run one real Scrapy crawl in a child process and hand its stats back to the test.

The Twisted reactor cannot be restarted in one process, so every crawl a test
makes runs in ``python tests/crawl_subprocess.py <spec.json>``: the child loads
the spider class from the test module's file, runs it with ``CrawlerProcess``
(which installs ``TWISTED_DNS_RESOLVER``, as production does), and writes the
stats and scraped items as JSON; the parent reads them.  The exit code is not
used to judge the crawl (it is 0 even when everything failed).

Usage in a test::

    result = run_crawl(MySpider, {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"]},
                       spider_kwargs={"start_urls": [mirror.url("/rfi/list/1.html")]})
    assert result.stat("newswatch/ssrf/refused") == 0

The spider class must be defined at module level of an importable file.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parents[1]

#: The safety components as the project settings must enable them (the lead's
#: crawler/settings.py should carry the same entries).
SAFETY_SETTINGS: dict[str, Any] = {
    "DOWNLOADER_MIDDLEWARES": {
        "crawler.middlewares.ssrf.SSRFGuardMiddleware": 40,
        "crawler.middlewares.offsite.OffsiteRedirectMiddleware": 35,
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "crawler.middlewares.robots.RobotsPolicyMiddleware": 100,
    },
    "TWISTED_DNS_RESOLVER": "crawler.middlewares.ssrf.SSRFSafeResolver",
    "ROBOTSTXT_OBEY": True,
    "NEWSWATCH_SSRF_ENABLED": True,
    "NEWSWATCH_ALLOW_PRIVATE_HOSTS": [],
    "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
}

#: Fast, quiet, deterministic defaults for test crawls.
TEST_SETTINGS: dict[str, Any] = {
    **SAFETY_SETTINGS,
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_TIMEOUT": 5,
    "DNS_TIMEOUT": 5,
    "RETRY_TIMES": 2,
    "CLOSESPIDER_TIMEOUT": 40,
    "USER_AGENT": "newswatch-tests",
}


@dataclass
class CrawlResult:
    stats: dict[str, Any]
    items: list[dict[str, Any]]
    log: str
    returncode: int
    extra: dict[str, Any] = field(default_factory=dict)

    def stat(self, key: str, default: Any = 0) -> Any:
        return self.stats.get(key, default)

    def stats_under(self, prefix: str) -> dict[str, Any]:
        return {k: v for k, v in self.stats.items() if k.startswith(prefix)}


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def run_crawl(
    spider_cls: type,
    settings: dict[str, Any] | None = None,
    *,
    spider_kwargs: dict[str, Any] | None = None,
    timeout: float = 60,
) -> CrawlResult:
    """Crawl with ``spider_cls`` in a child process; ``settings`` update :data:`TEST_SETTINGS`
    (dict values such as ``DOWNLOADER_MIDDLEWARES`` are merged key by key)."""
    module_file = inspect.getfile(spider_cls)
    with tempfile.TemporaryDirectory(prefix="newswatch-crawl-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec = {
            "module_file": module_file,
            "module_name": spider_cls.__module__,
            "qualname": spider_cls.__qualname__,
            "settings": _merge(TEST_SETTINGS, settings or {}),
            "spider_kwargs": spider_kwargs or {},
            "sys_path": [str(TESTS_DIR), str(REPO_ROOT)],
            "out": str(out_path),
        }
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(TESTS_DIR), str(REPO_ROOT), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), str(spec_path)],
            capture_output=True, text=True, timeout=timeout, cwd=str(REPO_ROOT), env=env,
        )
        log = proc.stdout + proc.stderr
        if not out_path.exists():
            raise AssertionError(
                f"crawl child wrote no result (exit {proc.returncode}); log tail:\n{log[-4000:]}"
            )
        data = json.loads(out_path.read_text(encoding="utf-8"))
    return CrawlResult(data["stats"], data["items"], log, proc.returncode, data.get("extra", {}))


# ------------------------------------------------------------------------- child


def _child(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    for entry in reversed(spec["sys_path"]):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    name = spec["module_name"]
    module_spec = importlib.util.spec_from_file_location(name, spec["module_file"])
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    spider_cls: Any = module
    for part in spec["qualname"].split("."):
        spider_cls = getattr(spider_cls, part)

    from itemadapter import ItemAdapter
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    items: list[dict[str, Any]] = []
    process = CrawlerProcess(spec["settings"])
    crawler = process.create_crawler(spider_cls)

    def collect(item: Any, **_: Any) -> None:
        items.append(ItemAdapter(item).asdict())

    crawler.signals.connect(collect, signal=signals.item_scraped)  # weak ref: keep `collect`
    process.crawl(crawler, **spec["spider_kwargs"])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    Path(spec["out"]).write_text(
        json.dumps({"stats": stats, "items": items}, default=str, ensure_ascii=False),
        encoding="utf-8",
    )


if __name__ == "__main__":
    _child(sys.argv[1])
