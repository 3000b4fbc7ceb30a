"""Routes through the ASGI test client: HTML and JSON twins, escaping, links, headers, read-only."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from newswatch.web.app import CSP, create_app, safe_href
from newswatch.web.server import BindRefused, check_bind
from tests.web.conftest import EDIT_V2, HOSTILE_TITLE, Seeded


def test_search_finds_the_rfi_and_bbc_seeds_for_putin(client: TestClient) -> None:
    result = client.get("/search.json", params={"q": "普京"}).json()
    outlets = {hit["outlet"] for hit in result["hits"]}
    assert {"rfi", "bbc"} <= outlets
    rfi = next(h for h in result["hits"] if h["title"] == "张又侠今见普京")
    assert any(piece["hit"] and piece["text"] == "普京" for piece in rfi["snippet"])
    assert {f["value"] for f in result["facets"]["outlet"]} >= {"rfi", "bbc"}
    html = client.get("/search", params={"q": "普京"}).text
    assert "<mark>普京</mark>" in html and "张又侠今见普京" in html


def test_traditional_query_finds_simplified_text(client: TestClient) -> None:
    result = client.get("/search.json", params={"q": "軍事"}).json()
    assert "张又侠今见普京" in {h["title"] for h in result["hits"]}
    # The snippet shows the article's own characters, marked.
    rfi = next(h for h in result["hits"] if h["title"] == "张又侠今见普京")
    assert any(p["hit"] and p["text"] == "军事" for p in rfi["snippet"])


def test_json_by_accept_header_equals_the_json_route(client: TestClient) -> None:
    by_suffix = client.get("/search.json", params={"q": "普京"}).json()
    by_accept = client.get("/search", params={"q": "普京"}, headers={"Accept": "application/json"}).json()
    assert by_accept == by_suffix


def test_keyset_pages_cover_everything_once(client: TestClient) -> None:
    everything = client.get("/search.json").json()
    assert everything["total"] >= 8
    seen: list[int] = []
    after = None
    while True:
        params = {"after": after} if after else {}
        page = client.get("/search.json", params=params).json()
        seen += [h["id"] for h in page["hits"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == everything["total"]


def test_csv_and_jsonl_downloads(client: TestClient) -> None:
    response = client.get("/search.csv", params={"q": "普京"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {"rfi", "bbc"} <= {r["outlet"] for r in rows}
    lines = client.get("/search.jsonl", params={"q": "普京"}).text.splitlines()
    assert len(lines) == len(rows) and all(json.loads(line)["id"] for line in lines)


def test_hostile_article_is_text_everywhere(client: TestClient, seeded: Seeded) -> None:
    html = client.get(f"/articles/{seeded.hostile_id}").text
    assert "<script>alert" not in html and "<script>document" not in html
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "[bold red]RICH[/bold red]" in html  # Rich markup is just text
    assert 'href="javascript:' not in html
    # No template evaluation of scraped text (a bare "49" may be in a timestamp's seconds).
    assert "{{ 7*7 }} {% raw %}" in html and "49 {% raw %}" not in html
    # A bidi override cannot reorder the page: shown as an escape, in the page and in a snippet.
    assert "\u202e" not in html and "\\u202eevil" in html
    found = client.get("/search", params={"q": "evil"}).text
    assert "\u202e" not in found and "\\u202e" in found
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html  # extra metadata escaped too
    search_html = client.get("/search", params={"q": "第一段"}).text
    assert "&lt;script&gt;" in search_html and "<script>" not in search_html
    assert HOSTILE_TITLE in client.get(f"/articles/{seeded.hostile_id}.json").json()["title"]
    raw = client.get(f"/articles/{seeded.hostile_id}/text.txt")
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"


def test_only_http_urls_become_links(client: TestClient) -> None:
    hits = client.get("/search.json", params={"q": "有害"}).json()["hits"]
    html = client.get(f"/articles/{hits[0]['id']}").text
    assert "javascript:alert(5)//" in html and 'href="javascript' not in html
    rfi = client.get("/search.json", params={"q": "张又侠"}).json()["hits"][0]
    page = client.get(f"/articles/{rfi['id']}").text
    assert 'rel="noopener noreferrer"' in page
    assert safe_href("https://a.example/x") == "https://a.example/x"
    for bad in ("javascript:alert(1)", " JavaScript:x", "data:text/html,x", "//evil.example", "fixture:rfi/x", "http:/x"):
        assert safe_href(bad) is None, bad


def test_every_response_carries_a_csp_without_scripts(client: TestClient, seeded: Seeded) -> None:
    for path in ("/", "/search?q=普京", f"/articles/{seeded.edited_id}", "/runs", "/outlets", "/stories?q=普京",
                 "/nothing-here", "/search.json"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CSP, path
        assert "script-src" not in CSP and "'unsafe-inline'" not in CSP
        if response.headers["content-type"].startswith("text/html"):
            assert "<script" not in response.text.lower(), path


def test_history_diff_and_patch_show_the_one_edited_sentence(client: TestClient, seeded: Seeded) -> None:
    history = client.get(f"/articles/{seeded.edited_id}/history.json").json()
    assert [v["version"] for v in history["versions"]] == [1, 2, 3]
    assert [v["cosmetic"] for v in history["versions"]] == [False, False, True]
    diff = client.get(f"/articles/{seeded.edited_id}/diff/1..2.json").json()
    changed = [row for row in diff["rows"] if row["op"] != "equal" and row["op"] != "skip"]
    assert len(changed) == 1
    assert "".join(s["text"] for s in changed[0]["new"]) == "普京表示双方合作非常顺利并将继续。"
    assert [s["text"] for s in changed[0]["new"] if s["op"] == "insert"] == ["非常", "并将继续"]
    assert diff["fields"] == [{"name": "title", "old": "普京谈合作", "new": "普京谈合作（更新）"}]
    html = client.get(f"/articles/{seeded.edited_id}/diff/1..2").text
    assert "<ins>非常</ins>" in html and "<ins>并将继续</ins>" in html
    word = client.get(f"/articles/{seeded.edited_id}/diff/1..2.json", params={"mode": "word"}).json()
    assert "".join(s["text"] for s in word["rows"][0]["old"] if s["op"] != "delete") == EDIT_V2
    patch = client.get(f"/articles/{seeded.edited_id}/diff/1..2.patch")
    assert patch.headers["content-type"].startswith("text/plain")
    assert "+普京表示双方合作非常顺利并将继续。" in patch.text and "-普京表示双方合作顺利。" in patch.text
    assert client.get(f"/articles/{seeded.edited_id}/diff/1..9.json").status_code == 404


def test_stories_show_first_publisher_and_editors(client: TestClient, seeded: Seeded) -> None:
    stories = client.get("/stories.json", params={"q": "普京"}).json()["stories"]
    edited = next(s for s in stories if any(m["id"] == seeded.edited_id for m in s["members"]))
    member = next(m for m in edited["members"] if m["id"] == seeded.edited_id)
    assert member["version_count"] == 3 and member["last_edited_at"]
    assert edited["first_publisher"] == "rfi"
    one = client.get("/stories.json", params={"article": seeded.edited_id}).json()["stories"]
    assert [s["root"] for s in one] == [seeded.edited_id]


def test_runs_and_outlets(client: TestClient) -> None:
    runs = client.get("/runs.json").json()["runs"]
    assert runs and runs[0]["mode"] == "replay" and runs[0]["counts"]["new"] == 5
    detail = client.get(f"/runs/{runs[0]['id']}.json").json()
    assert detail["run"]["status"] == "finished"
    assert client.get("/runs.csv").text.startswith("id,status")
    outlets = {o["name"]: o for o in client.get("/outlets.json").json()["outlets"]}
    assert outlets["rfi"]["last_run"]["id"] == runs[0]["id"] and outlets["rfi"]["health"] == "ok"
    assert outlets["rfi"]["articles"] >= 2
    assert "rfi" in client.get("/outlets").text


@pytest.mark.parametrize(
    ("path", "status"),
    [("/articles/999999", 404), ("/articles/999999.json", 404), ("/runs/424242", 404),
     ("/search?from=yesterday", 400), ("/search.json?after=x", 422), ("/search?sort=random", 422),
     ("/search.json?q=%22%22", 400), ("/search.json?outlet=a%00b", 400),
     ("/articles/9223372036854775808.json", 422), ("/articles/1/diff/1..99999999999.json", 422)],
)
def test_bad_requests_get_one_line_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    if path.endswith(".json") or ".json?" in path:
        assert set(response.json()) == {"error"}
    else:
        assert "Traceback" not in response.text and "<h1>Error" in response.text


def test_no_route_writes(client: TestClient) -> None:
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/search").status_code == 405
    for route in client.app.routes:  # type: ignore[attr-defined]
        assert getattr(route, "methods", {"GET"}) <= {"GET", "HEAD"}, route


def test_token_is_required_when_set(readonly_db) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(readonly_db, token="s3cret")) as guarded:
        assert guarded.get("/search.json").status_code == 401
        assert guarded.get("/search.json", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert guarded.get("/search.json", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        swap = guarded.get("/runs?token=s3cret", follow_redirects=False)
        assert swap.status_code == 303 and swap.headers["location"] == "/runs"
        assert guarded.get("/runs").status_code == 200  # the cookie now carries it


def test_binding_beyond_loopback_needs_a_token() -> None:
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("localhost", None)
    with pytest.raises(BindRefused, match="NEWSWATCH_WEB_TOKEN"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "token")


def test_templates_autoescape_whatever_their_name(client: TestClient) -> None:
    env = client.app.state.templates.env  # type: ignore[attr-defined]
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert all(name.endswith(".html") for name in env.list_templates())


@pytest.mark.postgres
def test_pages_on_a_read_only_postgresql_database(pg_url: str) -> None:
    from storage.db import open_database, open_readonly
    from storage.repository import Store
    from tests.support.factories import make_article

    writer = open_database(pg_url)
    store = Store(writer)
    first = store.record(make_article("https://rfi.example/pg", title="會見", body="普京今天在莫斯科會見了軍事代表團。" * 3), None)
    store.record(make_article("https://rfi.example/pg", title="會見", body="普京今天在莫斯科會見了軍事代表團和外交官。" * 3), None)
    writer.dispose()
    db = open_readonly(pg_url)
    try:
        with TestClient(create_app(db)) as pg_client:
            hits = pg_client.get("/search.json", params={"q": "军事"}).json()["hits"]
            assert [h["id"] for h in hits] == [first.article_id]
            assert any(p["hit"] and p["text"] == "軍事" for p in hits[0]["snippet"])
            assert pg_client.get("/search", params={"q": "普京", "sort": "relevance"}).status_code == 200
            diff = pg_client.get(f"/articles/{first.article_id}/diff/1..2.json").json()
            assert any(s["op"] == "insert" and s["text"] == "和外交官" for r in diff["rows"] for s in r["new"])
            assert pg_client.get("/outlets.json").status_code == 200
        with pytest.raises(Exception, match="read-only"), db.read_session() as session:
            session.execute(text("DELETE FROM articles"))
    finally:
        db.dispose()


ATOM = "{http://www.w3.org/2005/Atom}"


def test_watch_feed_is_the_cli_feed_byte_for_byte_and_valid_atom(client: TestClient, seeded: Seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from lxml import etree

    from tests.support.cli_helpers import newswatch

    written = tmp_path / "putin.atom"
    result = newswatch("watch", "feed", "putin", "--output", str(written), "--db", seeded.url)
    assert result.returncode == 0, result.stderr
    response = client.get("/watches/putin/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.content == written.read_bytes()
    assert client.get("/watches/putin/feed.atom").content == response.content  # stable

    # RFC 4287: the feed and each entry have one id, title and updated; the feed an author.
    root = etree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert len(root.findall(f"{ATOM}{required}")) == 1, required
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == len(client.get("/watches/putin.json").json()["matches"]) >= 3
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == len(entries)
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{required}")) == 1, required
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        link = entry.find(f"{ATOM}link")  # no rel means rel="alternate" (RFC 4287 4.2.7.2)
        assert link is not None and link.get("rel", "alternate") == "alternate" and link.get("href")

    hostile = etree.fromstring(client.get("/watches/hostile/feed.atom").content)
    titles = [e.findtext(f"{ATOM}title") for e in hostile.findall(f"{ATOM}entry")]
    assert any('<script>alert("title")</script>' in t for t in titles)  # text in the XML, not markup

    for missing in ("/watches/nobody/feed.atom", "/watches/nobody", "/watches/nobody.json"):
        assert client.get(missing).status_code == 404, missing
    assert newswatch("watch", "feed", "nobody", "--db", seeded.url).returncode == 1


def test_watches_list_and_page_mask_secrets_and_escape_titles(client: TestClient, seeded: Seeded) -> None:
    listed = {w["name"]: w for w in client.get("/watches.json").json()["watches"]}
    assert set(listed) == {"putin", "hostile"}
    putin = listed["putin"]
    assert putin["query"] == "普京" and putin["feed"] == "/watches/putin/feed.atom" and putin["matches"] >= 3
    assert putin["deliveries"]["pending"] == putin["matches"]  # one channel, nothing sent from here
    html = client.get("/watches").text
    assert 'href="/watches/putin/feed.atom"' in html and 'href="/watches/putin"' in html
    detail = client.get("/watches/putin.json").json()
    assert detail["watch"] == putin
    assert seeded.edited_id in {m["article_id"] for m in detail["matches"]}
    assert client.get("/watches/putin", headers={"Accept": "application/json"}).json() == detail
    for page in ("/watches", "/watches.json", "/watches/putin", "/watches/putin.json"):
        text = client.get(page).text
        assert "SECRETPATHTOKEN123" not in text, page
        assert "secret" not in client.get("/watches/putin.json").json()["watch"]
    hostile = client.get("/watches/hostile").text
    assert "<script>alert" not in hostile and "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in hostile
