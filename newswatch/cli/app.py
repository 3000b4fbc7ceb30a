"""Root command: global options, ``info`` and ``replay``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from crawler import __version__
from newswatch.cli import crawl as crawl_cli
from newswatch.cli import items, runs, schedule, web
from newswatch.cli.options import AppState, DbOption, JsonOption, storage_errors, with_db
from newswatch.cli.render import console, fail, print_json, table, text
from crawler.outlets import config_path
from crawler.settings import data_dir, default_database_url

app = typer.Typer(
    name="newswatch",
    help="Monitor how a story is covered across outlets: crawl, replay, inspect.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
app.add_typer(items.app, name="items")
app.add_typer(runs.app, name="runs")
app.add_typer(crawl_cli.outlets_app, name="outlets")
app.add_typer(schedule.app, name="schedule")
app.add_typer(schedule.scheduler_app, name="scheduler")
app.command()(crawl_cli.crawl)
app.command()(web.web)

#: The bundled fixtures: replayed when `newswatch replay` is given no directory.
BUNDLED_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@app.callback()
def root(
    ctx: typer.Context,
    db: DbOption = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", envvar="NEWSWATCH_CONFIG", help="Outlets config (TOML; default: the shipped one).", show_default=False),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's log.")] = False,
) -> None:
    """newswatch: a monitoring crawler for news."""
    ctx.obj = AppState(db_url=db or default_database_url(), config_path=config, verbose=verbose)
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Scrapy resets the root logger's level when a crawl starts; the handler's holds.
    for handler in logging.root.handlers:
        handler.setLevel(level)


@app.command()
def info(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Where newswatch keeps its data, and what it runs with."""
    current = with_db(ctx, db)
    facts = {
        "version": __version__,
        "database": current.db_url,
        "default_database": default_database_url(),
        "data_dir": str(data_dir()),
        "fixtures": str(BUNDLED_FIXTURES),
        "config": str(current.config_path or config_path()),
    }
    if as_json:
        print_json(facts)
        return
    for key, value in facts.items():
        console.print(text(f"{key:18}") + text(value))


@app.command()
def replay(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Argument(help="A directory laid out as <outlet>/<file> (default: the bundled fixtures)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay saved pages offline through the real spiders, pipelines and storage.

    Example: newswatch replay fixtures/
    """
    from newswatch.runs import replay as run_replay

    current = with_db(ctx, db)
    directory = directory or BUNDLED_FIXTURES
    if not directory.is_dir():
        fail(f"{directory} is not a directory")
        raise typer.Exit(2)
    current.database()  # fail early, with the reason, on a bad --db
    overrides = {"NEWSWATCH_DB": current.db_url, "LOG_LEVEL": "INFO" if current.verbose else "WARNING"}
    with storage_errors():
        detail = run_replay(directory, overrides=overrides)
    runs.print_run_summary(detail, as_json=as_json)
    if as_json is False and detail.counts["new"] + detail.counts["changed"] + detail.counts["unchanged"] + detail.counts["duplicate"]:
        items.print_articles(current.database(), limit=None, run_id=detail.run.id)
    failed = detail.run.status != "finished" or detail.counts["dropped"] or detail.counts["error"]
    raise typer.Exit(1 if failed else 0)
