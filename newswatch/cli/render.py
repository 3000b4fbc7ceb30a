"""Printing scraped text safely: no Rich markup, no terminal escapes, no bidi tricks."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

# C0/C1 controls (but newline and tab), DEL, and the bidi overrides/isolates that
# can make a title display as something it is not.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False)


def safe(value: Any) -> str:
    return _UNSAFE.sub("", "" if value is None else str(value))


def text(value: Any, style: str = "") -> Text:
    """A Rich Text that shows ``value`` literally: ``[red]`` stays ``[red]``."""
    return Text(safe(value), style=style)


def table(*columns: str, title: str | None = None) -> Table:
    result = Table(title=title, show_lines=False, highlight=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    return result


def print_json(payload: Any) -> None:
    """JSON on stdout, UTF-8 and unescaped, for scripts."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str) -> None:
    err_console.print(Text("error: ", style="bold red") + text(message))
