"""Chinese credit lines: metadata, not body.

"来源：央视新闻", "责编：彭勃", "编辑|张维纳 校读|刘永杰" name the cited source and the
staff; they are moved into ``extra``.

Only the first and last few lines of a body are examined, since the same words
occur in prose; a line counts as a credit line only when labelled fields cover
all of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Credit labels and the ``extra`` key each fills; ``None`` = credited work we do not keep.
ROLES: dict[str, str | None] = {
    "来源": "source", "稿件来源": "source", "文章来源": "source", "本文来源": "source",
    "信息来源": "source", "消息来源": "source",
    "责编": "editor", "责任编辑": "editor", "编辑": "editor",
    "校对": "proofreader", "校读": "proofreader",
    "审核": "reviewer", "审校": "reviewer", "终审": "reviewer", "监制": "reviewer",
    "文": "author", "作者": "author", "撰文": "author", "执笔": "author",
    "排版": None, "美编": None, "视觉": None, "设计": None, "出品": None, "摄影": None,
    "语音": None, "剪辑": None, "制图": None, "统筹": None, "策划": None, "题图": None,
    "封面": None, "封面来源": None, "图片来源": None, "配图": None, "投稿": None, "合作": None,
}  # fmt: skip

_SHORT = "|".join(sorted((re.escape(k) for k in ROLES if len(k) < 4), key=len, reverse=True))
_LONG = "|".join(sorted((re.escape(k) for k in ROLES if len(k) >= 4), key=len, reverse=True))
# A label starts the line or follows a space or separator ("责任编辑" and other
# four-character labels are distinctive enough to follow anything: "…新华社责任编辑：…"),
# and is followed by a separator.
_LABEL = re.compile(
    rf"(?:(?P<label>{_LONG})|(?:^|(?<=[\s|｜丨︱]))(?P<short>{_SHORT}))\s*(?:[:：|｜丨︱/]|\s)\s*"
)
_SEPARATORS = " \t|｜丨︱/"
_OPENING, _CLOSING = "（(【[", "）)】]"
_ID_SUFFIX = re.compile(r"\s*[（(][^）)]*[）)]$")  # "新周刊（ID：new-weekly）"
_NOT_A_NAME = re.compile(r"[，。！？；,!?;:：]")
_MAX_VALUE = 40
_ORIGINAL_TITLE = re.compile(r"^(?:原标题\s*[:：]\s*(?P<value>.+)|原题为《(?P<quoted>.+)》)$")
# "澎湃新闻记者 段彦超 廖艳", "中青报·中青网记者 魏其濛 来源：中国青年报".
_REPORTER = re.compile(
    r"^(?P<outlet>\S{0,12}?)记者\s*"
    r"(?P<names>[\u4e00-\u9fff]{2,4}(?:[ 、][\u4e00-\u9fff]{1,4}){0,5})"
    r"(?:\s+来源\s*[:：]\s*(?P<source>\S{1,20}))?$"
)


_REPORTER_PREFIX = re.compile(r"^\S{0,6}?记者\s*")


def _unbracket(line: str) -> str:
    """Without the brackets around the whole line ("（来源：新华社）", "[ 责编：杨煜 ]")."""
    line = line.strip()
    if line[:1] in _OPENING and (line[-1:] in _CLOSING or not any(c in line for c in _CLOSING)):
        line = line[1:].removesuffix(line[-1]) if line[-1:] in _CLOSING else line[1:]
    return line.strip()


def credit_fields(line: str) -> dict[str, str] | None:
    """The kept fields of a credit line (possibly none), or ``None`` when the line is prose."""
    text = _unbracket(line)
    original = _ORIGINAL_TITLE.match(text)
    if original:
        return {"original_title": _unbracket(original["value"] or original["quoted"])}
    reporter = _REPORTER.match(text)
    if reporter:
        credited = {"author": reporter["names"]}
        if reporter["source"]:
            credited["source"] = reporter["source"]
        return credited
    labels = list(_LABEL.finditer(text))
    if not labels or labels[0].start() != 0:
        return None
    fields: dict[str, str] = {}
    for label, following in zip(labels, [*labels[1:], None], strict=True):
        end = following.start() if following else len(text)
        value = _ID_SUFFIX.sub("", text[label.end() : end].strip(_SEPARATORS))
        if len(value) > _MAX_VALUE or _NOT_A_NAME.search(value):
            return None
        role = ROLES[label["label"] or label["short"]]
        if role == "author":
            value = _REPORTER_PREFIX.sub("", value)
        if role and value:
            fields.setdefault(role, value)
    return fields


def take_credits(lines: Sequence[str], *, head: int, tail: int) -> tuple[list[str], dict[str, str]]:
    """Remove credit lines among the first ``head`` and last ``tail`` lines; return their fields.

    Where a field appears twice, the first occurrence wins.
    """
    kept: list[str] = []
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        fields = credit_fields(line) if index < head or index >= len(lines) - tail else None
        if fields is None:
            kept.append(line)
            continue
        for name, value in fields.items():
            found.setdefault(name, value)
    return kept, found
