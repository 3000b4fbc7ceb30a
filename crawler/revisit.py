"""Revisiting known articles to see whether they are still there (takedowns as versions).

The spider asks the run owner which articles of its outlet are due
(``storage.lifecycle.REVISIT_LADDER``: 10 min, 30 min, 2 h, 6 h, 24 h, then daily for a
month after first being seen), fetches each with a conditional request, and judges the
answer with the pure :mod:`crawler.parsing.takedown`.  A takedown is fetched a second
time before it is recorded; an anti-bot page is left due, to be tried again next run.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

#: request.meta keys of revisit requests.
REVISIT_ARTICLE = "newswatch_revisit_article"
REVISIT_CONFIRM = "newswatch_revisit_confirm"
#: Statuses a revisit reads itself instead of letting HttpErrorMiddleware drop them.
GONE_STATUSES = [404, 410]


@runtime_checkable
class RevisitLedger(Protocol):
    """What the spider needs of the run owner (``newswatch.runs.RunRecorder``) to revisit."""

    def revisits_due(self, outlet: str) -> list[tuple[int, str]]: ...

    def record_takedown(self, article_id: int, reason: str, evidence: dict[str, Any]) -> bool: ...

    def mark_checked(self, article_id: int) -> None: ...


def find_ledger(extensions: Any) -> RevisitLedger | None:
    found = [ext for ext in getattr(extensions, "middlewares", ()) if isinstance(ext, RevisitLedger)]
    return found[0] if len(found) == 1 else None
