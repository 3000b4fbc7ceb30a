"""Nothing scraped drives a terminal: escaping for people, escaped JSON for programs.

A URL from a feed, a title or a file name can hold ESC, BEL, C1 controls or bidi
overrides.  Printed raw they can recolour, retitle or rewrite a terminal, or make a
line read as something it is not.  Text for people shows each such character as a
visible escape (``\\x1b``, ``\\u202e``); JSON for programs keeps every value exact,
written as JSON ``\\u`` escapes so that it stays inert on a terminal too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# C0 controls, DEL, C1 controls, the bidi marks, embeddings, overrides and isolates,
# and the line/paragraph separators some terminals and editors treat as newlines.
_UNSAFE_CHARS = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_UNSAFE_CHARS}]")
#: The same, but newline and tab kept: multi-line text (an article body, a table cell).
_UNSAFE_KEEP_LINES = re.compile(f"[{_UNSAFE_CHARS.replace(chr(0) + '-' + chr(0x1f), chr(0) + '-' + chr(8) + chr(0xb) + '-' + chr(0x1f))}]")
# In JSON text (already escaped by json.dumps for C0, quotes and backslashes) only
# these can still appear raw; outside strings JSON has none of them.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: Bidi embeddings, overrides and isolates: they reorder the text after them (a file name
#: "txt.exe" shown as "exe.txt", a title spilling into the page around it), so pages for
#: people show them as escapes too, as the terminal does.
_BIDI_REORDERING = re.compile("[\u202a-\u202e\u2066-\u2069]")


def visible_reordering(text: str) -> str:
    """``text`` with every bidi embedding, override and isolate shown as an escape."""
    return _BIDI_REORDERING.sub(_visible, text)


def escape(value: Any, *, keep_lines: bool = False) -> str:
    """``value`` as text with every terminal-driving character shown as an escape."""
    pattern = _UNSAFE_KEEP_LINES if keep_lines else _UNSAFE
    return pattern.sub(_visible, "" if value is None else str(value))


def json_inert(encoded: str) -> str:
    """JSON text with the characters json.dumps leaves raw written as ``\\uXXXX``: same value."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", encoded)


class SafeFormatter(logging.Formatter):
    """Formats a log record with its message escaped: one record, one line, no escapes.

    The message (with its arguments: URLs, titles, file names) may not break the
    line; a traceback, which is ours, keeps its lines but loses any control character.
    """

    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg, safe.args = escape(record.getMessage()), None
        return escape(super().format(safe), keep_lines=True)


def install(handlers: list[logging.Handler], fmt: str, datefmt: str | None = None) -> SafeFormatter:
    """Give every handler the escaping formatter, and route ``warnings`` through logging."""
    formatter = SafeFormatter(fmt, datefmt)
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.captureWarnings(True)
    return formatter
