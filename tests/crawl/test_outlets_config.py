"""The outlets config: the shipped one loads; every mistake names the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.outlets import ConfigError, load_outlets
from crawler.settings import default_config_path
from tests.support.cli_helpers import newswatch, newswatch_json

GOOD = """\
[outlets.rfi_cn]
spider = "rfi"
start_urls = ["https://www.rfi.fr/cn/rss"]
allowed_domains = ["rfi.fr"]
every = "30m"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outlets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_lists_the_real_entry_points() -> None:
    outlets = load_outlets(default_config_path())
    assert {o.spider for o in outlets.values()} == {"wechat", "portal", "ecns", "rfi", "bbc"}
    assert outlets["rfi_cn"].start_urls == ("https://www.rfi.fr/cn/rss",)
    assert any("zhongwen" in url for url in outlets["bbc_zhongwen"].start_urls)
    assert outlets["rfi_cn"].schedule.every_s == 30 * 60
    assert not outlets["wechat_accounts"].enabled  # needs a user-supplied feed or URL list


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (GOOD.replace('every = "30m"', 'every = "half an hour"'), ":5: outlets.rfi_cn.every: 'half an hour' is not a duration"),
        (GOOD.replace('spider = "rfi"', 'spider = "rif"'), ":2: outlets.rfi_cn.spider: 'rif' is not one of"),
        (GOOD + 'colour = "blue"\n', ":6: outlets.rfi_cn.colour: unknown key"),
        (GOOD.replace('allowed_domains = ["rfi.fr"]\n', ""), ":1: outlets.rfi_cn: missing required key 'allowed_domains'"),
        (GOOD + 'cron = "*/15 * * * *"\n', ":6: outlets.rfi_cn.cron: give either 'every' or 'cron'"),
        (GOOD.replace('every = "30m"', 'cron = "every day"'), ":5: outlets.rfi_cn.cron:"),
        (GOOD.replace('"https://www.rfi.fr/cn/rss"', '"ftp://x/y"'),
         ":3: outlets.rfi_cn.start_urls: the URL must be an http(s) web address, got 'ftp://x/y'"),
        (GOOD.replace('"https://www.rfi.fr/cn/rss"', '"https://www.rfi .fr/cn/rss"'),
         ":3: outlets.rfi_cn.start_urls: the URL contains spaces or control characters: 'https://www.rfi .fr/cn/rss'"),
        (GOOD.replace('"https://www.rfi.fr/cn/rss"', '"https://www.rfi.fr:99999/cn/rss"'),
         ":3: outlets.rfi_cn.start_urls: the URL is not a valid URL: 'https://www.rfi.fr:99999/cn/rss'"),
        (GOOD + "article_patterns = ['(']\n", ":6: outlets.rfi_cn.article_patterns: '(' is not a regular expression"),
        (GOOD.replace("[outlets.rfi_cn]", "[outlets.rfi_cn"), "not valid TOML"),
    ],
)
def test_a_bad_config_names_the_line_and_key(tmp_path: Path, change: str, expected: str) -> None:
    path = _write(tmp_path, change)
    with pytest.raises(ConfigError) as raised:
        load_outlets(path)
    message = str(raised.value)
    assert message.startswith(str(path)) and expected in message, message


def test_the_cli_reports_a_bad_config_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('every = "30m"', 'every = "soon"'))
    result = newswatch("--config", str(path), "outlets", "list")
    assert result.returncode == 2
    assert f"{path}:5: outlets.rfi_cn.every" in result.stderr and "Traceback" not in result.stderr
    listed = newswatch_json("--config", str(_write(tmp_path, GOOD)), "outlets", "list")
    assert [o["name"] for o in listed] == ["rfi_cn"]
    assert newswatch_json("--config", str(path), "info")["config"] == str(path)


def test_the_user_agent_names_newswatch_and_the_configured_contact(monkeypatch) -> None:
    import importlib

    import crawler.settings

    monkeypatch.setenv("NEWSWATCH_CONTACT", "mailto:desk@example.org")
    settings = importlib.reload(crawler.settings)
    assert settings.USER_AGENT.startswith("newswatch/") and "+mailto:desk@example.org" in settings.USER_AGENT
    monkeypatch.delenv("NEWSWATCH_CONTACT")
    settings = importlib.reload(crawler.settings)
    assert settings.USER_AGENT.endswith("(news monitoring crawler)")  # no invented address


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("0 6 * * 7", None),  # Sunday in crontab (APScheduler alone refuses 7)
        ("0 6 * * 1-5", None),
        ("0 6 * * 8", "day of week '8': '8' is not 0-7 or a day name"),
        ("0 0 31 2 *", "never fires"),
        ("0 6 * *", "not a five-field crontab line"),
    ],
)
def test_the_config_reads_a_cron_line_as_the_scheduler_does(tmp_path: Path, line: str, problem: str | None) -> None:
    """One crontab reading: what the config accepts, `schedule add --cron` accepts and runs alike."""
    path = _write(tmp_path, GOOD.replace('every = "30m"', f'cron = "{line}"'))
    if problem is not None:
        with pytest.raises(ConfigError, match=problem):
            load_outlets(path)
        return
    assert load_outlets(path)["rfi_cn"].schedule.cron == line


def test_an_internationalised_allowed_domain_admits_the_host_scrapy_requests(tmp_path: Path) -> None:
    # Scrapy requests http://例え.jp/ as http://xn--r8jz45g.jp/; the off-site filter compares
    # that host with allowed_domains, so a domain kept in Unicode refused the whole outlet.
    import scrapy
    from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
    from scrapy.utils.test import get_crawler

    config = GOOD.replace('"https://www.rfi.fr/cn/rss"', '"https://新闻.例え.jp/rss"').replace('["rfi.fr"]', '["例え.jp"]')
    outlet = load_outlets(_write(tmp_path, config))["rfi_cn"]
    assert outlet.allowed_domains == ("xn--r8jz45g.jp",)

    class Spider(scrapy.Spider):
        name = "idn"
        allowed_domains = list(outlet.allowed_domains)

    crawler = get_crawler(Spider)
    crawler.spider = spider = Spider()
    offsite = OffsiteMiddleware.from_crawler(crawler)
    offsite.spider_opened(spider)
    assert offsite.should_follow(scrapy.Request(outlet.start_urls[0]), spider)


def test_an_allowed_domain_that_is_no_domain_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="allowed_domains"):
        load_outlets(_write(tmp_path, GOOD.replace('["rfi.fr"]', '["bad..例え"]')))
