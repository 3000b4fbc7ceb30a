"""Differences between two versions of an article, readable for Chinese and English."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

# Split after sentence-final punctuation (CJK and Latin) and at line ends, so a
# one-sentence edit in a long Chinese paragraph shows as one sentence, not a paragraph.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?])(?![”’」』\"'）)])|(?<=[.!?][”\"'])\s+|(?<=[.!?])\s+(?=[A-Z“\"])")


def sentences(text: str) -> list[str]:
    result: list[str] = []
    for line in text.splitlines():
        result.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return result


@dataclass(frozen=True)
class ChangeSummary:
    title_changed: bool
    published_changed: bool
    chars_added: int
    chars_removed: int

    def describe(self) -> str:
        parts = []
        if self.title_changed:
            parts.append("title changed")
        if self.published_changed:
            parts.append("publication date changed")
        if self.chars_added or self.chars_removed:
            parts.append(f"body +{self.chars_added}/-{self.chars_removed} chars")
        return ", ".join(parts) or "no visible change"


def summarise(
    old_title: str, new_title: str, old_published: str | None, new_published: str | None, old_body: str, new_body: str
) -> ChangeSummary:
    added = removed = 0
    matcher = difflib.SequenceMatcher(a=old_body, b=new_body, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op in ("replace", "delete"):
            removed += a2 - a1
        if op in ("replace", "insert"):
            added += b2 - b1
    return ChangeSummary(old_title != new_title, old_published != new_published, added, removed)


@dataclass(frozen=True)
class DiffLine:
    #: ``" "`` unchanged, ``"-"`` removed, ``"+"`` added, ``"@"`` a hunk header.
    tag: str
    text: str


def sentence_diff(old: str, new: str, *, context: int = 1) -> Iterator[DiffLine]:
    """A unified diff of the two texts, one sentence a line."""
    for line in difflib.unified_diff(sentences(old), sentences(new), lineterm="", n=context):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            yield DiffLine("@", line)
        else:
            yield DiffLine(line[:1], line[1:])
