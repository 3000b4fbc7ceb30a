"""The scheduler's settings: :class:`Options`, from the NEWSWATCH_* settings and CLI overrides."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Options:
    misfire_grace_s: int
    shutdown_grace_s: float
    kill_wait_s: float
    poll_s: float
    lease_s: float
    workers: int
    #: Seconds between two sends of the watches' due deliveries (newswatch/scheduling/deliveries.py).
    deliver_every_s: float

    @classmethod
    def from_settings(cls, **overrides: Any) -> Options:
        """The NEWSWATCH_* scheduling settings, with the non-None ``overrides`` applied."""
        from crawler import settings

        values: dict[str, Any] = {
            "misfire_grace_s": settings.NEWSWATCH_MISFIRE_GRACE_S,
            "shutdown_grace_s": settings.NEWSWATCH_SHUTDOWN_GRACE_S,
            "kill_wait_s": settings.NEWSWATCH_KILL_WAIT_S,
            "poll_s": settings.NEWSWATCH_SCHEDULER_POLL_S,
            "lease_s": settings.NEWSWATCH_LOCK_LEASE_S,
            "workers": settings.NEWSWATCH_SCHEDULER_WORKERS,
            "deliver_every_s": settings.NEWSWATCH_DELIVER_EVERY_S,
        }
        known = {f.name for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if k in known and v is not None})
        return cls(**values)
