"""Publication dates as the page states them, in ISO 8601; never a guess.

htmldate turns a Chinese date line such as ``2024年5月1日`` into ``2024-01-01``
(its patterns only know ``-/.`` separators), so these patterns are ours.  A date
alone stays a date (``YYYY-MM-DD``); a stated time gets the outlet's zone
(Asia/Shanghai for Chinese outlets unless the page says otherwise).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
PARIS = ZoneInfo("Europe/Paris")
LONDON = ZoneInfo("Europe/London")

# Plausible publication years: anything else is an id, a price or a phone number.
_MIN_YEAR, _MAX_YEAR = 1995, 2100

_TIME = r"(?:\s*(?:T|\s)\s*(?P<hour>\d{1,2})[:：](?P<minute>\d{2})(?:[:：](?P<second>\d{2}))?)?"
_ZONE = r"(?P<zone>Z|[+-]\d{2}:?\d{2})?"

_CJK_DATE = re.compile(
    r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日"
    r"(?:\s*(?P<half>[上中下]午|凌晨|早上|晚上)?\s*(?P<hour>\d{1,2})[:：时](?P<minute>\d{2})(?:[:：分](?P<second>\d{2}))?)?"
)
_NUMERIC_DATE = re.compile(
    r"(?<!\d)(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)"
    + _TIME
    + r"(?:\.\d+)?"
    + _ZONE
)
# RFI prints day first: "08/11/2023 - 15:23".
_DAY_FIRST = re.compile(
    r"(?<!\d)(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})"
    r"(?:\s*-?\s*(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
)


def _zone_from_text(text: str) -> tzinfo:
    if text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


# Which half of the day a 12-hour clock reading is in: 下午12:30 is half past noon,
# 上午12:30 and 凌晨12:30 half past midnight, 中午1:10 ten past one in the afternoon.
_AFTER_NOON = ("下午", "晚上", "pm")
_BEFORE_NOON = ("上午", "凌晨", "早上", "am")


def _clock_hour(hour: int, half: str | None) -> int:
    if half in _AFTER_NOON and hour < 12:
        return hour + 12
    if half in _BEFORE_NOON and hour == 12:
        return 0
    if half == "中午" and hour < 11:
        return hour + 12
    return hour


def _build(
    groups: dict[str, str | None], zone: tzinfo | None, *, allow_date_only: bool = True
) -> str | None:
    try:
        day = date(int(groups["year"] or 0), int(groups["month"] or 0), int(groups["day"] or 0))
    except ValueError:
        return None
    if not _MIN_YEAR <= day.year <= _MAX_YEAR:
        return None
    if groups.get("hour") is None:
        return day.isoformat() if allow_date_only else None
    hour = _clock_hour(int(groups["hour"] or 0), groups.get("half"))
    try:
        moment = datetime(
            day.year,
            day.month,
            day.day,
            hour,
            int(groups["minute"] or 0),
            int(groups.get("second") or 0),
            tzinfo=zone or SHANGHAI,
        )
    except ValueError:
        return None
    return moment.isoformat(timespec="seconds")


def parse_iso(value: str | None, default_zone: tzinfo = SHANGHAI) -> str | None:
    """A machine date from a ``<meta>`` or JSON-LD (``2020-02-29T18:34:31+08:00``)."""
    if not value:
        return None
    match = _NUMERIC_DATE.search(value.strip())
    if match is None:
        return None
    groups = match.groupdict()
    zone = _zone_from_text(groups["zone"]) if groups.get("zone") else default_zone
    return _build(groups, zone)


def parse_chinese(text: str | None, zone: tzinfo = SHANGHAI) -> str | None:
    """The first date in a human date line: ``2024年05月01日 08:30`` or ``2025-05-30 17:43:44``."""
    if not text:
        return None
    candidates = [m for m in (_CJK_DATE.search(text), _NUMERIC_DATE.search(text)) if m]
    if not candidates:
        return None
    match = min(candidates, key=lambda m: m.start())
    groups = match.groupdict()
    stated_zone = groups.get("zone")
    return _build(groups, _zone_from_text(stated_zone) if stated_zone else zone)


_MONTHS = {
    name: number
    for number, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for name in names
}  # fmt: skip
# "11:35, November 23, 2022", "Jan. 15, 2023", "May 13, 2024 07:35", "Nov 23, 2022 11:35 PM".
_HALF_DAY = r"(?:\s*(?P<{}>[AaPp]\.?[Mm]\.?)(?![A-Za-z]))?"
_ENGLISH_DATE = re.compile(
    r"(?:(?P<hour>\d{1,2}):(?P<minute>\d{2})" + _HALF_DAY.format("half") + r",?\s+)?"
    r"(?P<month_name>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),\s*(?P<year>\d{4})"
    r"(?:\s+(?P<hour2>\d{1,2}):(?P<minute2>\d{2})" + _HALF_DAY.format("half2") + ")?"
)


def parse_english(text: str | None, zone: tzinfo = SHANGHAI) -> str | None:
    """An English date line ("11:35, November 23, 2022"), in the outlet's zone."""
    if not text:
        return None
    for match in _ENGLISH_DATE.finditer(text):
        month = _MONTHS.get(match["month_name"].lower())
        if month is None:
            continue
        groups: dict[str, str | None] = {
            "year": match["year"], "month": str(month), "day": match["day"],
            "hour": match["hour"] or match["hour2"], "minute": match["minute"] or match["minute2"],
            "half": (match["half"] or match["half2"] or "").replace(".", "").lower() or None,
        }  # fmt: skip
        return _build(groups, zone)
    return None


