"""Takedowns as versions, end to end: crawl the mirror, take articles down, revisit, restore.

The mirror answers known article URLs with 404, 410, a redirect to its home page and the
real WeChat removal pages; the revisit schedule is driven by ``NEWSWATCH_REVISIT_AT``
(a chosen clock), never by waiting.

Most checks read the versions in-process (``storage.queries.versions``, what ``items history``
prints) and the kept text from one ``items export`` per phase: asking ``items history`` and
``items show`` once per article cost a CLI process each (about 50 in all). Each phase still
asks the real ``items history --json`` and ``items show --json`` once and checks that they
agree with what is stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from storage import queries
from storage.db import open_readonly
from tests.alerts.receivers import WebhookReceiver, webhook  # noqa: F401
from tests.support.cli_helpers import newswatch, newswatch_json

WECHAT = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "pages" / "wechat"
FAST = ["-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "DOWNLOAD_DELAY=0", "-s", "NEWSWATCH_RETRY_BACKOFF_S=0.2"]


def _config(mirror, path: Path) -> Path:
    path.write_text(
        f"""
[outlets.portal_local]
spider = "portal"
start_urls = ["{mirror.url('/portal/list/1.html')}"]
allowed_domains = ["127.0.0.1"]
article_patterns = ['/portal/articles/']
allow_private = true
max_depth = 10

[outlets.wechat_local]
spider = "wechat"
start_urls = ["{mirror.url('/wechat/rss.xml')}"]
allowed_domains = ["127.0.0.1"]
article_patterns = ['/wechat/articles/']
allow_private = true
""",
        encoding="utf-8",
    )
    return path


def _crawl(config: Path, db: str, at: datetime | None = None) -> dict:
    extra = ["-s", f"NEWSWATCH_REVISIT_AT={at.isoformat()}"] if at else []
    result = newswatch("--config", str(config), "crawl", "--db", db, "--json", *FAST, *extra, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)


def _versions(db: str) -> dict[int, list[dict]]:
    """Every article's versions as stored: event, reason and evidence, oldest first."""
    database = open_readonly(db)
    try:
        with database.read_session() as session:
            ids = [row.id for row in queries.list_articles(session)]
            return {
                article_id: [
                    {"event": v.event, "event_reason": v.event_reason, "event_evidence": v.event_evidence}
                    for v in queries.versions(session, article_id)
                ]
                for article_id in ids
            }
    finally:
        database.dispose()


def _bodies(db: str) -> dict[int, str]:
    result = newswatch("items", "export", "--db", db)
    assert result.returncode == 0, result.stderr
    return {record["id"]: record["body"] for record in map(json.loads, result.stdout.splitlines())}


def _cli_agrees(db: str, article_id: int, stored: list[dict], body: str) -> list[dict]:
    """``items history`` and ``items show`` through the CLI say what is stored."""
    history = newswatch_json("items", "history", str(article_id), "--db", db)
    assert [{k: h[k] for k in ("event", "event_reason", "event_evidence")} for h in history] == stored
    assert newswatch_json("items", "show", str(article_id), "--db", db)["body"] == body
    return history


def _wechat_page(name: str, replace: tuple[str, str] | None = None, extra: str = "") -> bytes:
    text = (WECHAT / name).read_text(encoding="utf-8")
    if replace:
        text = text.replace(*replace)
    return (text + extra).encode("utf-8")


