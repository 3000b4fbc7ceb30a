"""``newswatch worker`` (a Celery crawl worker) and ``newswatch workers`` (who ran what)."""

from __future__ import annotations

import logging
import os
import socket
from typing import Annotated

import typer

from newswatch.cli.options import DbOption, JsonOption, with_db
from newswatch.cli.render import console, fail, print_json, table, text
from storage import queries


def worker(
    ctx: typer.Context,
    db: DbOption = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Crawls at once on this worker.")] = 2,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Worker name (default newswatch@HOST-PID), shown in `newswatch workers`.")] = None,
    broker: Annotated[str | None, typer.Option("--broker", envvar="NEWSWATCH_BROKER_URL", help="Broker URL (RabbitMQ amqp://…, Redis redis://…).", show_default=False)] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", "-s", metavar="NAME=VALUE", help="A setting for every crawl this worker runs (as `crawl -s`).")] = None,
) -> None:
    """Run crawl jobs from the broker until SIGTERM (a foreground service, one per machine).

    Each job crawls one outlet in a child process under the outlet's lease and records the
    run (with this worker's name) in the database, which must be the shared PostgreSQL.
    Jobs are acknowledged after their run is closed: a worker that dies leaves its job to
    another.  SIGTERM: no new job, running crawls finish; a second one stops them.
    Example: NEWSWATCH_BROKER_URL=amqp://guest:guest@broker// newswatch worker --db postgresql://… -c 4
    """
    from crawler import settings
    from crawler.outlets import ConfigError, format_duration, load_outlets
    from newswatch.scheduling.options import Options
    from newswatch.workers.app import app, celery_settings, queue_name
    from newswatch.workers.tasks import WorkerConfig, configure

    current = with_db(ctx, db)
    if not broker:
        fail("no broker: give --broker or set NEWSWATCH_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672//)")
        raise typer.Exit(2)
    current.database()
    if current.database().is_sqlite:
        console.print(text("warning: an SQLite database is only shared by workers on this machine; use PostgreSQL", "yellow"))
    crawl_args: list[str] = []
    for item in setting or ():
        if "=" not in item or not item.partition("=")[0].strip():
            fail(f"--set takes NAME=VALUE, got {item!r}")
            raise typer.Exit(2)
        crawl_args += ["-s", item]
    delivery_s = settings.NEWSWATCH_BROKER_DELIVERY_TIMEOUT_S
    try:
        outlets = load_outlets(current.config_path)
    except ConfigError as exc:
        fail(str(exc))
        raise typer.Exit(2) from None
    # A crawl longer than the broker's delivery timeout would be handed to a second worker
    # while the first still runs it.
    too_long = [f"{o.name} ({format_duration(o.timeout_s)})" for o in outlets.values() if o.enabled and o.timeout_s >= delivery_s]
    if too_long:
        fail(
            f"outlet timeout not below the broker delivery timeout ({format_duration(int(delivery_s))}): "
            f"{', '.join(too_long)}; lower the outlets' timeout or raise NEWSWATCH_BROKER_DELIVERY_TIMEOUT_S "
            "(and RabbitMQ's consumer_timeout)"
        )
        raise typer.Exit(2)
    if current.config_path:
        os.environ["NEWSWATCH_CONFIG"] = str(current.config_path.resolve())
    configure(WorkerConfig(
        current.db_url, current.config_path, Options.from_settings(), tuple(crawl_args), delivery_timeout_s=delivery_s,
    ))
    app.conf.update(celery_settings(broker, delivery_timeout_s=delivery_s))
    # The worker's own lines (ready, job received, run ended) are its service log.
    logging.root.setLevel(logging.INFO)
    for handler in logging.root.handlers:
        handler.setLevel(logging.INFO)
    node = name or f"newswatch@{socket.gethostname()}-{os.getpid()}"
    # Threads, not prefork: each job already runs its crawl in a child process, and a
    # worker killed outright then takes its crawls along (they die with their parent).
    app.worker_main([
        "worker", "--pool=threads", f"--concurrency={concurrency}", "-n", node, "-Q", queue_name(),
        "--without-mingle", "--without-gossip", "--loglevel=INFO",
    ])


def workers(
    ctx: typer.Context,
    db: DbOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N runs of workers.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Which worker ran which crawl (newest first). Example: newswatch workers --limit 20"""
    with with_db(ctx, db).database(existing=True).read_session() as session:
        rows = queries.worker_runs(session, limit=limit)
        records = [queries.run_dict(row) for row in rows]
    if as_json:
        print_json(records)
        return
    if not records:
        console.print(text("no run was made by a worker yet"))
        return
    result = table("worker", "run", "job", "outlets", "status", "started", "finished", "new", "unchanged", title="Worker runs")
    for r in records:
        result.add_row(
            text(r["worker"]), text(r["id"]), text(r["job_key"] or ""), text(",".join(r["outlets"])), text(r["status"]),
            text(r["started_at"][:19]), text((r["finished_at"] or "")[:19]),
            text(r["counts"]["new"]), text(r["counts"]["unchanged"]),
        )
    console.print(result)
