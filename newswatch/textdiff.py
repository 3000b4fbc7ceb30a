"""Differences between two versions of an article, readable for Chinese and English."""

from __future__ import annotations

import difflib
import re
import unicodedata
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


# -- the web page's diffs -----------------------------------------------------------------

# A Chinese character is a unit of its own (words are not separated by spaces); a run of
# letters or digits is one word; whitespace runs and any other character stand alone.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_DIFF_UNIT = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+|\s+|.", re.S)


@dataclass(frozen=True)
class Segment:
    #: ``equal``, ``insert`` or ``delete``.
    op: str
    text: str


def units(text: str) -> list[str]:
    """Diff units: Chinese characters, words, whitespace runs, single punctuation marks."""
    return _DIFF_UNIT.findall(text)


def inline_diff(old: str, new: str) -> list[Segment]:
    """Character (Chinese) / word (Latin) granularity diff as equal/delete/insert segments."""
    a, b = units(old), units(new)
    segments: list[Segment] = []

    def push(op: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            push("equal", "".join(a[a1:a2]))
        else:
            push("delete", "".join(a[a1:a2]))
            push("insert", "".join(b[b1:b2]))
    return segments


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff: ``equal``, ``replace``, ``delete``, ``insert`` or ``skip``.

    ``old``/``new`` are the two sides as segments; a ``skip`` row stands for ``skipped``
    unchanged sentences folded away.
    """

    op: str
    old: list[Segment]
    new: list[Segment]
    skipped: int = 0


def sentence_rows(old: str, new: str, *, context: int = 1) -> list[DiffRow]:
    """Sentence-aligned rows; a changed sentence shows its changed characters/words inline."""
    a, b = sentences(old), sentences(new)
    rows: list[DiffRow] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            rows.extend(DiffRow("equal", [Segment("equal", s)], [Segment("equal", s)]) for s in a[a1:a2])
            continue
        olds, news = a[a1:a2], b[b1:b2]
        for i in range(max(len(olds), len(news))):
            if i < len(olds) and i < len(news):
                segments = inline_diff(olds[i], news[i])
                rows.append(
                    DiffRow(
                        "replace",
                        [s for s in segments if s.op != "insert"],
                        [s for s in segments if s.op != "delete"],
                    )
                )
            elif i < len(olds):
                rows.append(DiffRow("delete", [Segment("delete", olds[i])], []))
            else:
                rows.append(DiffRow("insert", [], [Segment("insert", news[i])]))
    return _fold(rows, context)


def _fold(rows: list[DiffRow], context: int) -> list[DiffRow]:
    changed = [i for i, row in enumerate(rows) if row.op != "equal"]
    keep = {j for i in changed for j in range(i - context, i + context + 1)}
    folded: list[DiffRow] = []
    for i, row in enumerate(rows):
        if row.op != "equal" or i in keep:
            folded.append(row)
        elif folded and folded[-1].op == "skip":
            folded[-1] = DiffRow("skip", [], [], folded[-1].skipped + 1)
        else:
            folded.append(DiffRow("skip", [], [], 1))
    return folded


def _bare(text: str) -> str:
    """Text without whitespace and punctuation: what a cosmetic edit leaves untouched."""
    return "".join(ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def is_cosmetic(
    old_title: str, new_title: str, old_published: str | None, new_published: str | None, old_body: str, new_body: str
) -> bool:
    """Only whitespace or punctuation changed (same date): folded away in the history."""
    return (
        old_published == new_published
        and _bare(old_title) == _bare(new_title)
        and _bare(old_body) == _bare(new_body)
    )


def patch(
    old_label: str, new_label: str, fields: list[tuple[str, str | None, str | None]], old_body: str, new_body: str
) -> str:
    """A plain-text patch: changed fields first, then a unified diff of the body, one sentence a line."""
    lines = [f"--- {old_label}", f"+++ {new_label}"]
    for name, before, after in fields:
        if before != after:
            lines += [f"@@ field {name} @@", f"-{before or ''}", f"+{after or ''}"]
    lines += [
        line
        for line in difflib.unified_diff(sentences(old_body), sentences(new_body), lineterm="", n=1)
        if not line.startswith(("---", "+++"))
    ]
    return "\n".join(lines) + "\n"
