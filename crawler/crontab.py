"""Crontab lines as users write them: five fields, in UTC, with crontab's day-of-week numbers.

One reading for the outlets config (checked when it is loaded) and for the scheduler
(which builds the job's trigger), so a line the one accepts the other runs the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_trigger(expression: str) -> CronTrigger:
    """The trigger of a five-field crontab line, or ``ValueError`` saying what is wrong."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(f"{expression!r} is not a five-field crontab line like '*/15 * * * *'")
    parts[4] = _crontab_day_of_week(parts[4])
    trigger = CronTrigger.from_crontab(" ".join(parts), timezone=UTC)
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        # APScheduler would store it and pause the job silently: refuse it instead.
        raise ValueError(f"{expression!r} never fires (no such date, e.g. 31 February)")
    return trigger


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
