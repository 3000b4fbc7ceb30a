"""Which stored versions answer which watch, and as which event.

A watch sees the versions a run recorded (never a rescan of every article): the run
owner calls :func:`evaluate_run` after the run commits, and ``newswatch watch run``
calls :func:`catch_up` for runs that ended without it (a crash, a killed process).
Matching uses the search tokenizer (``storage.textsearch``), so a watch and the web
search agree on what 普京 finds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from newswatch.textdiff import sentence_diff, summarise
from storage import watches as store
from storage.changes import is_cosmetic
from storage.textsearch import Query, matches, parse_query, tokenize

if TYPE_CHECKING:
    from storage.db import Database
    from storage.models import Watch
    from storage.watches import VersionChange

EVENTS = ("new", "edited", "title", "removed", "restored")
#: The usual digest windows; ``--digest`` takes any whole number of minutes, hours or days
#: from 1m to 7d (a short window is also how the tests see a window close).
DIGESTS = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}
_DIGEST = re.compile(r"^([1-9]\d{0,2})([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def digest_window(value: str | None) -> timedelta | None:
    """The window of a ``--digest`` value (``30m``, ``1h``, ``1d`` …); ValueError if it is none."""
    if value is None:
        return None
    match = _DIGEST.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a window like 1h or 1d (minutes m, hours h or days d)")
    window = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not timedelta(minutes=1) <= window <= timedelta(days=7):
        raise ValueError(f"{value!r}: a digest window is from 1m to 7d")
    return window


def event_of(watch: Watch, change: VersionChange) -> str | None:
    """The event this version is for this watch, or None if the watch does not report it."""
    if change.event in ("removed", "restored"):
        event: str | None = change.event
    elif change.version == 1:
        event = "new"
    elif is_cosmetic(change.changes) and not watch.include_cosmetic:
        return None
    elif change.changes and "title" in change.changes and "title" in watch.events:
        event = "title"
    else:
        event = "edited"
    return event if event in watch.events else None


def summary_of(change: VersionChange, event: str) -> str:
    """One line on what happened: the diff summary and the first changed sentences."""
    if event == "new":
        return "new article"
    if event == "removed":
        evidence = (change.event_evidence or {}).get("evidence", "")
        moved = (change.event_evidence or {}).get("new_url")
        return f"removed ({change.event_reason}): {evidence}" + (f"; now at {moved}" if moved else "")
    if change.previous_body is None or change.previous_title is None:
        return event
    described = summarise(
        change.previous_title, change.title, change.previous_published_at, change.published_at,
        change.previous_body, change.body,
    ).describe()
    lines = [f"{line.tag} {line.text}" for line in sentence_diff(change.previous_body, change.body, context=0) if line.tag in "+-"]
    detail = " | ".join(lines[:4])
    head = "restored" if event == "restored" else described
    return f"{head}: {detail[:400]}" if detail else head


def due_time(watch: Watch, now: datetime) -> datetime:
    """Now, or the end of the watch's digest window: windows are counted from the Unix
    epoch, so ``1h`` closes on the hour and ``1d`` at midnight UTC."""
    try:
        window = digest_window(watch.digest)
    except ValueError:
        window = None  # a value no `watch add` accepts: deliver at once rather than never
    if window is None:
        return now
    elapsed = now - _EPOCH
    return _EPOCH + (elapsed // window + 1) * window


def drafts_for(
    watches: Sequence[Watch], changes: Iterable[VersionChange], now: datetime
) -> list[store.MatchDraft]:
    queries: dict[int, Query] = {w.id: parse_query(w.query) for w in watches}
    drafts: list[store.MatchDraft] = []
    for change in changes:
        # Tokenized once, for every watch: the version's text, and the text it replaced.
        tokens: list[str] | None = None
        previous_tokens: list[str] | None = None
        for watch in watches:
            if change.version_id <= watch.start_version_id:
                continue
            if watch.outlets and change.outlet not in watch.outlets:
                continue
            if watch.language and change.language != watch.language:
                continue
            event = event_of(watch, change)
            if event is None:
                continue
            if tokens is None:
                tokens = tokenize(change.title + "\n" + change.body)
            if not matches(queries[watch.id], tokens):
                # An edit that takes the watched words out is news to whoever follows them:
                # a version matches when the text it replaced did.
                if change.previous_body is None or change.previous_title is None:
                    continue
                if previous_tokens is None:
                    previous_tokens = tokenize(change.previous_title + "\n" + change.previous_body)
                if not matches(queries[watch.id], previous_tokens):
                    continue
            drafts.append(
                store.MatchDraft(
                    watch_id=watch.id,
                    watch_tag=store.watch_tag(watch),
                    article_id=change.article_id,
                    version=change.version,
                    event=event,
                    url=change.url,
                    outlet=change.outlet,
                    title=change.title,
                    published_at=change.published_at,
                    summary=summary_of(change, event),
                    channels=len(watch.channels),
                    due_at=due_time(watch, now),
                )
            )
    return drafts


def evaluate_run(db: Database, run_id: int, *, now: datetime) -> int:
    """Match every active watch against the versions one run recorded; the new matches."""
    with db.read_session() as session:
        watches = store.list_watches(session, active_only=True)
        changes = store.run_changes(session, run_id) if watches else []
        for watch in watches:
            session.expunge(watch)
    added = store.record_matches(db, drafts_for(watches, changes, now), now=now)
    store.mark_run_watched(db, run_id, now)
    return added


def catch_up(db: Database, *, now: datetime) -> int:
    """Evaluate the runs that ended without their watch evaluation; the new matches."""
    with db.read_session() as session:
        pending = store.unwatched_runs(session)
    return sum(evaluate_run(db, run_id, now=now) for run_id in pending)


def backfill(db: Database, watch: Watch, *, now: datetime) -> int:
    """Evaluate a new ``--backfill`` watch on every stored version, once."""
    added = 0
    with db.read_session() as session:
        for batch in store.changes_after(session, watch.start_version_id):
            added += store.record_matches(db, drafts_for([watch], batch, now), now=now)
    return added
