"""``newswatch outlets health``: field coverage of each outlet's parsed records over the last runs."""

from __future__ import annotations

from typing import Annotated

import typer

from newswatch.cli.crawl import outlets_app
from newswatch.cli.options import DbOption, JsonOption, with_db
from newswatch.cli.render import console, print_json, table, text
from storage import queries


@outlets_app.command("health")
def health(
    ctx: typer.Context,
    outlet: Annotated[str | None, typer.Argument(help="Only this outlet.")] = None,
    runs: Annotated[int, typer.Option("--runs", min=2, help="Look at the newest N runs.")] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Share of records with a title, date, full body and author per run; flags an outlet whose
    latest run fell well below its own history (a template change). Exit 1 when one is flagged.

    Example: newswatch outlets health rfi_cn --runs 20
    """
    # Imported here: crawler.parsing brings every parser (and trafilatura) with it.
    from crawler.parsing.health import HEALTH_FIELDS
    from newswatch.health import outlet_health

    with with_db(ctx, db).database(existing=True).read_session() as session:
        rows = [(run.id, run.started_at.isoformat(), run.stats) for run in queries.list_runs(session, limit=runs)]
    found = outlet_health(rows)
    if outlet is not None:
        found = {name: entry for name, entry in found.items() if name == outlet}
    if as_json:
        print_json([
            {"outlet": e.outlet,
             "runs": [{"run": r.run_id, "started_at": r.started_at, "articles": r.articles, **r.shares} for r in e.runs],
             "dropped": {name: {"usual": usual, "latest": latest} for name, (usual, latest) in e.drops.items()}}
            for e in found.values()
        ])  # fmt: skip
    else:
        view = table("outlet", "run", "articles", *HEALTH_FIELDS, title="Parser health")
        for entry in found.values():
            for index, run in enumerate(entry.runs):
                cells = []
                for name in HEALTH_FIELDS:
                    dropped = index == 0 and name in entry.drops
                    cells.append(text(f"{run.shares[name]:.0%}" + (" ↓" if dropped else ""), "bold red" if dropped else ""))
                view.add_row(text(entry.outlet if index == 0 else ""), text(run.run_id), text(run.articles), *cells)
        console.print(view)
        for entry in found.values():
            for name, (usual, latest) in entry.drops.items():
                console.print(text(f"{entry.outlet}: {name} coverage fell to {latest:.0%} (usually {usual:.0%})", "red"))
        if not found:
            console.print(text("no run has parsed records" + (f" of {outlet}" if outlet else "")))
    raise typer.Exit(1 if any(entry.drops for entry in found.values()) else 0)
