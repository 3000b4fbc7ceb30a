"""``newswatch schedule`` (one job per outlet, kept in the database) and ``newswatch scheduler run``.

The ``schedule`` commands work whether or not a scheduler is running: they write the
job store, and a running ``scheduler run`` picks the change up within its poll
interval (NEWSWATCH_SCHEDULER_POLL_S).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crawler.outlets import ConfigError, format_duration, load_outlets, parse_duration
from newswatch.cli.crawl import configured_outlets
from newswatch.cli.options import AppState, DbOption, JsonOption, with_db
from newswatch.cli.render import console, fail, print_json, table, text

if TYPE_CHECKING:
    from apscheduler.job import Job
    from apscheduler.schedulers.background import BackgroundScheduler

app = typer.Typer(
    help="Scheduled crawls: one job per outlet, kept in the database (no scheduler needs to run).",
    no_args_is_help=True,
)
scheduler_app = typer.Typer(help="The service that runs the scheduled crawls.", no_args_is_help=True)

OutletArgument = Annotated[str, typer.Argument(metavar="OUTLET", help="An outlet of the config.")]
TimeoutOption = Annotated[
    str | None,
    typer.Option("--timeout", help="Hard limit on one crawl, e.g. 20m (default: the outlet's timeout).", show_default=False),
]


def _seconds(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        fail(f"{option}: {exc}")
        raise typer.Exit(2) from None


def _timeout_seconds(value: str | None) -> int | None:
    """--timeout: a hard limit of at least 1s (0 would silently mean the outlet's own)."""
    seconds = _seconds(value, "--timeout")
    if seconds == 0:
        fail(f"--timeout: {value!r} must be at least 1s")
        raise typer.Exit(2)
    return seconds


def _options(**overrides: Any) -> Any:
    from newswatch.scheduling import Options

    return Options.from_settings(**overrides)


def _stored_config(current: AppState) -> str | None:
    """The config a job remembers: the one named by --config/NEWSWATCH_CONFIG, else the scheduler's."""
    return str(current.config_path.resolve()) if current.config_path else None


@contextlib.contextmanager
def _jobs(ctx: typer.Context, db: str | None) -> Iterator[tuple[AppState, BackgroundScheduler]]:
    from newswatch.scheduling import job_store

    current = with_db(ctx, db)
    database = current.database()
    with job_store(database, _options()) as scheduler:
        yield current, scheduler


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _job_record(job: Job) -> dict[str, Any]:
    from newswatch.scheduling import describe_trigger, outlet_of

    jitter = getattr(job.trigger, "jitter", None)
    timeout_s = job.kwargs.get("timeout_s")
    return {
        "outlet": outlet_of(job.id) or job.id,
        "job_id": job.id,
        "schedule": describe_trigger(job.trigger),
        "jitter": format_duration(int(jitter)) if jitter else None,
        "timeout": format_duration(int(timeout_s)) if timeout_s else None,
        "state": "paused" if job.next_run_time is None else "scheduled",
        "next_run_at": _when(job.next_run_time),
    }


def _unrestorable(outlet: str, reason: str) -> None:
    fail(
        f"job crawl:{outlet} cannot be restored ({reason}); `newswatch schedule sync` or "
        f"`newswatch scheduler run` re-registers it, `newswatch schedule remove {outlet}` deletes it"
    )
    raise typer.Exit(1)


def _job_or_exit(scheduler: BackgroundScheduler, outlet: str) -> Job:
    from newswatch.scheduling import find_job

    job, broken = find_job(scheduler, outlet)
    if broken:
        _unrestorable(outlet, broken)
    if job is None:
        fail(f"outlet {outlet} has no scheduled job (see `newswatch schedule list`)")
        raise typer.Exit(1)
    return job


@app.command()
def add(
    ctx: typer.Context,
    outlet: OutletArgument,
    every: Annotated[str | None, typer.Option("--every", help="Interval, e.g. 30m, 6h, 1d.", show_default=False)] = None,
    cron: Annotated[
        str | None, typer.Option("--cron", help="Crontab line in UTC, e.g. '*/15 * * * *' (0 or 7 = Sunday).", show_default=False)
    ] = None,
    jitter: Annotated[str | None, typer.Option("--jitter", help="Random delay added to each start, e.g. 2m.", show_default=False)] = None,
    timeout: TimeoutOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Schedule an outlet's crawl, or change its schedule (a paused job stays paused).

    Without --every/--cron the outlet's schedule in the config is used.
    Example: newswatch schedule add rfi_cn --every 30m --jitter 2m
    """
    # The values are checked before the job store (APScheduler's scheduler, the store) is
    # loaded: a refused call costs only the config and the trigger module.
    from newswatch.scheduling.triggers import make_trigger

    outlets = configured_outlets(ctx)
    if outlet not in outlets:
        fail(f"no outlet named {outlet} (known: {', '.join(outlets)})")
        raise typer.Exit(2)
    configured = outlets[outlet]
    if not configured.enabled:
        fail(f"outlet {outlet} is disabled in the config (enabled = false)")
        raise typer.Exit(2)
    if every and cron:
        fail("give --every or --cron, not both")
        raise typer.Exit(2)
    every_s, jitter_s, timeout_s = _seconds(every, "--every"), _seconds(jitter, "--jitter"), _timeout_seconds(timeout)
    if every_s == 0:
        fail("--every: must be at least 1s")
        raise typer.Exit(2)
    if not every_s and not cron:
        if not (configured.schedule.every_s or configured.schedule.cron):
            fail(f"give --every (e.g. 30m) or --cron (e.g. '*/15 * * * *'): outlet {outlet} has no schedule in the config")
            raise typer.Exit(2)
        every_s, cron = configured.schedule.every_s, configured.schedule.cron
        jitter_s = configured.schedule.jitter_s if jitter_s is None else jitter_s
    try:
        trigger = make_trigger(every_s=every_s, cron=cron, jitter_s=jitter_s or 0)
    except ValueError as exc:
        fail(f"--cron: {exc}")
        raise typer.Exit(2) from None
    from newswatch.scheduling import put_job

    with _jobs(ctx, db) as (current, scheduler):
        job, action = put_job(
            scheduler, outlet, trigger, options=_options(), config_path=_stored_config(current), timeout_s=timeout_s
        )
        record = {**_job_record(job), "action": action}
    if as_json:
        print_json(record)
        return
    next_run = record["next_run_at"] or "paused"
    console.print(text(f"{record['job_id']}: {record['schedule']} ({action}); next run {next_run}"))


@app.command("list")
def list_jobs(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List scheduled crawls: schedule, next run (UTC), last run and its status.

    Example: newswatch schedule list --json
    """
    from crawler import settings
    from newswatch.scheduling import outlet_of, scheduled_outlets, store_of
    from storage import locks, queries

    with _jobs(ctx, db) as (current, scheduler):
        records = [_job_record(job) for job in scheduler.get_jobs()]
        for job_id, reason in store_of(scheduler).broken.items():
            records.append({
                "outlet": outlet_of(job_id) or job_id, "job_id": job_id, "schedule": None, "jitter": None,
                "timeout": None, "state": "broken", "next_run_at": None, "problem": reason,
            })
        database = current.database()
        names = [record["outlet"] for record in records]
        runs = locks.last_runs(database, names)
        now = datetime.now(UTC)
        leases = {lease.name: lease for lease in locks.leases(database, "outlet:") if lease.expires_at > now}
        try:
            outlets = load_outlets(current.config_path)
            wanted = scheduled_outlets(outlets)
        except ConfigError:
            outlets, wanted = None, {}
    for record in sorted(records, key=lambda r: r["outlet"]):
        name = record["outlet"]
        record.setdefault("problem", None)
        run = runs.get(name)
        record["last_run"] = None if run is None else {
            "id": run.id, "status": queries.status_now(run, silent_after_s=settings.RUN_SILENT_AFTER_S),
            "origin": run.origin,
            "started_at": _when(run.started_at), "finished_at": _when(run.finished_at), "message": run.message,
        }
        lease = leases.get(locks.outlet_key(name))
        record["crawling"] = None if lease is None else {"holder": lease.holder, "run_id": lease.run_id}
        if outlets is None:
            record["config"] = "config error"
        elif name not in outlets:
            record["config"] = "not in config"
        elif not outlets[name].enabled:
            record["config"] = "disabled"
        else:
            record["config"] = "scheduled" if name in wanted else "unscheduled"
    records.sort(key=lambda r: r["outlet"])
    if as_json:
        print_json(records)
        return
    if not records:
        console.print(text("no scheduled crawls (add one: newswatch schedule add OUTLET --every 30m)"))
        return
    result = table("outlet", "schedule", "state", "next run (UTC)", "last run", "config", title="Scheduled crawls")
    for record in records:
        run = record["last_run"]
        last = "-" if run is None else f"{run['id']} {run['status']} {(run['finished_at'] or run['started_at'])[:19]}"
        if record["crawling"]:  # a manual crawl's lease names no run
            crawling_run = record["crawling"]["run_id"]
            last += f" (crawling: run {crawling_run})" if crawling_run else " (crawling)"
        state = record["state"] if not record["problem"] else f"broken: {record['problem']}"
        result.add_row(
            text(record["outlet"]), text(record["schedule"] or "-"), text(state),
            text((record["next_run_at"] or "-")[:19]), text(last), text(record["config"]),
        )
    console.print(result)


@app.command()
def pause(ctx: typer.Context, outlet: OutletArgument, db: DbOption = None) -> None:
    """Stop starting an outlet's scheduled crawls (a running one finishes). Example: newswatch schedule pause rfi_cn"""
    with _jobs(ctx, db) as (_current, scheduler):
        job = _job_or_exit(scheduler, outlet)
        scheduler.pause_job(job.id)
    console.print(text(f"{job.id}: paused"))


@app.command()
def resume(ctx: typer.Context, outlet: OutletArgument, db: DbOption = None) -> None:
    """Resume a paused outlet's schedule from now. Example: newswatch schedule resume rfi_cn"""
    from newswatch.scheduling import describe_trigger

    with _jobs(ctx, db) as (_current, scheduler):
        job = _job_or_exit(scheduler, outlet)
        try:
            resumed = scheduler.resume_job(job.id)
        except (OverflowError, ValueError) as exc:  # a schedule stored before durations were bounded
            fail(f"{job.id}: its schedule ({describe_trigger(job.trigger)}) has no next run ({exc}); "
                 f"give it a new one with `newswatch schedule add {outlet} --every ...`")
            raise typer.Exit(2) from None
    if resumed is None:
        console.print(text(f"{job.id}: its schedule has no future run; removed"))
        return
    console.print(text(f"{job.id}: resumed; next run {_when(resumed.next_run_time)}"))


@app.command()
def remove(ctx: typer.Context, outlet: OutletArgument, db: DbOption = None) -> None:
    """Delete an outlet's scheduled job (even one that cannot be restored). Example: newswatch schedule remove rfi_cn"""
    from newswatch.scheduling import remove_job

    with _jobs(ctx, db) as (_current, scheduler):
        removed = remove_job(scheduler, outlet)
    if not removed:
        fail(f"outlet {outlet} has no scheduled job (see `newswatch schedule list`)")
        raise typer.Exit(1)
    console.print(text(f"crawl:{outlet}: removed"))


@app.command()
def sync(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Make the jobs match the schedules in the outlets config.

    Enabled outlets with `every` or `cron` get a job (a job whose schedule did not change
    keeps its next run); jobs of outlets that are disabled, unscheduled or gone are removed.
    Example: newswatch --config outlets.toml schedule sync
    """
    outlets = configured_outlets(ctx)
    from newswatch.scheduling import sync_jobs

    with _jobs(ctx, db) as (current, scheduler):
        try:
            report = sync_jobs(scheduler, outlets, options=_options(), config_path=_stored_config(current))
        except ValueError as exc:
            fail(str(exc))
            raise typer.Exit(2) from None
    records = [{"outlet": name, "action": action, "detail": detail} for name, action, detail in report]
    if as_json:
        print_json(records)
        return
    result = table("outlet", "action", "schedule / reason", title="Schedule sync")
    for record in records:
        result.add_row(text(record["outlet"]), text(record["action"]), text(record["detail"]))
    console.print(result)


@app.command("run-now")
def run_now(ctx: typer.Context, outlet: OutletArgument, timeout: TimeoutOption = None, db: DbOption = None) -> None:
    """Crawl an outlet now, as the scheduler would: under its lock, in a child process, with its timeout.

    Exit status 0 if the run finished; 1 if it failed or the outlet is being crawled.
    Example: newswatch schedule run-now rfi_cn
    """
    outlets = configured_outlets(ctx)
    if outlet not in outlets:
        fail(f"no outlet named {outlet} (known: {', '.join(outlets)})")
        raise typer.Exit(2)
    current = with_db(ctx, db)
    timeout_s = _timeout_seconds(timeout)
    from newswatch.scheduling import Service, _setup_logging

    _setup_logging()
    service = Service(current.database(), current.db_url, current.config_path, _options())
    status = service.crawl(outlet, timeout_s=timeout_s)
    raise typer.Exit(0 if status == "finished" else 1)


@scheduler_app.command("run")
def run(
    ctx: typer.Context,
    db: DbOption = None,
    grace: Annotated[
        str | None,
        typer.Option("--grace", help="On SIGINT/SIGTERM, how long running crawls may take to finish (default 30s).", show_default=False),
    ] = None,
    misfire_grace: Annotated[
        str | None,
        typer.Option("--misfire-grace", help="How late a scheduled run may start and still run (default 1h).", show_default=False),
    ] = None,
    poll: Annotated[
        float | None, typer.Option("--poll", min=0.1, help="Seconds between job store re-reads (default 2).", show_default=False)
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Crawls at once (default 4).", show_default=False)] = None,
    wait: Annotated[bool, typer.Option("--wait", help="If another scheduler runs on this database, stand by and take over when it stops.")] = False,
    sync: Annotated[bool, typer.Option("--sync", help="First make the jobs match the config (as `schedule sync`).")] = False,
    dispatch: Annotated[str, typer.Option("--dispatch", help="process: run each crawl here; celery: send it to the workers (NEWSWATCH_BROKER_URL).")] = "process",
) -> None:
    """Run the scheduled crawls until SIGINT/SIGTERM (a foreground service).

    Each crawl runs in its own process under a per-outlet lock and the outlet's timeout.
    On SIGINT/SIGTERM no new crawl starts and running ones get --grace to finish; a
    second signal stops them at once.  Exit status 0 after a clean stop, 1 if another
    scheduler holds this database, 2 if a job cannot be restored.
    Under systemd use KillMode=mixed, so that only the scheduler receives SIGTERM.
    Example: newswatch scheduler run --grace 60s
    """
    if dispatch not in ("process", "celery"):
        fail(f"--dispatch must be process or celery, got {dispatch!r}")
        raise typer.Exit(2)
    if dispatch == "celery" and not os.environ.get("NEWSWATCH_BROKER_URL"):
        fail("--dispatch celery needs NEWSWATCH_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672//)")
        raise typer.Exit(2)
    current = with_db(ctx, db)
    database = current.database()
    options = _options(
        shutdown_grace_s=_seconds(grace, "--grace"), misfire_grace_s=_seconds(misfire_grace, "--misfire-grace"),
        poll_s=poll, workers=workers,
    )
    from newswatch.scheduling.serve import serve

    raise typer.Exit(serve(database, current.db_url, current.config_path, options, wait=wait, sync=sync, dispatch=dispatch))
