"""/search.json with outlet, lang, from and to answers what the unfiltered search answers, filtered
by each hit's own fields, through the read-only web app on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newswatch.web.app import create_app
from storage.db import open_database, open_readonly
from tests.support.search_seed import WORDS, seed


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    db = open_database(db_url)
    seed(db)
    db.dispose()
    readonly = open_readonly(db_url)
    with TestClient(create_app(readonly)) as test_client:
        yield test_client
    readonly.dispose()


def _hits(client: TestClient, **params: str) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = []
    extra: dict[str, object] = {}
    while True:
        response = client.get("/search.json", params={**params, **extra})
        assert response.status_code == 200, response.text
        page = response.json()
        hits += page["hits"]
        if page["next_after"] is None:
            return hits
        extra = {"after": page["next_after"]}


def test_filtered_search_equals_the_unfiltered_search_filtered_by_its_hits(client: TestClient) -> None:
    nonempty = 0
    for word in WORDS:
        unfiltered = _hits(client, q=word)
        assert unfiltered, word
        for outlet, lang, (start, end) in itertools.product(
            ["", "rfi-zh", "央视"], ["", "en"], [("", ""), ("2024-01-01", ""), ("", "2024-02-29"), ("2024-03-09", "2024-03-10")]
        ):
            expected = [
                h["id"] for h in unfiltered
                if (not outlet or h["outlet"] == outlet) and (not lang or h["language"] == lang)
                and (not start or (h["published_at"] or "")[:10] >= start)
                and (not end or (h["published_at"] is not None and h["published_at"][:10] <= end))
            ]
            found = _hits(client, q=word, outlet=outlet, lang=lang, **{"from": start, "to": end})
            assert [h["id"] for h in found] == expected, (word, outlet, lang, start, end)
            nonempty += bool(expected)
    assert nonempty > 20  # not a comparison of empty lists
