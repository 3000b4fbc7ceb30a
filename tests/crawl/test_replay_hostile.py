"""`newswatch replay` on a hostile folder: every file stored or dropped with a reason.

The invariant checked throughout: the run summary's counts add up to the number of
files given (pages, not sidecars), whatever those files are.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support.cli_helpers import FIXTURES, newswatch

STORED = ("new", "changed", "unchanged", "duplicate")


def replay_json(tree: Path, sqlite_url: str) -> tuple[dict, str]:
    result = newswatch("replay", str(tree), "--db", sqlite_url, "--json")
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout), result.stderr


def files_given(tree: Path) -> int:
    """Pages in outlet folders (a top-level entry that is not a folder counts as one)."""
    total = 0
    for entry in tree.iterdir():
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_symlink() or not entry.is_dir():
            total += 1 if entry.is_symlink() else 0
            continue
        total += sum(
            1 for page in entry.iterdir()
            if not page.name.startswith(".") and not page.name.endswith((".meta.json", ".expected.json"))
        )
    return total


def assert_accounted(summary: dict, tree: Path) -> None:
    counts = summary["counts"]
    assert sum(counts.values()) == files_given(tree), (counts, summary["problems"])


def _rfi_tree(root: Path) -> Path:
    tree = root / "replay"
    (tree / "rfi").mkdir(parents=True)
    seed = FIXTURES / "rfi" / "003_1e4486f85b861131.txt"
    shutil.copy(seed, tree / "rfi" / "zz_last_good.txt")  # sorts after every bad sidecar
    return tree


BAD_SIDECAR_URLS = [
    "javascript:alert(1)",
    "x:y",
    "file:///etc/passwd",
    "data:text/html,<p>hi</p>",
    "https://example.com/" + "a" * 10_000,
    "https://exa mple.com/",
    "https://example.com:99999/",
    "https://[::1/",
    "//no-scheme.example/",
    42,
]


def test_one_bad_sidecar_never_stops_the_outlet_folder(tmp_path: Path, sqlite_url: str) -> None:
    tree = _rfi_tree(tmp_path)
    seed = (FIXTURES / "rfi" / "003_1e4486f85b861131.txt").read_bytes()
    for number, url in enumerate(BAD_SIDECAR_URLS):
        page = tree / "rfi" / f"{number:02d}_page.txt"
        page.write_bytes(seed)
        page.with_name(page.name + ".meta.json").write_text(json.dumps({"url": url}), encoding="utf-8")
    edge = tree / "rfi" / "50_calendar_edge.txt"
    edge.write_bytes(seed)
    edge.with_name(edge.name + ".meta.json").write_text(
        json.dumps({"url": "https://www.rfi.fr/cn/x", "fetched_at": "9999-12-31T23:59:59-05:00"}), encoding="utf-8"
    )

    summary, stderr = replay_json(tree, sqlite_url)
    assert_accounted(summary, tree)
    assert summary["counts"]["dropped"] == len(BAD_SIDECAR_URLS) + 1
    assert summary["counts"]["new"] == 1  # the last page of the folder is still read
    reasons = {Path(p["url"]).name: p["reason"] for p in summary["problems"]}
    assert "http(s) web address" in reasons["00_page.txt"]
    assert "10,020 characters long" in reasons["04_page.txt"]
    assert "outside the calendar" in reasons["50_calendar_edge.txt"]
    assert "start_error" not in stderr


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_replay_reads_only_regular_files_inside_the_folder(tmp_path: Path, sqlite_url: str) -> None:
    tree = _rfi_tree(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("首页\n\n时间:2025-05-30 17:43:44 作者:x\n\n秘密标题\n\n" + "这是一段不应被读取的秘密文字。" * 20, encoding="utf-8")
    (tree / "rfi" / "link_to_passwd.txt").symlink_to("/etc/passwd")
    (tree / "rfi" / "link_to_secret.txt").symlink_to(secret)
    (tree / "rfi" / "linked_sidecar.txt").write_bytes(b"<p>x</p>")
    (tree / "rfi" / "linked_sidecar.txt.meta.json").symlink_to(secret)
    (tree / "portal").symlink_to(outside, target_is_directory=True)  # a whole outlet folder elsewhere
    os.mkfifo(tree / "rfi" / "a_fifo")

    summary, _ = replay_json(tree, sqlite_url)
    assert_accounted(summary, tree)
    reasons = {Path(p["url"]).name: p["reason"] for p in summary["problems"]}
    assert reasons["link_to_passwd.txt"] == f"not a regular file inside {tree / 'rfi'}"
    assert reasons["link_to_secret.txt"] == f"not a regular file inside {tree / 'rfi'}"
    assert reasons["a_fifo"] == f"not a regular file inside {tree / 'rfi'}"
    assert "not a regular file inside" in reasons["linked_sidecar.txt"]
    assert reasons["portal"] == f"not a regular folder inside {tree}"
    export = newswatch("items", "export", "--db", sqlite_url).stdout
    assert "root:" not in export and "秘密" not in export
    assert summary["counts"]["new"] == 1


def test_portal_parser_refuses_arbitrary_plain_text(tmp_path: Path, sqlite_url: str) -> None:
    tree = tmp_path / "replay"
    (tree / "portal").mkdir(parents=True)
    (tree / "portal" / "passwd.txt").write_text(
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", encoding="utf-8"
    )
    (tree / "portal" / "notes.txt").write_text("Some notes about a meeting.\nSecond line of notes.\n", encoding="utf-8")
    shutil.copy(FIXTURES / "portal" / "001_004c24d0aad6edaa.txt", tree / "portal" / "seed.txt")
    summary, _ = replay_json(tree, sqlite_url)
    assert_accounted(summary, tree)
    assert summary["counts"]["new"] == 1 and summary["counts"]["dropped"] == 2
    assert all("plain text" in p["reason"] for p in summary["problems"])


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path, sqlite_url: str) -> None:
    tree = _rfi_tree(tmp_path)
    big = tree / "rfi" / "big.html"
    with big.open("wb") as handle:  # sparse: 64 MiB on the size, nothing on the disk
        handle.truncate(64 * 1024 * 1024)
    result = newswatch("replay", str(tree), "--db", sqlite_url, "--json", env={"NEWSWATCH_MAX_PAGE_BYTES": "1000000"})
    summary = json.loads(result.stdout)
    assert_accounted(summary, tree)
    reasons = {Path(p["url"]).name: p["reason"] for p in summary["problems"]}
    assert reasons["big.html"] == "page too large: 67,108,864 bytes (limit 1,000,000)"
    assert summary["counts"]["dropped"] == 1 and summary["counts"]["new"] == 1


def test_file_names_that_are_not_utf8_are_replayed_or_listed(tmp_path: Path, sqlite_url: str) -> None:
    """A name with a byte that is not UTF-8 (Python holds it as a lone surrogate) is no reason to lose a page."""
    tree = tmp_path / "replay"
    (tree / "rfi").mkdir(parents=True)
    folder = os.fsencode(tree / "rfi")
    seed = (FIXTURES / "rfi" / "003_1e4486f85b861131.txt").read_bytes()
    Path(os.fsdecode(folder + b"/good\xff.txt")).write_bytes(seed)
    Path(os.fsdecode(folder + b"/empty\xfe.txt")).write_bytes(b"")
    (tree / "wr\udcfdong").mkdir()  # an outlet folder no spider has, named with such a byte
    (tree / "wr\udcfdong" / "page.txt").write_bytes(seed)  # listed once, with its folder

    summary, stderr = replay_json(tree, sqlite_url)
    assert_accounted(summary, tree)
    assert "could not record" not in stderr
    # good\xff.txt is stored (under the canonical URL it declares), the other two are listed.
    assert summary["counts"]["new"] == 1 and summary["counts"]["dropped"] == 2, summary
    reasons = {p["url"].rsplit("/", 1)[1]: p["reason"] for p in summary["problems"]}
    assert reasons["empty%FE.txt"] == "empty file"
    assert reasons["wr\\udcfdong"].startswith("folder 'wr\\udcfdong' names no spider")
