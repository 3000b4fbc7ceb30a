"""What a notification says: one event, or a digest of several; text and our JSON schema.

Webhook JSON schema ``newswatch.watch-event/1`` (one event)::

    {"schema": "newswatch.watch-event/1", "idempotency_key": str, "watch": str,
     "event": "new"|"edited"|"title"|"removed"|"restored", "article_id": int,
     "url": str, "outlet": str, "title": str, "published_at": str|null,
     "version": int, "change_summary": str, "link": str, "matched_at": ISO 8601 UTC}

and ``newswatch.watch-digest/1``: ``{"schema", "idempotency_key", "watch", "events": [event
objects without "schema" and "idempotency_key"]}``, every message of a ``--digest`` watch
(one per channel and window, even when the window saw one event).  Headers: ``Idempotency-Key`` (the same
on every retry of one delivery), ``X-Newswatch-Signature: sha256=<hex HMAC-SHA256 of the
raw body with the watch's secret>``, ``X-Newswatch-Event``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Room an entry of a cut message keeps at least: its event line and its title.
_ENTRY_ROOM = 80
# Controls (but newline and tab) and bidi overrides: never passed on from a scraped page.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(value: str | None) -> str:
    return _UNSAFE.sub("", value or "")


@dataclass(frozen=True, slots=True)
class Event:
    watch: str
    event: str
    article_id: int
    url: str
    outlet: str
    title: str
    published_at: str | None
    version: int
    change_summary: str
    matched_at: str

    @property
    def link(self) -> str:
        # The article itself until the web app gives each version a page of its own.
        return self.url

    def as_dict(self) -> dict[str, Any]:
        return {
            "watch": self.watch,
            "event": self.event,
            "article_id": self.article_id,
            "url": clean(self.url),
            "outlet": self.outlet,
            "title": clean(self.title),
            "published_at": self.published_at,
            "version": self.version,
            "change_summary": clean(self.change_summary),
            "link": clean(self.link),
            "matched_at": self.matched_at,
        }


@dataclass(frozen=True, slots=True)
class Notification:
    """One delivery: one event, or several when the watch is a digest."""

    watch: str
    events: tuple[Event, ...]
    idempotency_key: str
    #: A digest watch's message: the digest schema even when its window saw one event.
    digest: bool = False

    @property
    def kind(self) -> str:
        return self.events[0].event if len(self.events) == 1 and not self.digest else "digest"

    def payload(self) -> dict[str, Any]:
        if self.kind != "digest":
            return {"schema": "newswatch.watch-event/1", "idempotency_key": self.idempotency_key, **self.events[0].as_dict()}
        return {
            "schema": "newswatch.watch-digest/1",
            "idempotency_key": self.idempotency_key,
            "watch": self.watch,
            "events": [event.as_dict() for event in self.events],
        }

    def subject(self) -> str:
        if self.kind != "digest":
            event = self.events[0]
            return f"[{clean(self.watch)}] {event.event}: {clean(event.title)}"
        return f"[{clean(self.watch)}] digest: {len(self.events)} event{'s' if len(self.events) > 1 else ''}"

    def text(self, limit: int | None = None) -> str:
        """Plain text; over ``limit`` characters, entries are cut but never their links, and
        when the entries do not fit with room for their titles, the last ones are left out
        and a closing line says how many (a digest cut mid-list would lose them silently)."""
        entries = [(_block(event), clean(event.link)) for event in self.events]
        body = "\n\n".join(f"{block}\n{link}" for block, link in entries)
        if limit is None or len(body) <= limit:
            return body
        shown, note, room = len(entries), "", 0
        while shown:
            left_out = len(entries) - shown
            note = f"\n\n… {left_out} more event{'s' if left_out > 1 else ''}: newswatch watch show {clean(self.watch)}" if left_out else ""
            links = sum(len(link) + 3 for _, link in entries[:shown])
            room = (limit - len(note) - links) // shown
            if room >= _ENTRY_ROOM or shown == 1:
                break
            shown -= 1
        room = max(20, room)
        cut = "\n\n".join(
            (block if len(block) <= room else block[: room - 1] + "…") + "\n" + link for block, link in entries[:shown]
        )
        return (cut + note)[:limit]


def _block(event: Event) -> str:
    published = f" ({event.published_at})" if event.published_at else ""
    return (
        f"{event.event.upper()} · {clean(event.outlet)}{published}\n"
        f"{clean(event.title)}\n{clean(event.change_summary)}"
    )
