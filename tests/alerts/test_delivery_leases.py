"""Two senders on one outbox, in this process: a lease must cover a send, not a whole batch.

A crawl's delivery after its run, the scheduler's tick and ``newswatch watch run`` may all
send at once; each row is claimed with a lease so that only one of them sends it.  Here
the lease is cut to 3 s and the receiver answers each POST after 1 s, so one sender's
batch of six outlasts a lease while each of its sends stays well inside one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from newswatch.alerts.deliver import deliver_due
from storage import outbox
from storage.db import open_database
from tests.alerts.receivers import WebhookReceiver
from tests.support.cli_helpers import FIXTURES, newswatch
from tests.support.waiting import wait_until

LEASE = timedelta(seconds=3)


def test_a_second_sender_never_resends_what_a_slow_first_sender_is_still_working_through(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = WebhookReceiver(hold_s=1.0).start()
    try:
        assert newswatch("replay", str(FIXTURES), "--db", sqlite_url).returncode == 0
        add = newswatch("watch", "add", "slow", "--query", "普京", "--backfill", "--notify", slow.url,
                        "--notify", slow.url + "?second", "--db", sqlite_url)
        assert add.returncode == 0, add.stderr  # three matches, two channels: six rows due now
        monkeypatch.setattr(outbox, "LEASE", LEASE)
        database = open_database(sqlite_url)
        started = time.monotonic()
        first = threading.Thread(target=deliver_due, args=(database,))
        first.start()
        # Past the first sender's first lease, while it still has rows to send.
        wait_until(lambda: time.monotonic() - started > LEASE.total_seconds() + 0.3, timeout=30, what="a lease to pass")
        deliver_due(database)
        first.join(timeout=60)
        database.dispose()
        sent = Counter(hit.headers["Idempotency-Key"] for hit in slow.accepted)
        assert len(sent) == 6 and set(sent.values()) == {1}, sent
    finally:
        slow.stop()
