"""Line-level furniture removal shared by the outlet parsers.

Extraction gives lines; outlets append the same furniture to every article
(share bars, copyright footers, "related stories", editor credits).  Each
outlet module lists its own patterns; the helpers here apply them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

# One or more CSS rules on a line: "#id .cls { max-width: 667px; } img { … }".
_CSS_RULE = re.compile(r"^(?:\s*[^{}\n]{1,200}\{[^{}\n]*:[^{}\n]*\}\s*)+$")

#: Lines that are furniture on any Chinese or English news page.
COMMON_FURNITURE: tuple[re.Pattern[str], ...] = (
    re.compile(r"^(?:分享到?|分享至)\s*[:：]?$"),
    re.compile(r"^(?:Share|Share this|Print|Email)\s*[:：]?$", re.IGNORECASE),
    re.compile(
        r"^(?:[京沪粤浙苏]ICP[备證证]|京公网安备|京公網安備|\[?網上傳播視聽節目許可證|\[京ICP)"
    ),
    re.compile(r"^Copyright\s*(?:©|\(c\)|\d)", re.IGNORECASE),
    re.compile(r"^(?:版权所有|All Rights Reserved)", re.IGNORECASE),
    re.compile(r"^(?:返回顶部|回到顶部|Back to top)", re.IGNORECASE),
    re.compile(r"^(?:Advertisement|Sponsored|廣告|广告)$", re.IGNORECASE),  # ad-slot labels
    # A link to another story set inside the body: "Read more: Tencent profit falls …",
    # "推荐阅读：绥德交警：…" (the same heading alone ends the body, see the outlet cut rules).
    re.compile(
        r"^(?:Also Read|Read Also|Read More|Read Next|See Also|推荐阅读|相关阅读|延伸阅读|相关链接)\s*[:：|]\s*\S",
        re.IGNORECASE,
    ),
    # Punctuation left behind when the element before it was removed ("推荐阅读 ：").
    re.compile(r"^[：:，,、|｜>»\-—]+$"),
)


def is_css(line: str) -> bool:
    return "{" in line and bool(_CSS_RULE.match(line))


def matches(line: str, patterns: Iterable[re.Pattern[str]]) -> bool:
    return any(pattern.search(line) for pattern in patterns)


_INLINE_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
_COMBINED: dict[tuple[re.Pattern[str], ...], Callable[[str], bool]] = {}


def anchored_at_start(pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern`` can match only at position 0: every top-level branch begins with ``^``.

    Conservative: ``False`` whenever unsure (MULTILINE or VERBOSE, inline flags first).
    """
    source = pattern.pattern
    if pattern.flags & (re.MULTILINE | re.VERBOSE) or not source.startswith("^"):
        return False
    depth, i = 0, 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":  # a class: "|", "(" and ")" inside are literal
            i += 2 if source.startswith("^", i + 1) else 1
            i += 1 if source.startswith("]", i) else 0
            while i < len(source) and source[i] != "]":
                i += 2 if source[i] == "\\" else 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0 and not source.startswith("^", i + 1):
            return False
        i += 1
    return True


def _alternation(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    parts = []
    for pattern in patterns:
        flags = "".join(letter for flag, letter in _INLINE_FLAGS if pattern.flags & flag)
        parts.append(f"(?{flags}:{pattern.pattern})" if flags else f"(?:{pattern.pattern})")
    return re.compile("|".join(parts)) if parts else None


def any_of(patterns: Sequence[re.Pattern[str]]) -> Callable[[str], bool]:
    """A test equal to ``matches(text, patterns)``, cheaper than searching rule by rule.

    Most rules are anchored (``^…``): they are joined into one alternation, each keeping
    its own flags in a scoped group (``(?i:…)``), and tried once at the start of the text.
    The unanchored rules are searched one by one: joined with anchored ones, the regex
    engine would try every branch at every position (three times the cost), and alone
    each keeps its own literal-prefix scan.  Patterns with groups (whose numbers or names
    could clash when joined) are searched one by one, as before.  Rule sets are few and
    fixed, so each is combined once and kept.
    """
    key = tuple(patterns)
    test = _COMBINED.get(key)
    if test is None:
        if any(pattern.groups for pattern in key):
            test = lambda text: matches(text, key)  # noqa: E731
        else:
            anchored = _alternation([pattern for pattern in key if anchored_at_start(pattern)])
            start = anchored.match if anchored else None
            searches = tuple(pattern.search for pattern in key if not anchored_at_start(pattern))

            def test(text: str) -> bool:
                return (start is not None and start(text) is not None) or any(
                    search(text) is not None for search in searches
                )

        test = _COMBINED.setdefault(key, test)
    return test


def drop(lines: Iterable[str], patterns: Sequence[re.Pattern[str]]) -> list[str]:
    """Lines that match none of ``patterns`` (and are not CSS)."""
    furniture = any_of(patterns)
    return [line for line in lines if not is_css(line) and not furniture(line)]


def cut_at(
    lines: Sequence[str], markers: Sequence[re.Pattern[str]], *, keep_min: int = 1
) -> list[str]:
    """Lines before the first marker line (related stories, END trailers).

    A marker within the first ``keep_min`` lines is ignored: a list heading is
    never the first thing in an article, so there it is article text.
    """
    marker = any_of(markers)
    for index, line in enumerate(lines):
        if index >= keep_min and marker(line):
            return list(lines[:index])
    return list(lines)


# A teaser of another story ends cut short: "…女主安雅·..." (not the prose ellipsis "……").
_TEASER_END = re.compile(r"(?:\.\.\.|(?<!…)…)$")


def drop_teaser_runs(lines: Sequence[str], *, run: int = 2) -> list[str]:
    """Lines outside runs of ``run`` or more consecutive teasers (lists of other stories)."""
    kept: list[str] = []
    index = 0
    while index < len(lines):
        end = index
        while end < len(lines) and _TEASER_END.search(lines[end]):
            end += 1
        if end - index >= run:
            index = end
            continue
        kept.extend(lines[index : max(end, index + 1)])
        index = max(end, index + 1)
    return kept
