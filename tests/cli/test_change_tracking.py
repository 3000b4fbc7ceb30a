"""Change tracking and copies, end to end through replay and the CLI (issue: dedup + versions)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.support.cli_helpers import FIXTURES, newswatch, newswatch_json

ECNS = "ecns/002_7f4bb0f97d81d91b.txt"
RFI = "rfi/003_1e4486f85b861131.txt"
OLD_SENTENCE = "He met with Russian President Vladimir Putin and held talks with Shoigu during the visit"
NEW_SENTENCE = "He met with President Vladimir Putin in the Kremlin and held talks with Shoigu during the visit"


@pytest.fixture(scope="module")
def replayed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled fixtures replayed once into a fresh database, through the CLI; each test
    gets its own copy (``replayed``), so the tests stay independent."""
    path = tmp_path_factory.mktemp("replayed") / "newswatch.db"
    result = newswatch("replay", str(FIXTURES), "--db", f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def replayed(replayed_file: Path, tmp_path: Path) -> str:
    target = tmp_path / "newswatch.db"
    # The backup API copies a consistent database, whatever is still in a WAL file.
    with closing(sqlite3.connect(replayed_file)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


def _copy_fixtures(root: Path) -> Path:
    tree = root / "edited"
    shutil.copytree(FIXTURES, tree, ignore=shutil.ignore_patterns("*.expected.json"))
    return tree


def _by_outlet(db: str) -> dict[str, dict]:
    lines = newswatch("items", "export", "--db", db).stdout.splitlines()
    return {record["outlet"]: record for record in map(json.loads, lines)}


def test_one_changed_sentence_and_one_edited_title_make_exactly_two_versions(tmp_path: Path, replayed: str) -> None:
    tree = _copy_fixtures(tmp_path)
    ecns = tree / ECNS
    text = ecns.read_text(encoding="utf-8")
    assert OLD_SENTENCE in text
    ecns.write_text(text.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    rfi = tree / RFI
    rfi.write_text(rfi.read_text(encoding="utf-8").replace("[张又侠今见普京]", "[张又侠今日在莫斯科会见普京]"), encoding="utf-8")

    summary = newswatch_json("replay", str(tree), "--db", replayed)
    assert summary["counts"] == {"new": 0, "changed": 2, "unchanged": 3, "duplicate": 0, "dropped": 0, "error": 0}

    records = _by_outlet(replayed)
    assert {o: r["version_count"] for o, r in records.items()} == {
        "wechat": 1, "portal": 1, "ecns": 2, "rfi": 2, "bbc": 1,
    }
    ecns_id, rfi_id = str(records["ecns"]["id"]), str(records["rfi"]["id"])

    history = newswatch_json("items", "history", ecns_id, "--db", replayed)
    assert [h["version"] for h in history] == [1, 2]
    assert "title" not in history[1]["change"] and "body +" in history[1]["change"]
    rfi_history = newswatch_json("items", "history", rfi_id, "--db", replayed)
    assert rfi_history[1]["change"] == "title changed"

    diff = newswatch("items", "diff", ecns_id, "--db", replayed)
    assert diff.returncode == 0, diff.stderr
    removed = [l for l in diff.stdout.splitlines() if l.startswith("- ")]
    added = [l for l in diff.stdout.splitlines() if l.startswith("+ ")]
    assert len(removed) == 1 and OLD_SENTENCE in removed[0]
    assert len(added) == 1 and NEW_SENTENCE in added[0]
    title_diff = newswatch("items", "diff", rfi_id, "1", "2", "--db", replayed).stdout
    assert "- title: 张又侠今见普京" in title_diff and "+ title: 张又侠今日在莫斯科会见普京" in title_diff

    # The earlier text is still there, version by version.
    assert newswatch("items", "diff", ecns_id, "1", "9", "--db", replayed).returncode == 1


def test_whitespace_only_edit_is_not_a_new_version(tmp_path: Path, replayed: str) -> None:
    tree = _copy_fixtures(tmp_path)
    portal = tree / "portal" / "001_004c24d0aad6edaa.txt"
    portal.write_text(portal.read_text(encoding="utf-8").replace("  ", "    ").replace(",", ", "), encoding="utf-8")
    summary = newswatch_json("replay", str(tree), "--db", replayed)
    assert summary["counts"]["unchanged"] == 5 and summary["counts"]["changed"] == 0


PORTAL_COPY = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}_军事频道_某某新闻网</title></head>
<body>
<div class="nav"><a href="/">首页</a> <a href="/mil/">军事</a> <a href="/world/">国际</a> <a href="/app">客户端下载</a></div>
<div class="main">
<h1>{title}</h1>
<div class="info">时间:2022-12-31 09:12:00 来源:网络 作者:编辑部 浏览量:12345</div>
<div class="content">{paragraphs}</div>
<div class="related"><h3>相关文章</h3><ul>
<li><a href="/a/1.html">麦迪观战中国女篮</a></li>
<li><a href="/a/2.html">全国田径大奖赛肇庆鸣枪 广东军团首日获两银一铜</a></li>
<li><a href="/a/3.html">辽宁省残联启动灾后重建项目助残疾人家庭提高生活质量</a></li>
</ul></div>
</div>
<div class="footer">Copyright © 2022 某某新闻网 版权所有 京ICP备00000000号</div>
</body></html>
"""


def test_a_portal_copy_of_the_bbc_article_is_a_duplicate_of_the_bbc_record(tmp_path: Path, replayed: str) -> None:
    bbc = _by_outlet(replayed)["bbc"]
    paragraphs = "".join(f"<p>{line}</p>" for line in bbc["body"].splitlines())
    copy_tree = tmp_path / "copies"
    (copy_tree / "portal").mkdir(parents=True)
    page = copy_tree / "portal" / "bbc_copy.html"
    page.write_text(PORTAL_COPY.format(title="普京邀习近平国事访问 寻求深化军事合作", paragraphs=paragraphs), encoding="utf-8")
    page.with_name(page.name + ".meta.json").write_text(
        json.dumps({"url": "https://mil.example-mirror.cn/2022/1231/bbc-copy.html", "fetched_at": "2022-12-31T02:00:00+00:00"})
    )
    summary = newswatch_json("replay", str(copy_tree), "--db", replayed)
    assert summary["counts"]["duplicate"] == 1, summary
    records = [json.loads(l) for l in newswatch("items", "export", "--db", replayed).stdout.splitlines()]
    copy = next(r for r in records if r["url"].startswith("https://mil.example-mirror.cn/"))
    assert copy["duplicate_of"] == bbc["id"] and copy["similarity"] >= 0.9
    assert bbc["duplicate_of"] is None
