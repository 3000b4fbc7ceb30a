"""``newswatch items``: list, show, export, history and diff of stored articles."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, TextIO

import typer

from newswatch.cli.options import DbOption, IdArgument, JsonOption, output_errors, with_db
from newswatch.cli.render import console, fail, print_json, safe, table, text
from newswatch.spreadsheet import inert_row
from newswatch.terminal import json_inert
from newswatch.textdiff import sentence_diff, summarise
from storage import queries
from storage.db import Database
from storage.queries import ArticleRow

app = typer.Typer(help="Inspect stored articles.", no_args_is_help=True)


def print_articles(db: Database, *, limit: int | None, outlet: str | None = None, run_id: int | None = None) -> None:
    with db.read_session() as session:
        rows = queries.list_articles(session, outlet=outlet, limit=limit, run_id=run_id)
    result = table("id", "outlet", "published", "title", "body chars", "versions", "copy of", title="Stored articles")
    for row in rows:
        result.add_row(
            text(row.id), text(row.outlet), text(row.published_at or "—"), text(row.title),
            text(row.body_chars), text(row.version_count), text(row.duplicate_of or ""),
        )
    console.print(result)


@app.command("list")
def list_items(
    ctx: typer.Context,
    outlet: Annotated[str | None, typer.Option("--outlet", help="Only this outlet.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, max=2**63 - 1, help="At most N articles.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List stored articles. Example: newswatch items list --outlet bbc --limit 20"""
    database = with_db(ctx, db).database(existing=True)
    if as_json:
        with database.read_session() as session:
            rows = queries.list_articles(session, outlet=outlet, limit=limit)
            print_json([_summary(row) for row in rows])
        return
    print_articles(database, limit=limit, outlet=outlet)


def _summary(row: ArticleRow) -> dict[str, Any]:
    return {
        "id": row.id, "outlet": row.outlet, "url": row.url, "title": row.title,
        "published_at": row.published_at, "body_chars": row.body_chars,
        "version_count": row.version_count, "duplicate_of": row.duplicate_of,
    }


def _article_or_exit(session: Any, article_id: int) -> tuple[ArticleRow, str]:
    """The article and its current body, or a clean exit."""
    found = queries.get_article(session, article_id)
    if found is None:
        fail(f"no article with id {article_id}")
        raise typer.Exit(1)
    return found


