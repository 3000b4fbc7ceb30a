"""Job triggers: every N seconds, or a crontab line (in UTC, with crontab's day-of-week numbers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.crontab import crontab_trigger
from crawler.outlets import format_duration


def cron_trigger(expression: str, *, jitter_s: int = 0) -> CronTrigger:
    """A five-field crontab line, in UTC, with crontab's day-of-week numbering."""
    trigger = crontab_trigger(expression)
    trigger.jitter = jitter_s or None
    return trigger


def never_fires(trigger: BaseTrigger) -> bool:
    """True for a trigger with no next fire time: a job "paused" by that was not paused by anyone."""
    try:
        return trigger.get_next_fire_time(None, datetime.now(UTC)) is None
    except (OverflowError, ValueError):
        return True


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
