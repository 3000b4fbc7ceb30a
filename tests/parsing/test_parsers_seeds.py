"""The five seed fixtures give exactly their reviewed golden records, every time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.parsing import parse
from tests.support.parser_cases import FIXTURES, seed_files, seed_golden_path, seed_page, seed_record

SEEDS = {path.name: path for path in seed_files()}

# The table of the brief, literally: (fixture, title, published_at, url, body start, body end).
REQUIRED = [
    (
        "wechat/000_96ca5124db9825cd.txt",
        "国防部：中方将与俄方进一步加强战略协作",
        None,
        "fixture:wechat/000_96ca5124db9825cd.txt",
        "1月29日下午，国防部举行例行记者会",
        "为全球安全稳定不断注入正能量。",
    ),
    (
        "portal/001_004c24d0aad6edaa.txt",
        "解局:中俄两军高层十天内会谈两次,释放了什么信号?",
        "2025-05-30T17:43:44+08:00",
        "fixture:portal/001_004c24d0aad6edaa.txt",
        "据中国国防部官方公众号9日发布的消息",
        "维护地区乃至世界的和平与稳定。”",
    ),
    (
        "ecns/002_7f4bb0f97d81d91b.txt",
        "China-Russia mutual trust improving",
        "2023-04-20T08:36:29+08:00",
        "fixture:ecns/002_7f4bb0f97d81d91b.txt",
        "The fruitful visit to Russia of State Councilor",
        'a shared future for mankind," said Tan.',
    ),
    (
        "rfi/003_1e4486f85b861131.txt",
        "张又侠今见普京",
        "2023-11-08T15:23:00+01:00",
        "https://www.rfi.fr/cn/中国/20231108-张又侠今见普京",
        "俄罗斯总统普京今天在莫斯科会见",
        "正处于“最高水平”。",
    ),
    (
        "bbc/004_8bde58f1e7eb70df.txt",
        # The source headline has U+3000 before 寻求, kept as the publisher's separator.
        "中俄元首视频对话：普京邀习近平国事访问\u3000寻求“深化军事合作”",
        "2022-12-30",
        "https://www.bbc.com/zhongwen/simp/world-64125881",
        "俄罗斯总统普京于莫斯科时间周五（30日）中午",
        "军事姿态做出回应。",
    ),
]

FURNITURE = {
    "wechat": ["max-width", "![", "](", "javascript:", "mmbiz.qpic.cn", "在小说阅读器中沉浸阅读",
               "— END —", "来源：央视新闻", "责编：", "校对：", "黄金、白银", "002131", "300391"],
    "portal": ["相关文章", "相关资讯", "麦迪观战中国女篮", "浏览量", "36876", "图源:新华社",
               "首页", "惠奈", "展开全文", "热门资讯", "女王论坛", "作者:",
               "中方:坚决反对美方恶意封锁打压"],
    "ecns": ["主站蜘蛛池模板", "毛片", "Copyright", "Text:AAAPrint", "MorePhoto", "Back to top",
             "About Us", "ICP", "Most popular", "ECNS App Download", "Editor :", "LINE"],
    "rfi": ["分享 :", "分享", "facebook", "whatsapp", "08/11/2023 - 15:23"],
    "bbc": ["你的器材不支持播放多媒体材料", "视频：90秒看泽连斯基访白宫", "图像来源",
            "Getty Images", "泽连斯基闪电式访美", "乌克兰永远不会投降", "23 分钟前", "广告"],
}  # fmt: skip


def _golden(path: Path) -> dict[str, Any]:
    return json.loads(seed_golden_path(path).read_text(encoding="utf-8"))


def test_every_seed_has_a_golden() -> None:
    assert sorted(SEEDS) == sorted(Path(row[0]).name for row in REQUIRED)
    for path in SEEDS.values():
        assert seed_golden_path(path).exists(), (
            f"run tools/bless_goldens.py --seeds for {path.name}"
        )


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_matches_golden_field_by_field(name: str) -> None:
    path = SEEDS[name]
    record, golden = seed_record(path), _golden(path)
    assert sorted(record) == sorted(golden), "the golden and the Article have different fields"
    for field, expected in golden.items():
        assert record[field] == expected, f"{name}: field {field!r} differs from the golden"


@pytest.mark.parametrize(("fixture", "title", "published", "url", "start", "end"), REQUIRED)
def test_seed_table(
    fixture: str, title: str, published: str | None, url: str, start: str, end: str
) -> None:
    record = seed_record(FIXTURES / fixture)
    assert record["title"] == title
    assert record["published_at"] == published
    assert record["url"] == url
    assert record["body"].startswith(start), record["body"][:80]
    assert record["body"].endswith(end), record["body"][-80:]


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_body_has_no_furniture(name: str) -> None:
    path = SEEDS[name]
    body = seed_record(path)["body"]
    for junk in FURNITURE[path.parent.name]:
        assert junk not in body, f"{name}: furniture {junk!r} left in the body"


def test_seed_metadata_lands_in_extra() -> None:
    assert seed_record(SEEDS["000_96ca5124db9825cd.txt"])["extra"] == {
        "account": "e公司", "source": "央视新闻", "editor": "彭勃", "proofreader": "刘榕枝",
    }  # fmt: skip
    ecns = seed_record(SEEDS["002_7f4bb0f97d81d91b.txt"])["extra"]
    assert (ecns["editor"], ecns["source"]) == ("Li Yan", "chinadaily.com.cn")
    portal = seed_record(SEEDS["001_004c24d0aad6edaa.txt"])
    assert portal["author"] is None
    assert portal["extra"]["byline_raw"] == "中方:坚决反对美方恶意封锁打压"


def test_archive_header_sets_fetch_time_and_url() -> None:
    rfi = seed_record(SEEDS["003_1e4486f85b861131.txt"])
    assert rfi["fetched_at"] == "2023-11-08T15:45:01Z"  # <!--1699458301000-->
    bbc = seed_record(SEEDS["004_8bde58f1e7eb70df.txt"])
    assert bbc["fetched_at"] == "2022-12-30T11:13:02Z"
    assert seed_record(SEEDS["000_96ca5124db9825cd.txt"])["fetched_at"] == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_parsing_is_deterministic(name: str) -> None:
    path = SEEDS[name]
    records = [parse(seed_page(path), path.parent.name) for _ in range(5)]
    assert all(record == records[0] for record in records)
