"""Job triggers: every N seconds, or a crontab line (in UTC, with crontab's day-of-week numbers)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.outlets import format_duration

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_day_of_week(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) in day names.

    APScheduler 3 reads day numbers with 0 = Monday (its docs call this a historical
    mistake, apscheduler #286): ``1-5`` would mean Tuesday to Saturday.  Names mean the
    same to both, so numbers are translated to names.
    """
    if not any(ch.isdigit() for ch in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if step_text and not step_text.isdigit():
            raise ValueError(f"day of week {field!r}: bad step {step_text!r}")
        step = int(step_text) if step_text else 1

        def day(token: str) -> int:
            if token.isdigit() and int(token) <= 7:
                return int(token)
            if token.lower() in _DAYS:
                return _DAYS.index(token.lower())
            raise ValueError(f"day of week {field!r}: {token!r} is not 0-7 or a day name")

        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            low, high = (day(token) for token in base.split("-", 1))
        else:
            low = day(base)
            high = 6 if step_text else low
        if low > high or step < 1:
            raise ValueError(f"day of week {field!r}: empty range {part!r}")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def cron_trigger(expression: str, *, jitter_s: int = 0) -> CronTrigger:
    """A five-field crontab line, in UTC, with crontab's day-of-week numbering."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(f"{expression!r} is not a five-field crontab line like '*/15 * * * *'")
    parts[4] = _crontab_day_of_week(parts[4])
    trigger = CronTrigger.from_crontab(" ".join(parts), timezone=UTC)
    trigger.jitter = jitter_s or None
    return trigger


def make_trigger(*, every_s: int | None = None, cron: str | None = None, jitter_s: int = 0) -> BaseTrigger:
    if cron:
        return cron_trigger(cron, jitter_s=jitter_s)
    if not every_s or every_s < 1:
        raise ValueError("a schedule needs an interval (every) or a crontab line (cron)")
    return IntervalTrigger(seconds=every_s, timezone=UTC, jitter=jitter_s or None)


def describe_trigger(trigger: BaseTrigger) -> str:
    if isinstance(trigger, IntervalTrigger):
        return f"every {format_duration(int(trigger.interval_length))}"
    if isinstance(trigger, CronTrigger):
        by_name = {f.name: str(f) for f in trigger.fields}
        return "cron " + " ".join(by_name[n] for n in ("minute", "hour", "day", "month", "day_of_week"))
    return str(trigger)


def _trigger_key(trigger: BaseTrigger) -> tuple[Any, ...]:
    jitter = getattr(trigger, "jitter", None) or 0
    if isinstance(trigger, IntervalTrigger):
        return ("interval", trigger.interval_length, jitter)
    return (type(trigger).__name__, str(trigger), jitter)
