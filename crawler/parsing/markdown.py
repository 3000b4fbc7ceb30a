"""Markdown article snapshots to plain lines: images dropped, links reduced to their text."""

from __future__ import annotations

import re

_IMAGE = re.compile(r"!\[[^\]\n]*\]\((?:\\.|[^)\\\n])*\)")
_LINK = re.compile(r"\[(?P<text>[^\]\n]*)\]\((?P<href>(?:\\.|[^)\\\n])*)\)")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_ATX = re.compile(r"^#{1,6}[ \t]+(?P<title>.+?)[ \t#]*$")
_SETEXT_RULE = re.compile(r"^[ \t]*(?:={3,}|-{3,})[ \t]*$")
_ONLY_MARKERS = re.compile(r"^[\s*_~>#-]*$")


def unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


def links(line: str) -> list[tuple[str, str]]:
    """(text, href) for each Markdown link on a line, escapes removed."""
    return [(unescape(m["text"]), unescape(m["href"])) for m in _LINK.finditer(line)]


def heading(markdown: str) -> str | None:
    """The first setext (``Title\\n===``) or ATX (``# Title``) heading."""
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        if index and _SETEXT_RULE.match(line) and lines[index - 1].strip():
            return render_line(lines[index - 1])
        match = _ATX.match(line)
        if match:
            return render_line(match["title"])
    return None


def render_line(line: str) -> str:
    """One Markdown line as the text a reader sees; ``javascript:`` links vanish."""
    line = _IMAGE.sub("", line)
    line = _LINK.sub(
        lambda m: "" if unescape(m["href"]).lower().startswith("javascript:") else m["text"], line
    )
    line = _EMPHASIS.sub(r"\2", line)
    atx = _ATX.match(line)
    if atx:
        line = atx["title"]
    # "**![img](…)**": once the image is gone only emphasis markers are left.
    return "" if _ONLY_MARKERS.match(line) else unescape(line).strip()


def render(markdown: str) -> list[str]:
    """Every line rendered, heading underlines removed, empty lines dropped."""
    out: list[str] = []
    for line in markdown.splitlines():
        if _SETEXT_RULE.match(line):
            continue
        text = render_line(line)
        if text:
            out.append(text)
    return out
