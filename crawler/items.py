"""The one item that flows from a parser through the pipelines into storage."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a type only: parsers (which import this module) import no storage code
    from storage.fingerprint import Fingerprint


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """An article as one outlet published it at one moment.

    Storage bookkeeping (ids, versions, duplicate links) never lives here; it is
    what ``storage.record`` returns.
    """

    #: Where the article was read: the page URL (percent-escapes of non-ASCII
    #: characters decoded, as a browser shows it), or ``fixture:<outlet>/<file>``
    #: for a saved page whose web address is unknown.
    url: str
    #: The outlet that published it (a spider name, or an outlet name from the config).
    outlet: str
    #: Headline, whitespace-collapsed (a U+3000 separator is kept), no site suffix.
    title: str
    #: ISO 8601 as the page states it: ``YYYY-MM-DD`` for a date alone, otherwise
    #: ``YYYY-MM-DDThh:mm:ss±hh:mm``; ``None`` when the page states no date.
    published_at: str | None
    #: Byline as stated on the page, or ``None``.
    author: str | None
    #: ``zh`` or ``en``.
    language: str
    #: Plain text, one paragraph a line, no page furniture.
    body: str
    #: Outlet metadata an analyst wants (account, cited source, editor, ...);
    #: JSON-serialisable values only.
    extra: dict[str, Any] = field(default_factory=dict)
    #: ISO 8601 UTC time the page was fetched (or archived).
    fetched_at: str
    #: sha256 of the normalised title, publication date and body; equal hashes
    #: mean "no change" (see ``crawler.parsing.text.content_hash``).
    content_hash: str
    #: The URL the publisher declares canonical (``<link rel=canonical>``,
    #: ``og:url``) when it stays on the same site, else ``None``.
    declared_canonical_url: str | None = None
    #: The identity storage files the article under (``crawler.urls.canonical_url``);
    #: set by the canonicalisation pipeline, ``None`` straight out of a parser.
    canonical_url: str | None = None
    #: The body's near-duplicate fingerprint when the parse worker already computed it
    #: (``storage.fingerprint.fingerprint(body)``), so storage need not; not part of the record.
    fingerprint: Fingerprint | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        del record["fingerprint"]
        return record

    def replace(self, **changes: Any) -> Article:
        return dataclasses.replace(self, **changes)
