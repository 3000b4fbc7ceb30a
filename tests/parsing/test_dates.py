"""Edge-case tables for crawler/parsing/dates.py, each row a form real pages print.

The rows are what a reviewer's deliberate bugs broke silently (issue 16): the half of
the day around 12 o'clock, half-hour and negative offsets, epoch seconds against
milliseconds, the first date on a line, English dates with times, implausible years.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.parsing.dates import (
    LONDON,
    PARIS,
    SHANGHAI,
    from_epoch,
    parse_chinese,
    parse_day_first,
    parse_english,
    parse_iso,
    utc_iso,
)

# -- Chinese date lines: 上午/下午/中午/凌晨/晚上 and 12 o'clock ---------------------

CHINESE_LINES = [
    # (date line as printed, expected ISO 8601 in Asia/Shanghai)
    ("2024年5月1日 下午12:30", "2024-05-01T12:30:00+08:00"),  # 12:30 pm is half past noon
    ("2024年5月1日 下午1:05", "2024-05-01T13:05:00+08:00"),
    ("2024年5月1日下午11:59", "2024-05-01T23:59:00+08:00"),
    ("2024年5月1日 上午12:30", "2024-05-01T00:30:00+08:00"),  # 12:30 am is half past midnight
    ("2024年5月1日 上午9:15", "2024-05-01T09:15:00+08:00"),
    ("2024年5月1日 上午11:00", "2024-05-01T11:00:00+08:00"),
    ("2024年5月1日 中午12:10", "2024-05-01T12:10:00+08:00"),
    ("2024年5月1日 中午1:10", "2024-05-01T13:10:00+08:00"),  # 中午1点 is 13:00
    ("2024年5月1日 中午11:40", "2024-05-01T11:40:00+08:00"),
    ("2024年5月1日 凌晨12:20", "2024-05-01T00:20:00+08:00"),
    ("2024年5月1日 凌晨3:20", "2024-05-01T03:20:00+08:00"),
    ("2024年5月1日 晚上8:00", "2024-05-01T20:00:00+08:00"),
    ("2024年5月1日 早上7:45", "2024-05-01T07:45:00+08:00"),
    # 24-hour clock, seconds, full-width colon, 时/分 separators
    ("2024年05月01日 08:30", "2024-05-01T08:30:00+08:00"),
    ("2024年05月01日 00:00", "2024-05-01T00:00:00+08:00"),
    ("2024年05月01日 23:59:58", "2024-05-01T23:59:58+08:00"),
    ("2024年5月1日 08：30", "2024-05-01T08:30:00+08:00"),
    ("2024年5月1日 8时30分", "2024-05-01T08:30:00+08:00"),
    ("2024 年 5 月 1 日", "2024-05-01"),  # a date alone stays a date
    ("2025-05-30 17:43:44", "2025-05-30T17:43:44+08:00"),
    ("2025/5/30 17:43", "2025-05-30T17:43:00+08:00"),
    ("2025.05.30", "2025-05-30"),
    # impossible clock times and days: nothing, not a guess
    ("2024年5月1日 25:10", None),  # a clock that does not exist: no guess
    ("2024年2月30日", None),
    ("2023年2月29日", None),
    ("2024年2月29日", "2024-02-29"),
    ("2024年13月1日", None),
]


@pytest.mark.parametrize(("line", "expected"), CHINESE_LINES)
def test_chinese_date_lines(line: str, expected: str | None) -> None:
    assert parse_chinese(line) == expected


def test_the_first_date_on_a_line_wins() -> None:
    # Publication first, then an edit time: the first is the article's date.
    assert parse_chinese("发布时间：2024年5月1日 09:00 更新时间：2024年5月3日 10:00") == (
        "2024-05-01T09:00:00+08:00"
    )
    # A numeric date before a CJK one, and the other way round.
    assert parse_chinese("2024-05-02 10:00 来源：新华社 2024年5月9日") == "2024-05-02T10:00:00+08:00"
    assert parse_chinese("2024年5月9日 来源 2024-05-02 10:00") == "2024-05-09"
    assert parse_chinese("2024-05-02 原文 2024-06-07 12:00") == "2024-05-02"
    assert parse_english("Published May 1, 2024. Updated June 7, 2024 10:00") == "2024-05-01"
    assert parse_day_first("08/11/2023 - 15:23 mis à jour le 09/11/2023 - 10:00", PARIS) == (
        "2023-11-08T15:23:00+01:00"
    )
    assert parse_iso("2024-05-01T10:00:00Z / 2024-06-01T10:00:00Z") == "2024-05-01T10:00:00+00:00"


def test_a_line_without_a_date() -> None:
    for parse in (parse_chinese, parse_english, parse_iso):
        assert parse(None) is None
        assert parse("") is None
        assert parse("来源：新华社 责任编辑：王五") is None
    assert parse_day_first(None, PARIS) is None
    assert parse_day_first("", PARIS) is None
    assert parse_day_first("no date", PARIS) is None


def test_a_stated_zone_beats_the_outlets_zone() -> None:
    assert parse_chinese("2025-05-30 17:43:44+05:30") == "2025-05-30T17:43:44+05:30"
    assert parse_chinese("2025-05-30 17:43:44Z") == "2025-05-30T17:43:44+00:00"
    assert parse_chinese("2025-05-30 17:43", zone=PARIS) == "2025-05-30T17:43:00+02:00"
    assert parse_chinese("2025年1月30日 17:43", zone=LONDON) == "2025-01-30T17:43:00+00:00"


# -- machine dates: offsets, fractions, Z -----------------------------------------

ISO_FORMS = [
    ("2020-02-29T18:34:31+08:00", "2020-02-29T18:34:31+08:00"),
    ("2024-05-01T10:00:00+05:30", "2024-05-01T10:00:00+05:30"),  # India
    ("2024-05-01T10:00:00+0530", "2024-05-01T10:00:00+05:30"),
    ("2024-05-01T10:00:00+05:45", "2024-05-01T10:00:00+05:45"),  # Nepal
    ("2024-05-01T10:00:00-03:30", "2024-05-01T10:00:00-03:30"),  # Newfoundland
    ("2024-05-01T10:00:00-0930", "2024-05-01T10:00:00-09:30"),  # Marquesas
    ("2024-05-01T10:00:00-05:00", "2024-05-01T10:00:00-05:00"),
    ("2024-05-01T10:00:00+00:00", "2024-05-01T10:00:00+00:00"),
    ("2012-05-10T14:29:05.000Z", "2012-05-10T14:29:05+00:00"),
    ("2012-05-10T14:29:05.123456+02:00", "2012-05-10T14:29:05+02:00"),
    ("2012-05-10 14:29", "2012-05-10T14:29:00+08:00"),  # no zone: the outlet's
    ("2012-05-10T14:29:05", "2012-05-10T14:29:05+08:00"),
    ("  2024-04-24  ", "2024-04-24"),
    ("2024-04-24", "2024-04-24"),
    ("2024/04/24", "2024-04-24"),
    ("2024-04/24", None),  # mixed separators are not a date
    ("12024-04-24", None),  # part of a longer number
    ("2024-04-245", None),
    ("soon", None),
]


@pytest.mark.parametrize(("value", "expected"), ISO_FORMS)
def test_machine_dates(value: str, expected: str | None) -> None:
    assert parse_iso(value) == expected


def test_machine_dates_without_a_zone_take_the_given_default() -> None:
    assert parse_iso("2024-01-15T09:00:00", default_zone=PARIS) == "2024-01-15T09:00:00+01:00"
    assert parse_iso("2024-07-15T09:00:00", default_zone=LONDON) == "2024-07-15T09:00:00+01:00"
    assert parse_iso("2024-07-15T09:00:00", default_zone=UTC) == "2024-07-15T09:00:00+00:00"


# -- plausible years ----------------------------------------------------------------

YEARS = [
    ("1970-01-01", None),  # the epoch: a zero timestamp, not a publication date
    ("1970-01-01T00:00:00Z", None),
    ("1994-12-31", None),
    ("1995-01-01", "1995-01-01"),
    ("2100-12-31", "2100-12-31"),
    ("2101-01-01", None),
    ("9999-12-31", None),
    ("0000-01-01", None),
]


@pytest.mark.parametrize(("value", "expected"), YEARS)
def test_implausible_years_are_not_dates(value: str, expected: str | None) -> None:
    assert parse_iso(value) == expected
    cjk = value[:10].replace("-", "年", 1).replace("-", "月", 1) + "日"
    assert parse_chinese(cjk) == expected


# -- epochs (WeChat's ct / create_time) -------------------------------------------

EPOCHS = [
    ("1581517074", "2020-02-12T22:17:54+08:00"),  # seconds
    (1581517074, "2020-02-12T22:17:54+08:00"),
    ("1581517074000", "2020-02-12T22:17:54+08:00"),  # milliseconds
    (1581517074123, "2020-02-12T22:17:54+08:00"),
    ("1581517074.9", "2020-02-12T22:17:54+08:00"),  # fractions are dropped, not rounded
    (99999999999, None),  # read as seconds: year 5138
    (100000000001, None),  # read as milliseconds: 1973
    (1735660800, "2025-01-01T00:00:00+08:00"),
    (788889600, "1995-01-01T00:00:00+08:00"),  # the first plausible second
    (788889599, None),
    (4133951999, "2100-12-31T23:59:59+08:00"),  # the last one
    (4133952000, None),
    ("0", None),  # 1970-01-01 is no publication date
    (0, None),
    ("-1", None),
    ("", None),
    (None, None),
    ("abc", None),
    ("1e30", None),  # far beyond any calendar: nothing, not a crash
    ("inf", None),
    ("nan", None),
    ("-1e30", None),
]


@pytest.mark.parametrize(("value", "expected"), EPOCHS)
def test_epochs(value: str | int | None, expected: str | None) -> None:
    assert from_epoch(value) == expected


def test_epochs_show_in_the_given_zone() -> None:
    assert from_epoch("1581517074", zone=UTC) == "2020-02-12T14:17:54+00:00"
    assert from_epoch("1581517074000", zone=PARIS) == "2020-02-12T15:17:54+01:00"


# -- English date lines (ECNS) -------------------------------------------------------

ENGLISH_LINES = [
    ("11:35, November 23, 2022", "2022-11-23T11:35:00+08:00"),
    ("May 13, 2024 07:35", "2024-05-13T07:35:00+08:00"),  # the time after the date is kept
    ("Updated: May 13, 2024 19:05", "2024-05-13T19:05:00+08:00"),
    ("Jan. 15, 2023", "2023-01-15"),
    ("Sept 3, 2023", "2023-09-03"),
    ("SEPTEMBER 3, 2023", "2023-09-03"),
    ("February 29, 2024", "2024-02-29"),
    ("February 30, 2024", None),
    ("Maybe 13, 2024", None),  # not a month
    ("Vol 3, 2024 and May 1, 2024", "2024-05-01"),  # the first real month name
    ("June 1, 1970", None),
    ("November 23, 2022 11:35 PM", "2022-11-23T23:35:00+08:00"),
    ("November 23, 2022 12:10 AM", "2022-11-23T00:10:00+08:00"),
    ("November 23, 2022 12:10 pm", "2022-11-23T12:10:00+08:00"),
    ("November 23, 2022 11:35 p.m.", "2022-11-23T23:35:00+08:00"),
    ("11:35 P.M., November 23, 2022", "2022-11-23T23:35:00+08:00"),
    ("11:35 am, November 23, 2022", "2022-11-23T11:35:00+08:00"),
]


@pytest.mark.parametrize(("line", "expected"), ENGLISH_LINES)
def test_english_date_lines(line: str, expected: str | None) -> None:
    assert parse_english(line) == expected


def test_english_dates_take_the_outlets_zone() -> None:
    assert parse_english("May 13, 2024 07:35", zone=LONDON) == "2024-05-13T07:35:00+01:00"


# -- RFI: day first ------------------------------------------------------------------

DAY_FIRST = [
    ("08/11/2023 - 15:23", "2023-11-08T15:23:00+01:00"),  # winter: CET
    ("08/07/2023 - 15:23", "2023-07-08T15:23:00+02:00"),  # summer: CEST
    ("8/7/2023 15:23", "2023-07-08T15:23:00+02:00"),
    ("08/11/2023", "2023-11-08"),
    ("31/12/2023 - 23:59", "2023-12-31T23:59:00+01:00"),
    ("12/31/2023", None),  # month first is not what RFI prints
    ("108/11/2023", None),
]


@pytest.mark.parametrize(("line", "expected"), DAY_FIRST)
def test_day_first_lines(line: str, expected: str | None) -> None:
    assert parse_day_first(line, PARIS) == expected


# -- fetch times -------------------------------------------------------------------

def test_fetch_times_are_utc_with_z(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever the machine's own zone is.
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    moment = datetime(2024, 5, 1, 10, 0, 5, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert utc_iso(moment) == "2024-05-01T04:30:05Z"
    assert utc_iso(datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)) == "2024-05-01T02:00:00Z"
    with pytest.raises(ValueError, match=r"^fetch times must be timezone-aware$"):
        utc_iso(datetime(2024, 5, 1, 10, 0))
    monkeypatch.undo()
    time.tzset()
