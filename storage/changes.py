"""What kind of change one version is: title, date, body, or only cosmetic.

NewsDiffs calls cosmetic versions "boring" and hides them: a re-flowed paragraph, a
full-width comma turned half-width, a changed "责任编辑" line is not news.  Versions are
stored anyway (the record is complete); this classification is stored with each one, so
``items history`` can show it and watches can skip cosmetic versions.
"""

from __future__ import annotations

import re
import unicodedata

#: The kinds a version can have; ``cosmetic`` only ever alone.
SUBSTANTIVE = ("title", "date", "body")
COSMETIC = "cosmetic"

# Page furniture: short lines that say who edited, where from, how to share, not what
# happened.  Only whole short lines are dropped, never a sentence of the story: a label
# that can also begin a sentence ("记者从国防部获悉", "Sources say", "Editorial board")
# counts only when a separator, a space (Chinese labels) or the line's end follows it.
_SEPARATOR = r"[:：|｜\]】)）,，]"
_FURNITURE = re.compile(
    r"^\s*[【\[(（]?\s*(?:"
    r"(?:分享到|扫一扫|扫码|关注我们|阅读原文|相关阅读|相关新闻|推荐阅读|返回(?:首页|顶部|搜狐|列表)"
    r"|Advertisement|Read more)"
    r"|(?:责任编辑|编辑|责编|校对|审核|审校|来源|原标题|作者|记者|监制|分享|点击|返回|打印)"
    rf"(?:\s|{_SEPARATOR}|$)"
    rf"|(?:Share|Related|Editor|Source)\s*(?:{_SEPARATOR}|$)"
    r")",
    re.I,
)
_FURNITURE_MAX_CHARS = 60


def _significant(text: str | None) -> str:
    """The text with whitespace, punctuation, symbols and width differences removed."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def _body(text: str) -> str:
    lines = (
        line
        for line in text.splitlines()
        if not (len(line.strip()) <= _FURNITURE_MAX_CHARS and _FURNITURE.match(line))
    )
    return _significant("\n".join(lines))


def classify(
    old_title: str,
    new_title: str,
    old_published: str | None,
    new_published: str | None,
    old_body: str,
    new_body: str,
) -> list[str]:
    """The kinds of change from the old version to the new: a subset of SUBSTANTIVE, or ['cosmetic']."""
    kinds = []
    if _significant(old_title) != _significant(new_title):
        kinds.append("title")
    if (old_published or "").strip() != (new_published or "").strip():
        kinds.append("date")
    if _body(old_body) != _body(new_body):
        kinds.append("body")
    return kinds or [COSMETIC]


def is_cosmetic(changes: list[str] | None) -> bool:
    return changes == [COSMETIC]
