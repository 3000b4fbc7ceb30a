"""Every query storage.record issues is an index search, never a scan of a whole table."""

from __future__ import annotations

from sqlalchemy import event

from storage.db import open_database
from storage.repository import Store
from tests.support.factories import BODY, make_article


def test_record_reads_through_indexes_only(sqlite_url: str) -> None:
    store = Store(open_database(sqlite_url))
    for i in range(30):  # enough rows that a scan would be a choice, not a necessity
        store.record(make_article(f"https://www.rfi.fr/cn/a/{i}", body=f"第{i}篇不同的报道。" * 20 + BODY), None)

    statements: list[tuple[str, object]] = []

    @event.listens_for(store.db.engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    store.record(make_article("https://www.rfi.fr/cn/a/3"), None)  # existing
    store.record(make_article("https://mirror.example.cn/copy", body=BODY + "\n转载。"), None)  # near copy
    store.record(make_article("https://mirror.example.cn/same", body=BODY), None)  # exact copy
    event.remove(store.db.engine, "before_cursor_execute", capture)

    assert len(statements) >= 5
    with store.db.engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            details = [row[3] for row in plan]
            scans = [d for d in details if d.startswith("SCAN") and ("articles" in d or "minhash_bands" in d)]
            assert not scans, (statement, details)
