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
