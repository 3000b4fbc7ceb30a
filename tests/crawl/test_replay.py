"""`newswatch replay` end to end: real engine, spiders, pipelines and SQLite, through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import open_database
from tests.support.cli_helpers import FIXTURES, REPO, newswatch, newswatch_json

SEED_TITLES = {
    "wechat": "国防部：中方将与俄方进一步加强战略协作",
    "portal": "解局:中俄两军高层十天内会谈两次,释放了什么信号?",
    "ecns": "China-Russia mutual trust improving",
    "rfi": "张又侠今见普京",
    "bbc": "中俄元首视频对话：普京邀习近平国事访问　寻求“深化军事合作”",
}
EXPORT_FIELDS = {
    "id", "url", "outlet", "title", "published_at", "author", "language", "body", "extra",
    "fetched_at", "content_hash", "first_seen_at", "last_seen_at",
}


def test_replay_of_the_bundled_fixtures_stores_the_five_seed_articles(sqlite_url: str) -> None:
    result = newswatch("replay", str(FIXTURES), "--db", sqlite_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for title in SEED_TITLES.values():
        assert title in result.stdout  # the table of stored articles

    export = newswatch("items", "export", "--format", "jsonl", "--db", sqlite_url)
    assert export.returncode == 0, export.stderr
    records = [json.loads(line) for line in export.stdout.splitlines()]
    assert {r["outlet"]: r["title"] for r in records} == SEED_TITLES
    for record in records:
        assert record.keys() >= EXPORT_FIELDS
        assert record["language"] in {"zh", "en"} and record["body"]
    by_outlet = {r["outlet"]: r for r in records}
    assert by_outlet["rfi"]["url"] == "https://www.rfi.fr/cn/中国/20231108-张又侠今见普京"
    assert by_outlet["wechat"]["url"] == "fixture:wechat/000_96ca5124db9825cd.txt"
    assert by_outlet["wechat"]["published_at"] is None

    listed = newswatch_json("items", "list", "--outlet", "bbc", "--db", sqlite_url)
    assert [item["title"] for item in listed] == [SEED_TITLES["bbc"]]
    shown = newswatch_json("items", "show", str(listed[0]["id"]), "--db", sqlite_url)
    assert shown["published_at"] == "2022-12-30"


def test_second_replay_finds_everything_unchanged(sqlite_url: str) -> None:
    first = newswatch_json("replay", str(FIXTURES), "--db", sqlite_url)
    second = newswatch_json("replay", str(FIXTURES), "--db", sqlite_url)
    assert first["counts"]["new"] == 5 and first["status"] == "finished"
    assert second["counts"] == {
        "new": 0, "changed": 0, "unchanged": 5, "duplicate": 0, "dropped": 0, "error": 0,
    }
    runs = newswatch_json("runs", "list", "--db", sqlite_url)
    assert [run["mode"] for run in runs] == ["replay", "replay"]
    exported = newswatch("items", "export", "--db", sqlite_url).stdout.splitlines()
    assert len(exported) == 5
    assert all(json.loads(line)["version_count"] == 1 for line in exported)


def _bad_input_tree(root: Path) -> Path:
    tree = root / "replay"
    shutil.copytree(FIXTURES, tree, ignore=shutil.ignore_patterns("*.expected.json"))
    (tree / "portal" / "empty.html").write_bytes(b"")
    (tree / "portal" / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tree / "portal" / "truncated.html").write_bytes(
        b"<!DOCTYPE html><html><head><title>x</title></head><body><div class=\"art"
    )
    seed = (FIXTURES / "portal" / "001_004c24d0aad6edaa.txt").read_text(encoding="utf-8")
    (tree / "portal" / "001_gb18030_copy.txt").write_bytes(seed.encode("gb18030"))
    (tree / "rfi" / "with-bad-sidecar.html").write_text("<p>x</p>", encoding="utf-8")
    (tree / "rfi" / "with-bad-sidecar.html.meta.json").write_text("{url: nope", encoding="utf-8")
    (tree / "nosuchspider").mkdir()
    (tree / "nosuchspider" / "page.html").write_text("<p>x</p>", encoding="utf-8")
    return tree


def test_bad_input_is_dropped_with_a_reason_and_the_rest_is_stored(tmp_path: Path, sqlite_url: str) -> None:
    tree = _bad_input_tree(tmp_path)
    result = newswatch("replay", str(tree), "--db", sqlite_url, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    summary = json.loads(result.stdout)
    reasons = {Path(p["url"].split(":", 1)[-1]).name: p["reason"] for p in summary["problems"]}
    assert set(reasons) == {"empty.html", "binary.html", "truncated.html", "with-bad-sidecar.html", "nosuchspider"}
    assert "empty" in reasons["empty.html"]
    assert "binary" in reasons["binary.html"]
    assert "truncated" in reasons["truncated.html"]
    assert "not valid JSON" in reasons["with-bad-sidecar.html"]
    assert "names no spider" in reasons["nosuchspider"]
    assert summary["counts"]["dropped"] == 5
    # The five seeds are stored; the GB18030 copy reads as the same text, so it is a copy of 001.
    assert summary["counts"]["new"] == 5 and summary["counts"]["duplicate"] == 1
    for problem in summary["problems"]:  # the log has the same one-line reasons
        assert problem["reason"] in result.stderr

    records = [json.loads(l) for l in newswatch("items", "export", "--db", sqlite_url).stdout.splitlines()]
    gb = next(r for r in records if r["url"].endswith("001_gb18030_copy.txt"))
    utf8 = next(r for r in records if r["url"].endswith("001_004c24d0aad6edaa.txt"))
    for field in ("title", "published_at", "author", "body", "language", "extra", "content_hash"):
        assert gb[field] == utf8[field], field
    assert gb["duplicate_of"] == utf8["id"]


def test_replay_opens_no_network_connection(tmp_path: Path, sqlite_url: str) -> None:
    log = tmp_path / "net.log"
    result = newswatch("replay", str(FIXTURES), "--db", sqlite_url, env={"NEWSWATCH_NETLOG": str(log)})
    assert result.returncode == 0, result.stderr
    assert not log.exists() or log.read_text() == "", log.read_text()


def test_the_network_guard_itself_records_and_refuses(tmp_path: Path) -> None:
    """Proves the no-network test above can fail: a connection is logged and refused."""
    log = tmp_path / "net.log"
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=1)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**__import__("os").environ, "NEWSWATCH_NETLOG": str(log)},
    )
    assert result.returncode != 0 and "tests may not connect" in result.stderr
    assert "192.0.2.1" in log.read_text()


def test_replay_of_a_missing_directory_is_a_clean_error(sqlite_url: str) -> None:
    result = newswatch("replay", "/nonexistent/dir", "--db", sqlite_url)
    assert result.returncode == 2
    assert "is not a directory" in result.stderr and "Traceback" not in result.stderr


def test_bad_database_url_is_a_clean_error() -> None:
    result = newswatch("items", "list", "--db", "nosuchdb://x")
    assert result.returncode == 2
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_info_prints_the_default_database_path(tmp_path: Path) -> None:
    info = newswatch_json("info", env={"NEWSWATCH_HOME": str(tmp_path)})
    assert info["database"] == f"sqlite:///{tmp_path / 'newswatch.db'}"


def test_scrapy_list_shows_the_five_spiders() -> None:
    scrapy = Path(sys.executable).with_name("scrapy")
    result = subprocess.run([str(scrapy), "list"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["bbc", "ecns", "portal", "rfi", "wechat"]


def test_a_page_over_the_size_limit_is_dropped_with_its_size(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "rfi").mkdir()
    (tmp_path / "rfi" / "huge.html").write_bytes(b"<html><body>" + b"<p>x</p>" * 2000 + b"</body></html>")
    result = newswatch("replay", str(tmp_path), "--db", sqlite_url, "--json",
                       env={"NEWSWATCH_MAX_PAGE_BYTES": "10000"})
    assert result.returncode == 1
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["reason"] == "page too large: 16,026 bytes (limit 10,000)"


def test_a_database_failure_when_the_run_starts_is_one_line_not_a_traceback(sqlite_url: str) -> None:
    import sqlite3

    from sqlalchemy import make_url

    open_database(sqlite_url).dispose()  # creates and migrates the database
    with sqlite3.connect(make_url(sqlite_url).database) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_runs BEFORE INSERT ON crawl_runs "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error (test trigger)'); END"
        )
    result = newswatch("replay", str(FIXTURES), "--db", sqlite_url)
    assert result.returncode == 2
    assert "error: database error: disk I/O error (test trigger)" in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_without_a_directory_outside_a_checkout_says_what_to_do(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed wheel has no fixtures/: the default replay explains, not a path error."""
    import importlib

    from typer.testing import CliRunner

    cli_app = importlib.import_module("newswatch.cli.app")  # the module, not the Typer app
    monkeypatch.setattr(cli_app, "BUNDLED_FIXTURES", tmp_path / "site-packages" / "fixtures")
    result = CliRunner().invoke(cli_app.app, ["replay", "--db", sqlite_url])
    assert result.exit_code == 2
    assert "bundled fixtures" in result.output and "newswatch replay DIR" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
