"""The names of what a run can make of a page, defined once for storage, crawler and CLI."""

from __future__ import annotations

from typing import Literal, get_args

#: What storage made of one sighting of an article.
OutcomeStatus = Literal["new", "changed", "unchanged", "duplicate"]
ARTICLE_OUTCOMES: tuple[OutcomeStatus, ...] = get_args(OutcomeStatus)

#: A page that gave no article: dropped with a reason (unreadable, not an article), or an error.
ProblemKind = Literal["dropped", "error"]
PROBLEM_KINDS: tuple[ProblemKind, ...] = get_args(ProblemKind)

#: Every count a run reports, in display order.
RUN_COUNTS: tuple[str, ...] = (*ARTICLE_OUTCOMES, *PROBLEM_KINDS)
