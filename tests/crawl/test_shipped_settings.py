"""The settings newswatch ships, as `newswatch crawl` and `scrapy crawl` load them.

The engine tests (tests/support/crawl_subprocess.py) start from these same settings and
override only what a test must; this file checks the settings themselves: the safety
chain is on and in order, in the project settings and in the log of the two real
commands.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.project import get_project_settings

from newswatch.cli.crawl import crawl_overrides
from newswatch.runs import SETTINGS_MODULE, project_settings
from tests.support.cli_helpers import REPO, newswatch

#: The downloader middlewares that keep a crawl safe, in the order a request meets them.
SAFETY_CHAIN = [
    "crawler.middlewares.offsite.OffsiteRedirectMiddleware",  # off-site redirect: no DNS lookup
    "crawler.middlewares.ssrf.SSRFGuardMiddleware",  # private addresses, schemes
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware",
    "crawler.middlewares.robots.RobotsPolicyMiddleware",  # RFC 9309
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware",
    "crawler.middlewares.retry.BackoffRetryMiddleware",
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware",
    # After the guards: validators only for what they let through (it replaced the HTTP cache).
    "crawler.middlewares.conditional.ConditionalRequestMiddleware",
]
REPLACED = [
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",  # allow-all on 5xx
    "scrapy.downloadermiddlewares.retry.RetryMiddleware",  # no backoff
]


def _chain(middlewares: list[str]) -> list[str]:
    return [name for name in middlewares if name in SAFETY_CHAIN]


def _scrapy_crawl_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """What `scrapy crawl` loads: scrapy.cfg in the working directory names the module."""
    monkeypatch.chdir(REPO)
    # get_project_settings() sets SCRAPY_SETTINGS_MODULE itself: registering the name
    # with monkeypatch (set, then delete) restores the environment afterwards.
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "")
    monkeypatch.delenv("SCRAPY_SETTINGS_MODULE")
    return get_project_settings()


def assert_safety(settings: Settings) -> None:
    middlewares = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    assert _chain(middlewares) == SAFETY_CHAIN
    assert not set(REPLACED) & set(middlewares)
    assert settings["TWISTED_DNS_RESOLVER"] == "crawler.middlewares.ssrf.SSRFSafeResolver"
    assert settings.getbool("NEWSWATCH_SSRF_ENABLED") is True
    assert settings.getbool("ROBOTSTXT_OBEY") is True
    assert settings.getint("DOWNLOAD_MAXSIZE") == 16 * 1024 * 1024
    assert 0 < settings.getint("DOWNLOAD_WARNSIZE") < settings.getint("DOWNLOAD_MAXSIZE")
    assert 0 < settings.getint("NEWSWATCH_MAX_PAGE_BYTES") <= settings.getint("DOWNLOAD_MAXSIZE")
    assert settings.getint("DOWNLOAD_TIMEOUT") == 30
    assert settings.getbool("RETRY_ENABLED") is True and settings.getint("RETRY_TIMES") == 3
    assert settings.getfloat("NEWSWATCH_RETRY_BACKOFF_S") > 0
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is True
    assert settings.getfloat("AUTOTHROTTLE_START_DELAY") >= 1
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert re.fullmatch(r"newswatch/\S+ \(news monitoring crawler(; \+\S+)?\)", settings["USER_AGENT"])
    assert settings.getdict("DOWNLOAD_HANDLERS") == {"file": None, "data": None, "ftp": None, "s3": None}
    assert not settings.getbool("TELNETCONSOLE_ENABLED") and not settings.getbool("REMOTE_CONTROL_ENABLED")
    pipelines = build_component_list(settings.getwithbase("ITEM_PIPELINES"))
    assert pipelines == [
        "crawler.pipelines.ValidationPipeline",
        "crawler.pipelines.CanonicalUrlPipeline",
        "crawler.pipelines.StoragePipeline",
    ]
    extensions = build_component_list(settings.getwithbase("EXTENSIONS"))
    assert "scrapy.extensions.throttle.AutoThrottle" in extensions
    assert "newswatch.runs.RunRecorder" in extensions


def test_newswatch_crawl_settings_carry_the_safety_chain() -> None:
    assert SETTINGS_MODULE == "newswatch.scrapy_settings"
    settings = project_settings({"NEWSWATCH_DB": "sqlite://", **crawl_overrides([])})
    assert_safety(settings)
    assert settings.getlist("NEWSWATCH_ALLOW_PRIVATE_HOSTS") == []


def test_scrapy_crawl_settings_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _scrapy_crawl_settings(monkeypatch)
    assert_safety(settings)
    ours = project_settings()
    for name in ("DOWNLOADER_MIDDLEWARES", "ITEM_PIPELINES", "EXTENSIONS", "USER_AGENT",
                 "TWISTED_DNS_RESOLVER", "DOWNLOAD_MAXSIZE", "RETRY_TIMES", "AUTOTHROTTLE_ENABLED"):
        assert settings[name] == ours[name], name


def test_the_assertions_can_fail() -> None:
    """A setting the chain needs, switched off or reordered, is caught."""
    broken = [
        {"DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.ssrf.SSRFGuardMiddleware": None}},
        {"DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.ssrf.SSRFGuardMiddleware": 30}},
        {"DOWNLOADER_MIDDLEWARES": {"scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": 100}},
        {"TWISTED_DNS_RESOLVER": "scrapy.resolver.CachingThreadedResolver"},
        {"ROBOTSTXT_OBEY": False},
        {"AUTOTHROTTLE_ENABLED": False},
        {"DOWNLOAD_MAXSIZE": 0},
        {"RETRY_TIMES": 0},
        {"USER_AGENT": "Scrapy/2.19 (+https://scrapy.org)"},
        {"DOWNLOAD_HANDLERS": {"file": "scrapy.core.downloader.handlers.file.FileDownloadHandler"}},
    ]
    for override in broken:
        with pytest.raises(AssertionError):
            assert_safety(project_settings(override))


# -- the real commands ---------------------------------------------------------------

def _logged(log: str, heading: str) -> object:
    """A list or dict Scrapy pretty-prints after ``heading:`` in its log.

    The CLI's log formatter shows a record's line breaks as ``\\x0a`` (one record, one
    line on a terminal); the engine tests' own log keeps them.
    """
    log = log.replace("\\x0a", "\n")
    match = re.search(re.escape(heading) + r":\n([\[{].*?[\]}])\n(?=\S)", log, re.S)
    assert match, f"{heading!r} not in the log:\n{log[-3000:]}"
    return ast.literal_eval(match.group(1))


def _assert_logged_chain(log: str) -> None:
    assert _chain(_logged(log, "Enabled downloader middlewares")) == SAFETY_CHAIN  # type: ignore[arg-type]
    assert "scrapy.extensions.throttle.AutoThrottle" in _logged(log, "Enabled extensions")  # type: ignore[operator]
    overridden = _logged(log, "Overridden settings")
    assert isinstance(overridden, dict)
    assert overridden["ROBOTSTXT_OBEY"] == "True" or overridden["ROBOTSTXT_OBEY"] is True
    assert str(overridden["USER_AGENT"]).startswith("newswatch/")
    assert "Traceback" not in log


#: Offline, the outlets' real hosts cannot be resolved (the test network guard answers
#: like a machine without DNS): the crawl fails fast, with one line per failure.
OFFLINE = {"NEWSWATCH_RETRY_BACKOFF_S": "0.01", "NEWSWATCH_CONTACT": ""}


@pytest.mark.slow
def test_scrapy_crawl_rfi_without_arguments(tmp_path: Path, sqlite_url: str) -> None:
    """README: `scrapy crawl rfi` crawls the first enabled rfi outlet with the shipped settings."""
    scrapy = Path(sys.executable).with_name("scrapy")
    env = {**os.environ, **OFFLINE, "NEWSWATCH_DB": sqlite_url}
    result = subprocess.run([str(scrapy), "crawl", "rfi"], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    _assert_logged_chain(result.stderr)
    assert "no address found for www.rfi.fr" in result.stderr  # the SSRF-safe resolver's answer
    [run] = json.loads(newswatch("runs", "list", "--db", sqlite_url, "--json").stdout)
    assert (run["outlets"], run["mode"]) == (["rfi_cn"], "live")


@pytest.mark.slow
def test_newswatch_crawl_logs_the_same_chain(sqlite_url: str) -> None:
    result = newswatch("-v", "crawl", "rfi_cn", "--db", sqlite_url, env=OFFLINE, timeout=300)
    _assert_logged_chain(result.stderr)
    assert "no address found for www.rfi.fr" in result.stderr
    [run] = json.loads(newswatch("runs", "list", "--db", sqlite_url, "--json").stdout)
    assert (run["outlets"], run["mode"]) == (["rfi_cn"], "live")


def test_engine_tests_crawl_with_the_shipped_chain(mirror) -> None:
    """tests/support/crawl_subprocess.py starts from the shipped settings, not a copy."""
    from tests.crawl.test_ssrf import ProbeSpider
    from tests.support.crawl_subprocess import run_crawl

    result = run_crawl(ProbeSpider, {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["localhost"]},
                       spider_kwargs={"start_urls": [mirror.url("/robots.txt", host="localhost")]})
    assert _chain(_logged(result.log, "Enabled downloader middlewares")) == SAFETY_CHAIN  # type: ignore[arg-type]
    assert "newswatch/0.1.0" in str(_logged(result.log, "Overridden settings"))
