"""``newswatch runs``: what each crawl or replay did."""

from __future__ import annotations

from typing import Annotated

import typer

from crawler import settings
from crawler.stats import outcome_key, problem_key
from newswatch.cli.options import DbOption, IdArgument, JsonOption, with_db
from newswatch.cli.render import console, fail, print_json, table, text
from storage import queries
from storage.outcomes import ARTICLE_OUTCOMES, RUN_COUNTS
from storage.queries import RunDetail

app = typer.Typer(help="Inspect crawl and replay runs.", no_args_is_help=True)



def print_run_summary(detail: RunDetail, *, as_json: bool, per_outlet: bool = False) -> None:
    run = detail.run
    if as_json:
        print_json({**queries.run_dict(run, detail.counts), "problems": [
            {"kind": p.kind, "url": p.url, "reason": p.reason} for p in detail.problems
        ]})
        return
    style = {"finished": "green", "failed": "bold red", "interrupted": "yellow"}.get(run.status, "")
    console.print(
        text(f"run {run.id} ({run.mode}) ", "bold") + text(run.status, style)
        + text("  " + "  ".join(f"{name} {detail.counts[name]}" for name in RUN_COUNTS))
    )
    if run.message:
        console.print(text(run.message))
    if per_outlet and run.stats:
        result = table("outlet", "pages", *ARTICLE_OUTCOMES, "dropped", "errors", title="Summary")
        for outlet, stats in run.stats.items():
            result.add_row(
                text(outlet), text(stats.get("response_received_count", 0)),
                *(text(stats.get(outcome_key(name), 0)) for name in ARTICLE_OUTCOMES),
                text(stats.get(problem_key("dropped"), 0)), text(stats.get(problem_key("error"), 0)),
            )
        console.print(result)
    for problem in detail.problems:
        console.print(text(f"  {problem.kind}: ", "yellow") + text(f"{problem.url}: {problem.reason}"))


@app.command("list")
def list_runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=2**63 - 1, help="Newest N runs.")] = 20,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List runs, newest first; a run whose process is gone shows as `stale`. Example: newswatch runs list --limit 5"""
    with with_db(ctx, db).database(existing=True).read_session() as session:
        silent_after_s = settings.RUN_SILENT_AFTER_S
        rows = queries.list_runs(session, limit=limit, silent_after_s=silent_after_s)
        records = [{**queries.run_dict(row), "origin": row.origin} for row in rows]
    if as_json:
        print_json(records)
        return
    result = table("id", "origin", "mode", "outlets", "status", "started", "finished", *RUN_COUNTS, title="Runs")
    for record in records:
        result.add_row(
            text(record["id"]), text(record["origin"]), text(record["mode"]), text(",".join(record["outlets"])), text(record["status"]),
            text(record["started_at"][:19]), text((record["finished_at"] or "")[:19]),
            *(text(record["counts"][name]) for name in RUN_COUNTS),
        )
    console.print(result)


@app.command()
def show(ctx: typer.Context, run_id: IdArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show one run with its counts and every page it could not store. Example: newswatch runs show 1"""
    silent_after_s = settings.RUN_SILENT_AFTER_S
    with with_db(ctx, db).database(existing=True).read_session() as session:
        detail = queries.run_detail(session, run_id, silent_after_s=silent_after_s)
    if detail is None:
        fail(f"no run with id {run_id}")
        raise typer.Exit(1)
    print_run_summary(detail, as_json=as_json)