def parse_day_first(text: str | None, zone: tzinfo) -> str | None:
    """``08/11/2023 - 15:23`` (day/month/year), in the outlet's zone."""
    if not text:
        return None
    match = _DAY_FIRST.search(text)
    return _build(match.groupdict(), zone) if match else None


def from_epoch(seconds: str | int | float | None, zone: tzinfo = SHANGHAI) -> str | None:
    """WeChat's ``ct`` / ``create_time``: epoch seconds, shown in the account's zone."""
    if seconds in (None, ""):
        return None
    try:
        value = float(seconds)
    except ValueError:
        return None
    if value > 1e11:  # milliseconds
        value /= 1000
    try:
        moment = datetime.fromtimestamp(value, tz=zone)
    except (OverflowError, OSError, ValueError):  # inf, nan, or beyond any calendar
        return None
    if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
        return None
    return moment.replace(microsecond=0).isoformat(timespec="seconds")


#: Before this a news page's date is a misread (an id, a founding year), never a publication.
EARLIEST_NEWS = date(1990, 1, 1)
#: Slack for a publisher's clock and zone mistakes before a date counts as in the future.
_FUTURE_SLACK = timedelta(days=1)


def plausible(value: str | None, fetched_at: datetime) -> tuple[str | None, str | None]:
    """``(value, None)`` for a believable date, ``(None, reason)`` for one in the future or before 1990."""
    if not value:
        return None, None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, f"{value!r} is not an ISO 8601 date"
    if moment.tzinfo is None:  # a date alone: compare days
        if moment.date() < EARLIEST_NEWS:
            return None, f"{value} is before {EARLIEST_NEWS.year}"
        if moment.date() > (fetched_at + _FUTURE_SLACK).date():
            return None, f"{value} is after the fetch time {utc_iso(fetched_at)}"
        return value, None
    if moment.date() < EARLIEST_NEWS:
        return None, f"{value} is before {EARLIEST_NEWS.year}"
    if moment > fetched_at + _FUTURE_SLACK:
        return None, f"{value} is after the fetch time {utc_iso(fetched_at)}"
    return value, None


def utc_iso(moment: datetime) -> str:
    """Fetch and archive times: UTC, second precision, ``Z`` suffix."""
    if moment.tzinfo is None:
        raise ValueError("fetch times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
