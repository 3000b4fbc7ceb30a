"""Scrapy stats keys newswatch writes, defined once (the CLI, progress and run status read them)."""

from __future__ import annotations

PREFIX = "newswatch/"
#: Items the storage pipeline could not store (spooled to the dead-letter file).
STORAGE_ERROR = f"{PREFIX}storage_error"
#: Items that could be neither stored nor spooled (disk full): lost, and the run fails.
LOST = f"{PREFIX}lost"
#: Links discovery found but did not enqueue (the NEWSWATCH_MAX_ENQUEUE_* caps).
ENQUEUE_CUT = f"{PREFIX}enqueue_cut"


def outcome_key(outcome: str) -> str:
    """Articles recorded with this outcome (storage.outcomes.ARTICLE_OUTCOMES)."""
    return f"{PREFIX}outcome/{outcome}"


def problem_key(kind: str) -> str:
    """Pages that gave no article, by kind (storage.outcomes.PROBLEM_KINDS)."""
    return f"{PREFIX}{kind}"


def discovery_key(kind: str) -> str:
    """Discovery documents read, by kind (feed, sitemap, listing, url list)."""
    return f"{PREFIX}discovery/{kind}"


def conditional_key(event: str) -> str:
    """Conditional requests (crawler.middlewares.conditional): ``sent``, ``not_modified``, ``refetched``."""
    return f"{PREFIX}conditional/{event}"