@app.command()
def show(ctx: typer.Context, article_id: IdArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show one article with its text and metadata. Example: newswatch items show 3"""
    with with_db(ctx, db).database(existing=True).read_session() as session:
        record = queries.article_dict(*_article_or_exit(session, article_id))
    if as_json:
        print_json(record)
        return
    for key in queries.EXPORT_FIELDS:
        if key in ("body", "extra"):
            continue
        console.print(text(f"{key:15}", "bold") + text(record[key] if record[key] is not None else "—"))
    console.print(text("extra          ", "bold") + text(json.dumps(record["extra"], ensure_ascii=False)))
    console.print()
    console.print(text(record["body"]))


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[Literal["jsonl", "csv"], typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    outlet: Annotated[str | None, typer.Option("--outlet", help="Only this outlet.")] = None,
    db: DbOption = None,
) -> None:
    """Export all stored articles, one record per article. Example: newswatch items export --format csv -o a.csv"""
    if fmt == "csv" and output is None and sys.stdout.isatty():
        # CSV has no escape for ESC or a bidi override: a title could drive the terminal.
        fail("refusing to write CSV to a terminal (titles could carry terminal escapes): use --output FILE or a pipe")
        raise typer.Exit(2)
    database = with_db(ctx, db).database(existing=True)
    if output is None:
        _export(database, fmt, outlet, sys.stdout)
        return
    with output_errors(output), output.open("w", encoding="utf-8", newline="") as stream:
        _export(database, fmt, outlet, stream)


def _export(database: Database, fmt: str, outlet: str | None, stream: TextIO) -> None:
    with database.read_session() as session:
        if fmt == "csv":
            writer = csv.DictWriter(stream, fieldnames=list(queries.EXPORT_FIELDS))
            writer.writeheader()
            for row, body in queries.iter_articles(session, outlet=outlet):
                record = queries.article_dict(row, body)
                record["extra"] = json.dumps(record["extra"], ensure_ascii=False)
                writer.writerow(inert_row(record))
        else:
            for row, body in queries.iter_articles(session, outlet=outlet):
                line = json.dumps(queries.article_dict(row, body), ensure_ascii=False)
                stream.write(json_inert(line) + "\n")


@app.command()
def history(ctx: typer.Context, article_id: IdArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List the versions of an article and what changed in each. Example: newswatch items history 3"""
    with with_db(ctx, db).database(existing=True).read_session() as session:
        _article_or_exit(session, article_id)
        versions = queries.versions(session, article_id)
    entries: list[dict[str, Any]] = []
    previous = None
    for version in versions:
        change = (
            summarise(previous.title, version.title, previous.published_at, version.published_at, previous.body, version.body).describe()
            if previous else "first seen"
        )
        if version.event == "removed":
            change = f"removed: {version.event_reason} ({(version.event_evidence or {}).get('evidence', '')})"
        elif version.event == "restored":
            change = f"restored; {change}"
        entries.append({
            "version": version.version, "fetched_at": version.fetched_at.isoformat(),
            "recorded_at": version.recorded_at.isoformat(), "content_hash": version.content_hash,
            "title": version.title, "change": change, "run_id": version.run_id,
            # storage.changes: title/date/body, or cosmetic only (None: first or older version)
            "kind": version.changes, "event": version.event, "event_reason": version.event_reason,
            "event_evidence": version.event_evidence,
        })
        previous = version
    if as_json:
        print_json(entries)
        return
    result = table("version", "fetched", "kind", "title", "change", title=f"History of article {article_id}")
    for entry in entries:
        kind = entry["event"] or ",".join(entry["kind"] or []) or "—"
        result.add_row(text(entry["version"]), text(entry["fetched_at"]), text(kind), text(entry["title"]), text(entry["change"]))
    console.print(result)


@app.command()
def diff(
    ctx: typer.Context,
    article_id: IdArgument,
    v1: Annotated[int | None, typer.Argument(help="Older version (default: the one before V2).", min=1, max=2**31)] = None,
    v2: Annotated[int | None, typer.Argument(help="Newer version (default: the latest).", min=1, max=2**31)] = None,
    db: DbOption = None,
) -> None:
    """Show what changed between two versions, sentence by sentence. Example: newswatch items diff 3 1 2"""
    with with_db(ctx, db).database(existing=True).read_session() as session:
        _article_or_exit(session, article_id)
        versions = {v.version: v for v in queries.versions(session, article_id)}
    newest = max(versions)
    new_number = v2 or newest
    old_number = v1 or new_number - 1
    if old_number not in versions or new_number not in versions:
        fail(f"article {article_id} has versions 1..{newest}; cannot diff {old_number} and {new_number}")
        raise typer.Exit(1)
    old, new = versions[old_number], versions[new_number]
    console.print(text(f"article {article_id}: version {old_number} → {new_number}", "bold"))
    if old.title != new.title:
        console.print(text("- title: " + safe(old.title), "red"))
        console.print(text("+ title: " + safe(new.title), "green"))
    if old.published_at != new.published_at:
        console.print(text(f"- published: {old.published_at}", "red"))
        console.print(text(f"+ published: {new.published_at}", "green"))
    styles = {"-": "red", "+": "green", "@": "cyan", " ": ""}
    for line in sentence_diff(old.body, new.body):
        console.print(text(f"{line.tag if line.tag != '@' else ''}{' ' if line.tag in '+- ' else ''}{line.text}", styles[line.tag]))
