"""The Atom feed of one watch (feedgen): its newest matches, stable across runs.

Entry ids are ``tag:newswatch,2026:watch/{watch id}/match/{match id}`` and every date is a
stored one (never "now"), so the same matches give the same feed byte for byte.  Control
characters are stripped first: feedgen (lxml) refuses them (CKAN #6371).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from feedgen.feed import FeedGenerator

from storage import watches as store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.models import Watch, WatchMatch

#: Newest matches in a feed, for ``watch feed`` and the web app's feed alike.
FEED_LIMIT = 50

_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


def _x(value: str | None) -> str:
    return _XML_UNSAFE.sub("", value or "")


def atom(watch: Watch, matches: list[WatchMatch], *, self_url: str | None = None) -> bytes:
    """The feed, newest match first (``matches`` as returned by storage.watches.recent_matches)."""
    feed = FeedGenerator()
    feed.id(f"tag:newswatch,2026:watch/{watch.id}")
    feed.title(_x(f"newswatch: {watch.name}"))
    feed.subtitle(_x(f"Articles matching {watch.query!r}"))
    feed.author({"name": "newswatch"})
    feed.link(href=self_url or f"urn:newswatch:watch:{watch.id}", rel="self")
    feed.generator("newswatch")
    feed.language("zh")
    newest = matches[0].created_at if matches else watch.created_at
    feed.updated(newest)
    for match in reversed(matches):  # feedgen prepends: add oldest first to list newest first
        entry = feed.add_entry()
        entry.id(f"tag:newswatch,2026:watch/{watch.id}/match/{match.id}")
        entry.title(_x(f"{match.event}: {match.title}"))
        entry.link(href=_x(match.url), rel="alternate")
        entry.updated(match.created_at)
        entry.published(match.created_at)
        entry.summary(_x(f"{match.outlet} · {match.published_at or 'undated'} · {match.summary}"))
        entry.category(term=match.event)
    return bytes(feed.atom_str(pretty=True))


def watch_feed(session: Session, name: str, *, limit: int = FEED_LIMIT) -> bytes | None:
    """The feed of the watch named ``name``, or None if there is none.

    ``newswatch watch feed`` and ``/watches/{name}/feed.atom`` both serve this, so a reader
    subscribed to either sees the same bytes (no self link that would differ between them).
    """
    watch = store.get_watch(session, name)
    if watch is None:
        return None
    return atom(watch, store.recent_matches(session, watch.id, limit=limit))
