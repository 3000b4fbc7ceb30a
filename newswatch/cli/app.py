"""Root command: global options, ``info`` and ``replay``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from crawler import __version__
from crawler.outlets import config_path
from crawler.settings import data_dir, default_database_url
from newswatch import terminal
from newswatch.cli import crawl as crawl_cli
from newswatch.cli import fixtures, health, items, runs, schedule, watch, web, workers  # noqa: F401  (health adds `outlets health`)
from newswatch.cli.options import (
    AppState,
    DbOption,
    JsonOption,
    RootDbOption,
    storage_errors,
    with_db,
)
from newswatch.cli.render import console, fail, print_json, text
from storage.outcomes import ARTICLE_OUTCOMES

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
app.add_typer(fixtures.app, name="fixtures")
app.add_typer(schedule.scheduler_app, name="scheduler")
app.add_typer(watch.app, name="watch")
app.command()(crawl_cli.crawl)
app.command()(workers.worker)
app.command()(workers.workers)
app.command()(web.web)

#: The bundled fixtures: replayed when `newswatch replay` is given no directory.
BUNDLED_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@app.callback()
def root(
    ctx: typer.Context,
    db: RootDbOption = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", envvar="NEWSWATCH_CONFIG", help="Outlets config (TOML; default: the shipped one).", show_default=False),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Scrapy's log.")] = False,
) -> None:
    """newswatch: a monitoring crawler for news."""
    ctx.obj = AppState(db_url=db or default_database_url(), config_path=config, verbose=verbose)
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level)
    # Log lines carry URLs, titles and file names from the web: escaped in formatting.
    terminal.install(logging.root.handlers, "%(levelname)s %(name)s: %(message)s")
    # Scrapy resets the root logger's level when a crawl starts; the handler's holds.
    for handler in logging.root.handlers:
        handler.setLevel(level)


@app.command()
def info(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Where newswatch keeps its data, and what it runs with."""
    from crawler.deadletter import spool_dir  # imports the store: only this command needs it

    current = with_db(ctx, db)
    facts = {
        "version": __version__,
        "database": current.db_url,
        "default_database": default_database_url(),
        "data_dir": str(data_dir()),
        "dead_letter": str(spool_dir(current.db_url)),
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
    if directory is None and not BUNDLED_FIXTURES.is_dir():
        fail(
            f"no directory given, and the bundled fixtures ({BUNDLED_FIXTURES}) are not here: "
            "they ship with a checkout of the repository, not with an installed package; "
            "give one: newswatch replay DIR"
        )
        raise typer.Exit(2)
    directory = directory or BUNDLED_FIXTURES
    if not directory.is_dir():
        fail(f"{directory} is not a directory")
        raise typer.Exit(2)
    current.database()  # fail early, with the reason, on a bad --db
    overrides = {"NEWSWATCH_DB": current.db_url, "LOG_LEVEL": "INFO" if current.verbose else "WARNING"}
    with storage_errors():
        detail = run_replay(directory, overrides=overrides)
    runs.print_run_summary(detail, as_json=as_json)
    recorded = sum(detail.counts[name] for name in ARTICLE_OUTCOMES)
    if not as_json and recorded:
        items.print_articles(current.database(), limit=None, run_id=detail.run.id)
    failed = detail.run.status != "finished" or detail.counts["dropped"] or detail.counts["error"]
    raise typer.Exit(1 if failed else 0)
