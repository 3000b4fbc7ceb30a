"""Printing scraped text safely: no Rich markup, no terminal escapes, no bidi tricks."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from newswatch.terminal import escape, json_inert

console = Console(highlight=False, soft_wrap=False)
# Errors stay one line whatever the terminal width (scripts grep them; tests count them).
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def safe(value: Any) -> str:
    """Text for a person: C0/C1 controls (but newline and tab) and bidi overrides escaped."""
    return escape(value, keep_lines=True)


def text(value: Any, style: str = "") -> Text:
    """A Rich Text that shows ``value`` literally: ``[red]`` stays ``[red]``."""
    return Text(safe(value), style=style)


def table(*columns: str, title: str | None = None) -> Table:
    result = Table(title=title, show_lines=False, highlight=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    return result


def print_json(payload: Any) -> None:
    """JSON on stdout for scripts: UTF-8, values exact, controls and bidi marks as ``\\u`` escapes."""
    sys.stdout.write(json_inert(json.dumps(payload, ensure_ascii=False, indent=2, default=str)) + "\n")


def fail(message: str) -> None:
    err_console.print(Text("error: ", style="bold red") + text(message))
