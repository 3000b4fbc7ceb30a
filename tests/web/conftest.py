"""A database for the web tests: the bundled seeds replayed through the real crawler (the CLI),
plus articles a parser could produce from hostile pages, and one edited article."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newswatch.web.app import create_app
from storage.db import Database, open_database, open_readonly
from storage.repository import Store
from tests.support.cli_helpers import FIXTURES, newswatch
from tests.support.factories import make_article

HOSTILE_TITLE = '<script>alert("title")</script>[bold red]RICH[/bold red] <img src=x onerror=alert(1)>'
HOSTILE_BODY = (
    "第一段 <script>document.title='pwned'</script> 结束。\n"
    '<img src=x onerror="alert(2)"> <a href="javascript:alert(3)">点我</a> [link=javascript:alert(4)]rich[/link]\n'
    "{{ 7*7 }} {% raw %} &lt;b&gt; &amp; \u202eevil"
)
EDIT_V1 = "俄罗斯国防部发表声明。普京表示双方合作顺利。\n周三，双方举行了会谈。北京方面没有回应。"
EDIT_V2 = "俄罗斯国防部发表声明。普京表示双方合作非常顺利并将继续。\n周三，双方举行了会谈。北京方面没有回应。"
EDIT_V3 = "俄罗斯国防部发表声明。普京表示双方合作非常顺利并将继续。\n周三, 双方举行了会谈。北京方面没有回应!"


@dataclass(frozen=True)
class Seeded:
    url: str
    path: Path
    hostile_id: int
    edited_id: int


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'newswatch.db'}"
    result = newswatch("replay", str(FIXTURES), "--db", url, env={"NEWSWATCH_HOME": str(folder)})
    assert result.returncode == 0, result.stdout + result.stderr
    db = open_database(url)
    store = Store(db)
    hostile = store.record(
        make_article("https://evil.example/x", outlet="portal", title=HOSTILE_TITLE, body=HOSTILE_BODY,
                     extra={"note": "<b>bold?</b>"}),
        None,
    )
    # The URL a page claims is stored as it came; it must never become a javascript: link.
    store.record(make_article("javascript:alert(5)//", outlet="portal", title="js url", body="有害的链接地址测试。"), None)
    edited = make_article("https://rfi.example/edited", title="普京谈合作", body=EDIT_V1)
    edited_id = store.record(edited, None).article_id
    store.record(make_article("https://rfi.example/edited", title="普京谈合作（更新）", body=EDIT_V2), None)
    store.record(make_article("https://rfi.example/edited", title="普京谈合作（更新）", body=EDIT_V3), None)
    db.dispose()
    # Watches over what is stored: one on the seeds and the edited article (with a secret in
    # its channel URL), one on the hostile article, whose title must stay text in their pages.
    for name, query, extra in (
        ("putin", "普京", ["--notify", "webhook+https://hooks.example.org/services/T000/SECRETPATHTOKEN123"]),
        ("hostile", "第一段", []),
    ):
        added = newswatch("watch", "add", name, "--query", query, "--backfill", *extra, "--db", url,
                          env={"NEWSWATCH_HOME": str(folder)})
        assert added.returncode == 0, added.stdout + added.stderr
    return Seeded(url=url, path=folder / "newswatch.db", hostile_id=hostile.article_id, edited_id=edited_id)


@pytest.fixture(scope="session")
def readonly_db(seeded: Seeded) -> Iterator[Database]:
    db = open_readonly(seeded.url)
    yield db
    db.dispose()


@pytest.fixture
def client(readonly_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(readonly_db)) as test_client:
        yield test_client


def chromium_paths() -> tuple[str, str] | None:
    browser = os.environ.get("NEWSWATCH_CHROMIUM", "/usr/bin/chromium")
    driver = os.environ.get("NEWSWATCH_CHROMEDRIVER", "/usr/bin/chromedriver")
    return (browser, driver) if Path(browser).exists() and Path(driver).exists() else None
