"""``newswatch outlets health``: per-run field coverage of each outlet, and drops against its history."""

from __future__ import annotations

import json

from crawler.items import Article
from crawler.parsing.health import health_marks
from newswatch.health import RunHealth, drops
from storage.db import open_database
from storage.repository import Store
from tests.support.cli_helpers import newswatch


def _article(**changes: object) -> Article:
    fields = dict(url="https://example.cn/a", outlet="x", title="标题", published_at="2026-01-01",
                  author=None, language="zh", body="正文。" * 100, extra={}, fetched_at="2026-01-01T00:00:00Z",
                  content_hash="0" * 64)  # fmt: skip
    return Article(**{**fields, **changes})  # type: ignore[arg-type]


def test_health_marks_count_what_a_record_has() -> None:
    assert health_marks(_article(author="记者")) == ["title", "date", "body", "author"]
    assert health_marks(_article(published_at=None, body="太短。")) == ["title"]
    assert health_marks(_article(extra={"title_from_body": True})) == ["date", "body"]


def _run(run_id: int, articles: int, **shares: float) -> RunHealth:
    base = {"title": 1.0, "date": 1.0, "body": 1.0, "author": 0.5}
    return RunHealth(run_id, "", articles, {**base, **shares})


def test_a_drop_against_the_outlets_own_history_is_flagged() -> None:
    history = [_run(3, 20, date=0.1), _run(2, 20), _run(1, 20, date=0.95)]
    assert drops(history) == {"date": (0.975, 0.1)}
    # A small fall, or a latest run too small to judge, is not flagged.
    assert drops([_run(3, 20, date=0.9), _run(2, 20), _run(1, 20)]) == {}
    assert drops([_run(3, 1, date=0.0), _run(2, 20), _run(1, 20)]) == {}


def _stats(articles: int, date: int) -> dict[str, int]:
    return {"newswatch/health/articles": articles, "newswatch/health/title": articles,
            "newswatch/health/date": date, "newswatch/health/body": articles, "newswatch/health/author": 0}  # fmt: skip


def test_replayed_runs_record_health_and_a_template_change_is_flagged(sqlite_url: str) -> None:
    for _ in range(2):
        assert newswatch("replay", "--db", sqlite_url).returncode == 0
    result = newswatch("outlets", "health", "--db", sqlite_url, "--json")
    assert result.returncode == 0, result.stderr
    report = {entry["outlet"]: entry for entry in json.loads(result.stdout)}
    assert set(report) == {"bbc", "ecns", "portal", "rfi", "wechat"}
    assert [run["articles"] for run in report["rfi"]["runs"]] == [1, 1]
    assert report["rfi"]["runs"][0]["date"] == 1.0 and report["wechat"]["runs"][0]["date"] == 0.0

    # Three runs of an outlet where dates were found, then one where they were not.
    store = Store(open_database(sqlite_url))
    for dated in (10, 10, 9, 1):
        run_id = store.start_run(spiders=["rfi"], outlets=["rfi_cn"], mode="live")
        store.finish_run(run_id, status="finished", stats={"rfi_cn": _stats(10, dated)})
    flagged = newswatch("outlets", "health", "rfi_cn", "--db", sqlite_url, "--json")
    assert flagged.returncode == 1
    [entry] = json.loads(flagged.stdout)
    assert list(entry["dropped"]) == ["date"]
    shown = newswatch("outlets", "health", "rfi_cn", "--db", sqlite_url)
    assert "rfi_cn: date coverage fell to 10%" in shown.stdout
