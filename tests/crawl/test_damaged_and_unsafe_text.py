"""Slightly damaged pages are kept (repaired, with provenance); nothing scraped drives a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

from storage.db import open_database
from tests.crawl.test_replay_hostile import assert_accounted, replay_json
from tests.support.cli_helpers import NEWSWATCH, REPO, newswatch

PARAGRAPHS = [
    "国防部新闻局副局长、国防部新闻发言人蒋斌大校答记者问，介绍了近期军事外交工作的有关情况。",
    "发言人表示，中方将继续深化两军务实合作，为维护地区和平稳定作出积极贡献。",
    "他说，双方同意加强各层级交流，共同应对地区安全挑战，推动两军关系持续向前发展。",
]


def article_html(title: str, paragraphs: list[str] = PARAGRAPHS) -> str:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>"
        f"<body><h1>{title}</h1><div id=\"artibody\">{body}</div></body></html>"
    )


def write_page(folder: Path, name: str, data: bytes, url: str) -> None:
    (folder / name).write_bytes(data)
    (folder / f"{name}.meta.json").write_text(json.dumps({"url": url}), encoding="utf-8")


def export(sqlite_url: str) -> dict[str, dict]:
    lines = newswatch("items", "export", "--db", sqlite_url).stdout.splitlines()
    return {Path(r["url"]).name: r for r in map(json.loads, lines)}


def test_slightly_damaged_pages_are_stored_with_their_encoding_provenance(tmp_path: Path, sqlite_url: str) -> None:
    tree = tmp_path / "replay"
    folder = tree / "portal"
    folder.mkdir(parents=True)
    clean = article_html("两军关系持续向前发展").encode("utf-8")
    other = article_html("中方将继续深化合作", [p[::-1] for p in PARAGRAPHS]).encode("utf-8")
    cut = clean.index("蒋斌".encode())
    write_page(folder, "bad_byte.html", clean[:cut] + b"\xff" + clean[cut:], "https://news.sina.com.cn/c/a1.shtml")
    nul = other.index("绍介".encode())
    write_page(folder, "nul_byte.html", other[:nul] + b"\x00" + other[nul:], "https://news.sina.com.cn/c/a2.shtml")
    entity = article_html("记者会", ["Third page, in English &#27;[31m with an escape.", "A second paragraph of it."]).encode("utf-8")
    write_page(folder, "esc_entity.html", entity, "https://news.sina.com.cn/c/a3.shtml")
    garbage = bytes((i * 7919 + 13) % 256 for i in range(4000))
    write_page(folder, "mostly_garbage.html", b"<html><body><p>" + garbage + b"</p></body></html>", "https://news.sina.com.cn/c/a4.shtml")

    summary, _ = replay_json(tree, sqlite_url)
    assert_accounted(summary, tree)
    assert summary["counts"]["new"] == 3, summary["problems"]
    assert [Path(p["url"]).name for p in summary["problems"]] == ["a4.shtml"]
    assert "binary content" in summary["problems"][0]["reason"]

    records = export(sqlite_url)
    damaged = records["a1.shtml"]
    assert damaged["extra"]["encoding"] == {
        "declared": "utf-8", "detected": "utf-8", "used": "utf-8", "replacements": 1, "controls_removed": 0,
    }
    assert "\ufffd" in damaged["body"] and "蒋斌" in damaged["body"]
    assert "\x00" not in records["a2.shtml"]["body"] and "绍介" in records["a2.shtml"]["body"]
    assert "encoding" not in records["a3.shtml"]["extra"]
    assert "\x1b" not in records["a3.shtml"]["body"] and "[31m" in records["a3.shtml"]["body"]


UNSAFE_TITLE = "Bidi\u202etxt.exe\u202c title \x1b]0;pwned\x07 with \x9b31m C1"


def test_nothing_scraped_reaches_the_terminal_raw(tmp_path: Path, sqlite_url: str) -> None:
    tree = tmp_path / "replay"
    folder = tree / "portal"
    folder.mkdir(parents=True)
    write_page(folder, "title.html", article_html(UNSAFE_TITLE).encode("utf-8"), "https://news.sina.com.cn/c/t.shtml")
    (folder / "evil\x1b[2Jname\x07.html").write_bytes(b"")  # dropped: its name is logged
    raw_controls = ("\x1b", "\x07", "\x9b", "\u202e")

    human = newswatch("replay", str(tree), "--db", sqlite_url)
    assert human.returncode == 1
    assert "\\x1b[2Jname\\x07.html" in human.stderr  # the log line shows the name, escaped
    for output in (human.stdout, human.stderr):
        assert not any(char in output for char in raw_controls), repr(output)
    assert "\\u202e" in human.stdout  # the title in the table, its override made visible

    listed = newswatch("items", "list", "--db", sqlite_url, "--json")
    exported = newswatch("items", "export", "--db", sqlite_url)
    for output in (listed.stdout, exported.stdout):
        assert not any(char in output for char in raw_controls), repr(output)
    title = json.loads(listed.stdout)[0]["title"]
    assert "\u202e" in title and "\u202c" in title  # the machine output is exact...
    assert "\x1b" not in title  # ...of what was stored: C0/C1 controls never reach the record
    assert json.loads(exported.stdout.splitlines()[0])["title"] == title


def test_csv_export_refuses_to_write_to_a_terminal(sqlite_url: str, tmp_path: Path) -> None:
    open_database(sqlite_url).dispose()  # creates and migrates the database
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [str(NEWSWATCH), "items", "export", "--format", "csv", "--db", sqlite_url],
            stdout=follower, stderr=subprocess.PIPE, text=True, timeout=120, cwd=REPO,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 2
    assert "refusing to write CSV to a terminal" in result.stderr and "Traceback" not in result.stderr
    to_file = newswatch("items", "export", "--format", "csv", "-o", str(tmp_path / "a.csv"), "--db", sqlite_url)
    assert to_file.returncode == 0
