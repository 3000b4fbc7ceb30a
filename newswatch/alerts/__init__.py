"""Watches and alerts: evaluate standing queries on what a run changed, deliver through an outbox.

- :mod:`newswatch.alerts.evaluate`: which versions answer which watch, as which event;
- :mod:`newswatch.alerts.channels`: apprise URLs, our signed webhooks, URL checks and masking;
- :mod:`newswatch.alerts.deliver`: send what the outbox has due, one row at a time;
- :mod:`newswatch.alerts.feed`: the Atom feed of a watch.

:func:`after_run` is what the run owner calls once a run has committed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.db import Database

logger = logging.getLogger(__name__)


def after_run(db: Database, run_id: int, *, now: datetime | None = None) -> None:
    """Evaluate the watches on the run's changes and send what is due; never raises.

    A failure here must not fail the run (its articles are stored); the run stays
    unwatched and ``newswatch watch run`` catches up.
    """
    from newswatch.alerts.deliver import deliver_due
    from newswatch.alerts.evaluate import evaluate_run

    moment = now or datetime.now(UTC)
    try:
        evaluate_run(db, run_id, now=moment)
        deliver_due(db, now=moment)
    except Exception as exc:
        logger.error("watches after run %d failed (run `newswatch watch run` to catch up): %s", run_id, exc)
