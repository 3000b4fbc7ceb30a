"""The README's commands and options that no other test ran, through the installed CLI,
and scraped text on a terminal: printed literally, never as markup or escape sequences.

(`scrapy crawl rfi` without -a is in tests/crawl/test_shipped_settings.py.)
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from storage import queries
from storage.db import open_database, open_readonly
from storage.repository import Store
from tests.support.cli_helpers import FIXTURES, newswatch, newswatch_json
from tests.support.factories import BODY, make_article

#: What a hostile page could put in its title, body, author or URL: terminal escapes
#: (clear screen, window title, hyperlink, 8-bit CSI), a bell, a carriage return that
#: overwrites the line, a bidi override, and Rich markup.
HOSTILE = {
    "clear": "\x1b[2J",
    "title": "\x1b]0;pwned\x07",
    "link": "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "csi8": "\x9b31m",
    "cr": "safe\rEVIL",
    "bidi": "abc\u202edcba",
}
MARKUP = "[blink][link=http://evil.example/]官方通报[/link][/blink]"
HOSTILE_TITLE = "标题" + "".join(HOSTILE.values()) + MARKUP
HOSTILE_BODY = BODY + "\n" + "".join(HOSTILE.values()) + MARKUP
FORBIDDEN = ["\x1b[2J", "\x1b]", "\x07", "\x9b", "\r", "\u202e"]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled fixtures replayed (5 articles), then a hostile page with two versions."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('readme') / 'newswatch.db'}"
    result = newswatch("replay", str(FIXTURES), "--db", db_url)
    assert result.returncode == 0, result.stderr
    store = Store(open_database(db_url))
    run = store.start_run(spiders=["portal"], outlets=["portal"], mode="live")
    url = "https://evil.example/a?x=\x1b[2J"
    store.record(make_article(url, outlet="portal", title=HOSTILE_TITLE, body=HOSTILE_BODY), run)
    store.record(make_article(url, outlet="portal", title=HOSTILE_TITLE + "!", body=HOSTILE_BODY + "\x1b]0;v2\x07"), run)
    store.record_problem(run, kind="dropped", url=url, reason="bad page " + HOSTILE["title"] + MARKUP)
    store.finish_run(run, status="finished")
    store.db.dispose()
    return db_url


def _items(db_url: str) -> list[dict]:
    return newswatch_json("items", "list", "--db", db_url)


def test_items_list_limit(replayed: str) -> None:
    everything = _items(replayed)
    assert len(everything) == 6
    limited = newswatch_json("items", "list", "--limit", "2", "--db", replayed)
    assert limited == everything[:2]
    table = newswatch("items", "list", "--limit", "1", "--db", replayed)
    assert table.returncode == 0, table.stderr
    shown = [item for item in everything if str(item["id"]) in table.stdout.split()]
    assert len(shown) == 1
    refused = newswatch("items", "list", "--limit", "0", "--db", replayed)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_items_export_csv_to_stdout_and_to_a_file(replayed: str, tmp_path: Path) -> None:
    result = newswatch("items", "export", "--format", "csv", "--db", replayed)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 6
    assert {"url", "outlet", "title", "published_at", "body"} <= set(rows[0])
    by_url = {row["url"]: row for row in rows}
    assert {item["url"] for item in _items(replayed)} == set(by_url)
    # The CSV holds the text as stored: a spreadsheet gets the data, not a terminal.
    assert any("\n" in row["body"] for row in rows)

    target = tmp_path / "out" / "articles.csv"
    target.parent.mkdir()
    written = newswatch("items", "export", "--format", "csv", "--output", str(target), "--db", replayed)
    assert written.returncode == 0, written.stderr
    assert written.stdout.strip() == "" or "6" in written.stdout
    assert list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8")))) == rows

    jsonl = tmp_path / "articles.jsonl"
    assert newswatch("items", "export", "-o", str(jsonl), "--db", replayed).returncode == 0
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["url"] for r in records] == [row["url"] for row in rows]


def test_runs_show(replayed: str) -> None:
    runs = newswatch_json("runs", "list", "--db", replayed)
    replay_run = next(r for r in runs if r["mode"] == "replay")
    shown = newswatch("runs", "show", str(replay_run["id"]), "--db", replayed)
    assert shown.returncode == 0, shown.stderr
    assert f"run {replay_run['id']} (replay) finished" in shown.stdout
    assert "new 5" in shown.stdout
    as_json = newswatch_json("runs", "show", str(replay_run["id"]), "--db", replayed)
    assert (as_json["id"], as_json["status"], as_json["counts"]["new"]) == (replay_run["id"], "finished", 5)
    assert as_json["problems"] == []
    missing = newswatch("runs", "show", "999", "--db", replayed)
    assert missing.returncode == 1 and "no run with id 999" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.fixture(scope="module")
def hostile(replayed: str) -> tuple[str, str]:
    """The hostile article's id and the newest run's, read in-process: finding them is no
    part of what these tests prove, and `items list`/`runs list --json` run above."""
    database = open_readonly(replayed)
    try:
        with database.read_session() as session:
            article = next(row for row in queries.list_articles(session) if row.outlet == "portal" and "evil" in row.url)
            newest_run = queries.list_runs(session)[0]
    finally:
        database.dispose()
    return str(article.id), str(newest_run.id)


@pytest.mark.parametrize("force_colour", [False, True], ids=["pipe", "terminal"])
def test_scraped_text_is_printed_literally(replayed: str, hostile: tuple[str, str], force_colour: bool) -> None:
    article_id, run_id = hostile
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color"} if force_colour else {"NO_COLOR": "1"}
    commands = [
        ("items", "list"),
        ("items", "show", article_id),
        ("items", "history", article_id),
        ("items", "diff", article_id),
        ("runs", "show", run_id),
        ("runs", "list"),
    ]
    for command in commands:
        result = newswatch(*command, "--db", replayed, env=env)
        assert result.returncode == 0, (command, result.stderr)
        out = result.stdout + result.stderr
        for sequence in FORBIDDEN:
            assert sequence not in out, (command, sequence, out[:2000])
        if command[:2] in (("items", "show"), ("runs", "show")):
            assert "[blink]" in out, (command, out[:2000])  # markup shown as text, not applied


def test_json_output_keeps_the_text_for_scripts(replayed: str, hostile: tuple[str, str]) -> None:
    shown = newswatch_json("items", "show", hostile[0], "--db", replayed)
    assert shown["title"].startswith("标题") and MARKUP in shown["title"]
