"""/search's kind filter, relevance pages and the facet window, with their JSON and CSV twins,
on a database of its own (more matches of one word than a page holds)."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newswatch.web.app import create_app
from storage import search_queries
from storage.db import open_database, open_readonly
from storage.repository import Store
from tests.support.factories import make_article

#: Matches of 沙丘 (more than two pages of 50); 7 of them video pages, 4 picture posts.
MATCHES = 120


def _body(i: int, times: int) -> str:
    rng = random.Random(i)
    own = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(90))  # no two articles alike
    return own + "\n" + "沙丘上的风很大。" * times + "\n" + "没有别的内容。"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("paging") / "newswatch.db"
    db = open_database(f"sqlite:///{path}")
    store = Store(db)
    for i in range(MATCHES):
        extra = {"page_kind": "video"} if i % 17 == 3 else {"page_kind": "image_post"} if i % 29 == 5 else {}
        # 1-6 mentions: relevance ranks differ from the newest-first order.
        store.record(make_article(f"https://rfi.example/dune/{i}", title=f"沙丘 {i}", body=_body(i, 1 + i * 7 % 6),
                                  extra=extra), None)
    db.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def client(url: str) -> Iterator[TestClient]:
    db = open_readonly(url)
    with TestClient(create_app(db)) as test_client:
        yield test_client
    db.dispose()


def _pages(client: TestClient, **params: object) -> tuple[list[int], list[dict]]:  # type: ignore[type-arg]
    ids: list[int] = []
    pages = []
    extra: dict[str, object] = {}
    while True:
        page = client.get("/search.json", params={**params, **extra}).json()
        pages.append(page)
        ids += [h["id"] for h in page["hits"]]
        if page["next_after"] is None:
            return ids, pages
        extra = {"after": page["next_after"]}
        if page["next_offset"] is not None:
            extra["offset"] = page["next_offset"]


def test_kind_filter_in_json_html_and_csv(client: TestClient) -> None:
    videos = [i for i in range(MATCHES) if i % 17 == 3]
    posts = [i for i in range(MATCHES) if i % 29 == 5 and i % 17 != 3]
    video = client.get("/search.json", params={"q": "沙丘", "kind": "video"}).json()
    assert video["kind"] == "video" and video["total"] == len(videos)
    assert sorted(int(h["title"].split()[1]) for h in video["hits"]) == videos
    image = client.get("/search.json", params={"q": "沙丘", "kind": "image_post"}).json()
    assert sorted(int(h["title"].split()[1]) for h in image["hits"]) == posts
    article = client.get("/search.json", params={"q": "沙丘", "kind": "article"}).json()
    assert article["total"] == MATCHES - len(videos) - len(posts)
    # Without a word the filter still applies (the list page).
    assert client.get("/search.json", params={"kind": "video"}).json()["total"] == len(videos)
    rows = list(csv.DictReader(io.StringIO(client.get("/search.csv", params={"q": "沙丘", "kind": "video"}).text)))
    assert sorted(int(r["title"].split()[1]) for r in rows) == videos
    html = client.get("/search", params={"q": "沙丘", "kind": "video"}).text
    assert '<option value="video" selected>' in html and html.count('class="hit"') == len(videos)
    assert client.get("/search.json", params={"kind": "listing"}).status_code == 422


def test_relevance_pages_cover_the_ranked_window_once(client: TestClient, url: str) -> None:
    ids, pages = _pages(client, q="沙丘", sort="relevance")
    assert len(pages) == 3 and [p["offset"] for p in pages] == [0, 50, 100]
    assert len(ids) == len(set(ids)) == MATCHES
    with open_readonly(url).read_session() as session:
        ranked = search_queries.search(session, search_queries.SearchFilters(q="沙丘", sort="relevance", limit=200))
    assert ids == [h.id for h in ranked.hits]  # the pages are the one ranking, cut in three
    assert ids != sorted(ids, reverse=True)  # and it is not the newest-first order
    html = client.get("/search", params={"q": "沙丘", "sort": "relevance"}).text
    assert 'offset=50' in html and f'after={pages[0]["next_after"]}' in html
    rows = list(csv.DictReader(io.StringIO(client.get("/search.csv", params={"q": "沙丘", "sort": "relevance"}).text)))
    assert [int(r["id"]) for r in rows] == ids
    assert client.get("/search.json", params={"q": "沙丘", "sort": "relevance", "offset": 5000}).status_code == 422


def test_relevance_pages_stay_put_while_articles_arrive(client: TestClient, url: str) -> None:
    first = client.get("/search.json", params={"q": "沙丘", "sort": "relevance"}).json()
    writer = open_database(url)
    try:
        # A new best match arrives between page 1 and page 2.
        new = Store(writer).record(make_article("https://rfi.example/dune/new", title="沙丘 沙丘",
                                                body=_body(999, 30)), None)
        second = client.get("/search.json", params={"q": "沙丘", "sort": "relevance", "after": first["next_after"],
                                                     "offset": first["next_offset"]}).json()
        assert new.article_id not in [h["id"] for h in second["hits"]]
        assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}
        # A fresh search sees it first.
        fresh = client.get("/search.json", params={"q": "沙丘", "sort": "relevance"}).json()
        assert fresh["hits"][0]["id"] == new.article_id
    finally:
        writer.dispose()


def test_facets_say_when_they_count_only_the_newest_matches(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = client.get("/search.json", params={"q": "沙丘"}).json()
    assert whole["facets_window"] is None and sum(f["count"] for f in whole["facets"]["outlet"]) == whole["total"]
    assert "facets-window" not in client.get("/search", params={"q": "沙丘"}).text
    monkeypatch.setattr(search_queries, "FACET_WINDOW", 40)
    windowed = client.get("/search.json", params={"q": "沙丘"}).json()
    assert windowed["facets_window"] == 40
    assert sum(f["count"] for f in windowed["facets"]["outlet"]) == 40
    assert "Counts of the newest 40 matches" in client.get("/search", params={"q": "沙丘"}).text
