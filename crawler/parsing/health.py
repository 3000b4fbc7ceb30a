"""What makes a parsed record healthy: the fields whose coverage drops when a template changes.

Counted per outlet for every article a run parses (``newswatch/health/<field>``
in the run's stats) and compared with the outlet's own history by
``newswatch outlets health``: a sudden fall in the share of records with a
date or a full body is how a changed template shows itself.
"""

from __future__ import annotations

from crawler.items import Article

#: A body shorter than this is a teaser or a failed extraction, not an article.
MIN_BODY_CHARS = 200
#: The fields counted, in display order; ``articles`` is the denominator.
HEALTH_FIELDS = ("title", "date", "body", "author")
STATS_PREFIX = "newswatch/health"


def health_marks(article: Article) -> list[str]:
    """The health fields this record has (a stand-in title from the body does not count)."""
    marks = []
    if article.title and not article.extra.get("title_from_body"):
        marks.append("title")
    if article.published_at:
        marks.append("date")
    if len(article.body) >= MIN_BODY_CHARS:
        marks.append("body")
    if article.author:
        marks.append("author")
    return marks