@pytest.mark.slow
def test_takedowns_are_confirmed_recorded_once_with_text_kept_and_restored(
    mirror_factory, tmp_path: Path, sqlite_url: str, webhook: WebhookReceiver  # noqa: F811
) -> None:
    site = mirror_factory(outlets=("portal", "wechat"))
    config = _config(site, tmp_path / "outlets.toml")
    _crawl(config, sqlite_url)
    stored = [json.loads(line) for line in newswatch("items", "export", "--db", sqlite_url).stdout.splitlines()]
    portal = sorted((a for a in stored if a["outlet"] == "portal_local"), key=lambda a: a["id"])
    wechat = sorted((a for a in stored if a["outlet"] == "wechat_local"), key=lambda a: a["id"])
    assert len(portal) >= 5 and len(wechat) >= 4, (len(portal), len(wechat))

    hows: list[tuple[dict, str | bytes, str]] = [
        (portal[0], "404", "http_404"),
        (portal[1], "410", "http_410"),
        (portal[2], "home", "redirect_home"),
        (wechat[0], _wechat_page("wae_deleted_01.html"), "wechat_deleted_by_author"),
        (wechat[1], _wechat_page("wae_violation_01.html"), "wechat_violation"),
        (wechat[2], _wechat_page("wae_violation_01.html", ("此内容因违规无法查看", "此内容被投诉且经审核涉嫌侵权，无法查看。")), "wechat_complaint"),
        (wechat[3], _wechat_page("wae_violation_01.html", ("此内容因违规无法查看", "此帐号已被屏蔽, 内容无法查看")), "wechat_account_blocked"),
        (portal[3], _wechat_page("wae_violation_01.html", ("此内容因违规无法查看", "该公众号已迁移"),
                                 "<script>var transferTargetLink = 'https://mp.weixin.qq.com/s/NEW';</script>"), "wechat_account_migrated"),
    ]
    blocked = portal[4]
    for article, how, _ in hows:
        site.site.take_down(urlsplit(article["url"]).path, how)
    site.site.take_down(urlsplit(blocked["url"]).path, _wechat_page("j-lab-10404_wechat_article_verify.html"))

    # The watch is added after the first crawl: the articles' "new" events predate it.
    add = newswatch("watch", "add", "gone", "--query", "的", "--events", "removed,restored", "--notify", webhook.url, "--db", sqlite_url)
    assert add.returncode == 0, add.stderr
    start = datetime.now(UTC)
    site.reset_stats()
    _crawl(config, sqlite_url, at=start + timedelta(minutes=15))

    versions, bodies = _versions(sqlite_url), _bodies(sqlite_url)
    for article, _, reason in hows:
        path = urlsplit(article["url"]).path
        assert site.hits(path) == 2, (path, site.hits(path))  # the takedown, then its confirmation
        history = versions[article["id"]]
        assert [h["event"] for h in history] == [None, "removed"], (reason, history)
        assert history[-1]["event_reason"] == reason
        assert bodies[article["id"]] == article["body"]  # the last text is kept
    migrated = next(a for a, _, r in hows if r == "wechat_account_migrated")
    history = _cli_agrees(sqlite_url, migrated["id"], versions[migrated["id"]], migrated["body"])
    assert history[-1]["event_evidence"]["new_url"] == "https://mp.weixin.qq.com/s/NEW"
    # The anti-bot page is no takedown: no version, tried again later.
    assert [h["event"] for h in versions[blocked["id"]]] == [None]

    matching = {a["id"] for a, _, _ in hows if "的" in a["title"] + a["body"]}
    assert len(matching) >= 5
    removed = [h.json for h in webhook.accepted if h.json["event"] == "removed"]
    assert sorted(e["article_id"] for e in removed) == sorted(matching)

    # Everything comes back: one "restored" each, and nothing more on later revisits.
    for article, _, _ in hows:
        site.site.restore(urlsplit(article["url"]).path)
    site.site.restore(urlsplit(blocked["url"]).path)
    _crawl(config, sqlite_url, at=start + timedelta(minutes=45))
    versions = _versions(sqlite_url)
    for article, _, _ in hows:
        assert [h["event"] for h in versions[article["id"]]] == [None, "removed", "restored"]
    _cli_agrees(sqlite_url, hows[0][0]["id"], versions[hows[0][0]["id"]], hows[0][0]["body"])
    restored = [h.json for h in webhook.accepted if h.json["event"] == "restored"]
    assert sorted(e["article_id"] for e in restored) == sorted(matching)

    # At the next revisit: the other WeChat notices and a portal page saying it does not
    # exist are takedowns too; an expired temporary link and a 404 that the confirmation
    # does not see again are not; and what came back stays back (nothing new for it).
    soft_404 = "<html><body><div class='nav'>首页 国际</div><h1>对不起，您访问的页面不存在</h1></body></html>".encode()
    again: list[tuple[dict, str | bytes, str]] = [
        (wechat[0], _wechat_page("wae_violation_01.html", ("此内容因违规无法查看", "此帐号已自主注销，内容无法查看")), "wechat_account_closed"),
        (wechat[1], _wechat_page("wae_violation_01.html", ("此内容因违规无法查看", "根据作者隐私设置，无法查看该内容")), "wechat_privacy"),
        (wechat[2], _wechat_page("wae_violation_01.html", ("此内容因违规无法查看", "此账号已被屏蔽, 内容无法查看")), "wechat_account_blocked"),
        (portal[0], soft_404, "soft_404"),
    ]
    for article, how, _ in again:
        site.site.take_down(urlsplit(article["url"]).path, how)
    expired, transient = wechat[3], portal[1]
    site.site.take_down(urlsplit(expired["url"]).path, _wechat_page("wechatsogou_expired_link.html"))
    site.site.take_down(urlsplit(transient["url"]).path, "404", times=1)  # gone for one request only
    site.reset_stats()
    _crawl(config, sqlite_url, at=start + timedelta(hours=3))
    versions, bodies = _versions(sqlite_url), _bodies(sqlite_url)
    for article, _, reason in again:
        history = versions[article["id"]]
        assert [h["event"] for h in history] == [None, "removed", "restored", "removed"], (reason, history)
        assert history[-1]["event_reason"] == reason
        assert bodies[article["id"]] == article["body"]
    _cli_agrees(sqlite_url, again[0][0]["id"], versions[again[0][0]["id"]], again[0][0]["body"])
    assert site.hits(urlsplit(transient["url"]).path) == 2  # the suspected takedown, then its confirmation
    taken_again = {a["id"] for a, _, _ in again}
    for article in (expired, transient, *(a for a, _, _ in hows if a["id"] not in taken_again)):
        history = versions[article["id"]]
        assert [h["event"] for h in history] == [None, "removed", "restored"], (article["url"], history)
    matching_again = {a["id"] for a, _, _ in again if "的" in a["title"] + a["body"]}
    removed = [h.json for h in webhook.accepted if h.json["event"] == "removed"]
    assert sorted(e["article_id"] for e in removed) == sorted([*matching, *matching_again])
    assert len(webhook.accepted) == 2 * len(matching) + len(matching_again)
