"""Version classification (storage.changes) and the revisit ladder (storage.lifecycle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.changes import classify, is_cosmetic
from storage.lifecycle import REVISIT_LADDER, last_revisit_point

BODY = "国防部称，普京在会见时表示，两军合作发展势头良好。\n责任编辑：王伟"


@pytest.mark.parametrize(
    ("new_title", "new_date", "new_body", "kinds"),
    [
        ("普京会见张又侠", "2024-11-08", BODY, ["cosmetic"]),  # identical text
        ("普京会见张又侠 ", "2024-11-08", BODY.replace("，", ",").replace("。", "."), ["cosmetic"]),
        ("普京会见张又侠", "2024-11-08", BODY.replace("王伟", "李明"), ["cosmetic"]),  # furniture line
        ("ＰＵＴＩＮ会见张又侠", "2024-11-08", BODY, ["title"]),
        ("普京会见张又侠", "2024-11-09", BODY, ["date"]),
        ("普京会见张又侠", "2024-11-08", BODY.replace("良好", "不佳"), ["body"]),
        ("普京再次会见张又侠", None, BODY + "\n双方还讨论了演习。", ["title", "date", "body"]),
    ],
)
def test_classify(new_title: str, new_date: str | None, new_body: str, kinds: list[str]) -> None:
    assert classify("普京会见张又侠", new_title, "2024-11-08", new_date, BODY, new_body) == kinds


def test_full_width_letters_are_cosmetic_but_changed_letters_are_not() -> None:
    assert classify("Putin ＦＣ", "putin fc", None, None, "x", "x") == ["cosmetic"]
    assert is_cosmetic(["cosmetic"]) and not is_cosmetic(["body"]) and not is_cosmetic(None)


@pytest.mark.parametrize(
    ("old_body", "new_body", "kinds"),
    [
        # A paragraph re-flowed: line breaks moved, the words the same.
        ("两军合作发展势头良好，\n双方同意加强交流。", "两军合作发展势头良好，双方同意加强交流。", ["cosmetic"]),
        ("The talks went well\nand will continue.", "The talks went well and will continue.", ["cosmetic"]),
        # Typesetting spaces between CJK characters (and thin/no-break spaces) come and go.
        ("北京时间 11月8日", "北京 时间\u300011月8日", ["cosmetic"]),
        ("Prix : 12\u00a0€", "Prix: 12 €", ["cosmetic"]),
        # An empty body and a blank one are the same nothing.
        ("", "\n\n", ["cosmetic"]),
        # Furniture is a short whole line: 60 characters is still one, 61 is a sentence.
        (BODY, BODY + "\n来源：" + "新" * 57, ["cosmetic"]),
        (BODY, BODY + "\n来源：" + "新" * 58, ["body"]),
        # Leading spaces do not count towards the length (the line is stripped first).
        (BODY, BODY + "\n    来源：" + "新" * 57, ["cosmetic"]),
    ],
)
def test_body_changes(old_body: str, new_body: str, kinds: list[str]) -> None:
    assert classify("t", "t", None, None, old_body, new_body) == kinds


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("责任编辑：王伟", True),
        ("【责任编辑：王伟】", True),
        ("（来源：新华社）", True),
        ("记者 张三 王五", True),
        ("原标题：普京会见张又侠", True),
        ("扫一扫，分享到微信", True),
        ("返回搜狐，查看更多", True),
        ("Source: Reuters", True),
        ("Share | Tweet", True),
        ("Advertisement", True),
        # Short sentences of the story that begin with a furniture word: an edit that adds
        # one is news, not furniture.
        ("记者从国防部获悉，演习将推迟。", False),
        ("编辑部表示将撤回该报道。", False),
        ("点击量超过一亿次。", False),
        ("Sources say the minister will resign.", False),
        ("Editorial board calls for an inquiry.", False),
        ("Share prices fell 5% on Monday.", False),
    ],
)
def test_an_added_line_is_furniture_or_news(line: str, furniture: bool) -> None:
    assert classify("t", "t", None, None, BODY, BODY + "\n" + line) == (["cosmetic"] if furniture else ["body"])


def test_an_empty_title_and_a_blank_one_are_the_same() -> None:
    assert classify("", " ", None, None, "x", "x") == ["cosmetic"]
    assert classify("", "－", None, None, "x", "x") == ["cosmetic"]
    assert classify("", "Putin", None, None, "x", "x") == ["title"]


def test_revisit_ladder_slows_with_age() -> None:
    first = datetime(2026, 11, 1, tzinfo=UTC)
    assert last_revisit_point(first, first + timedelta(minutes=5)) is None
    assert last_revisit_point(first, first + timedelta(minutes=15)) == first + timedelta(minutes=10)
    assert last_revisit_point(first, first + timedelta(hours=3)) == first + timedelta(hours=2)
    assert last_revisit_point(first, first + timedelta(days=3, hours=1)) == first + timedelta(days=3)
    assert REVISIT_LADDER[:5] == (
        timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6), timedelta(hours=24)
    )
    assert REVISIT_LADDER[-1] == timedelta(days=30)
