"""``newswatch crawl`` and ``newswatch outlets``: live crawling of configured outlets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Annotated

import typer

from crawler.outlets import ConfigError, Outlet, format_duration, load_outlets, parse_duration
from newswatch.cli.options import DbOption, JsonOption, state, storage_errors, with_db
from newswatch.cli.render import console, err_console, fail, print_json, table, text
from storage import locks
from storage.db import Database

outlets_app = typer.Typer(help="The outlets in the config.", no_args_is_help=True)


def configured_outlets(ctx: typer.Context) -> dict[str, Outlet]:
    """The outlets config, or a clean exit naming the key and line that is wrong."""
    try:
        return load_outlets(state(ctx).config_path)
    except ConfigError as exc:
        fail(str(exc))
        raise typer.Exit(2) from None


@contextmanager
def outlet_locks(db: Database, outlets: list[Outlet]) -> Iterator[None]:
    """Hold each outlet's lease for the whole crawl, so a manual crawl never overlaps a scheduled one."""
    # Imported here: the lease rule brings the whole store, which `outlets list` never needs.
    from newswatch.outlet_leases import OutletBusy, outlet_lease

    holder = locks.new_holder()
    try:
        with ExitStack() as held:
            for outlet in outlets:
                held.enter_context(
                    outlet_lease(db, outlet.name, holder=holder, lease_s=outlet.timeout_s, keep_renewed=True)
                )
            yield
    except OutletBusy as busy:
        fail(str(busy))
        raise typer.Exit(1) from None


def crawl_overrides(outlets: list[Outlet]) -> dict[str, object]:
    """Settings a live crawl of ``outlets`` needs beyond the project defaults."""
    private_hosts = sorted({domain for o in outlets if o.allow_private for domain in o.allowed_domains})
    return {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": private_hosts}


def project_download_timeout() -> int:
    from newswatch.runs import project_settings

    return project_settings().getint("DOWNLOAD_TIMEOUT")


def run_deadline(timeout: str | None, outlets: list[Outlet]) -> int:
    """Seconds a run may take: ``--timeout``, else the longest timeout of its outlets."""
    if timeout is None:
        return max(o.timeout_s for o in outlets)
    try:
        seconds = parse_duration(timeout)
    except ValueError as exc:
        fail(f"--timeout: {exc}")
        raise typer.Exit(2) from None
    if seconds < 1:
        fail(f"--timeout: {timeout!r} must be at least 1s")
        raise typer.Exit(2)
    return seconds


def crawl(
    ctx: typer.Context,
    outlet_names: Annotated[list[str] | None, typer.Argument(metavar="[OUTLET]...", help="Outlets to crawl (default: every enabled one).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    run_id: Annotated[int | None, typer.Option("--run-id", hidden=True, help="Adopt this running run (used by the scheduler).")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", "-s", metavar="NAME=VALUE", help="Override a Scrapy or NEWSWATCH_* setting, as `scrapy crawl -s` does.")] = None,
    timeout: Annotated[str | None, typer.Option("--timeout", help="Deadline for the whole run, e.g. 20m (default: the longest `timeout` of the outlets crawled); the run then ends `interrupted` with what it stored.", show_default=False)] = None,
    enqueue: Annotated[bool, typer.Option("--enqueue", help="Send one crawl job per outlet to the workers (NEWSWATCH_BROKER_URL) instead of crawling here; --timeout is then each job's hard limit, as a scheduled crawl's.")] = False,
) -> None:
    """Crawl outlets live: discover, fetch, extract, deduplicate and store.

    Example: newswatch crawl rfi_cn bbc_zhongwen
    """
    from newswatch.cli.runs import print_run_summary
    from newswatch.runs import SpiderJob, run_jobs

    current = with_db(ctx, db)
    outlets = configured_outlets(ctx)
    if outlet_names:
        unknown = [name for name in outlet_names if name not in outlets]
        if unknown:
            fail(f"no outlet named {', '.join(unknown)} (known: {', '.join(outlets)})")
            raise typer.Exit(2)
        chosen = [outlets[name] for name in outlet_names]
    else:
        chosen = [o for o in outlets.values() if o.enabled]
    if not chosen:
        fail("no enabled outlet to crawl")
        raise typer.Exit(2)
    deadline_s = run_deadline(timeout, chosen)
    current.database()
    if enqueue:
        if setting:  # the job carries no settings: the worker runs it with its own
            fail("--set applies to a crawl on this machine; give settings to the workers (`newswatch worker -s NAME=VALUE`)")
            raise typer.Exit(2)
        if disabled := [o.name for o in chosen if not o.enabled]:  # a worker skips them
            fail(f"outlet {', '.join(disabled)} is disabled in the config (enabled = false): a worker would not crawl it")
            raise typer.Exit(2)
        enqueue_crawls(current.db_url, chosen, as_json=as_json, timeout_s=None if timeout is None else deadline_s)
        return
    if not os.environ.get("NEWSWATCH_CONTACT"):
        err_console.print(text(
            "warning: NEWSWATCH_CONTACT is not set: site owners cannot reach you from the User-Agent", "yellow"
        ))
    overrides = {
        "NEWSWATCH_DB": current.db_url,
        "NEWSWATCH_PROGRESS_S": 2.0,
        "LOG_LEVEL": "INFO" if current.verbose else "WARNING",
        **crawl_overrides(chosen),
    }
    if run_id is None or timeout is not None:
        # A manual run stops itself at its deadline; under the scheduler (--run-id) the
        # parent enforces the outlet's timeout and kills a run that overstays it.
        overrides["CLOSESPIDER_TIMEOUT"] = deadline_s
        # Scrapy lets requests in flight finish after the deadline: a download may not
        # outlast the whole run's deadline either (so the run ends by at most twice it).
        overrides["DOWNLOAD_TIMEOUT"] = min(deadline_s, project_download_timeout())
    if current.config_path:
        overrides["NEWSWATCH_CONFIG"] = str(current.config_path)
    for item in setting or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"--set takes NAME=VALUE, got {item!r}")
            raise typer.Exit(2)
        overrides[name.strip()] = value
    jobs = [SpiderJob(o.spider, o.spider_kwargs()) for o in chosen]
    with storage_errors():
        if run_id is not None:  # started by the scheduler, which holds the outlets' locks
            detail = run_jobs(jobs, mode="live", overrides=overrides, run_id=run_id)
        else:
            with outlet_locks(current.database(), chosen):
                detail = run_jobs(jobs, mode="live", overrides=overrides)
    print_run_summary(detail, as_json=as_json, per_outlet=True)
    raise typer.Exit(0 if detail.run.status == "finished" else 1)


def enqueue_crawls(db_url: str, chosen: list[Outlet], *, as_json: bool, timeout_s: int | None = None) -> None:
    """``crawl --enqueue``: one job per outlet, due now, for whichever worker takes it (``--timeout``: each job's)."""
    from datetime import UTC, datetime

    from newswatch.workers.tasks import BrokerError, enqueue

    sent = []
    for outlet in chosen:
        try:
            key = enqueue(
                db_url, outlet.name, due_at=datetime.now(UTC), dispatcher=f"cli:{locks.new_holder()}", timeout_s=timeout_s,
            )
        except BrokerError as exc:
            fail(str(exc))
            raise typer.Exit(2) from None
        sent.append({"outlet": outlet.name, "job_key": key})
    if as_json:
        print_json(sent)
        return
    for entry in sent:
        console.print(text(f"enqueued {entry['job_key']}" if entry["job_key"] else f"{entry['outlet']}: already enqueued this second"))


@outlets_app.command("list")
def list_outlets(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List configured outlets and their schedules. Example: newswatch outlets list"""
    outlets = configured_outlets(ctx)
    if as_json:
        print_json([
            {"name": o.name, "spider": o.spider, "enabled": o.enabled, "schedule": o.schedule.describe(),
             "start_urls": list(o.start_urls), "allowed_domains": list(o.allowed_domains),
             "timeout": format_duration(o.timeout_s)}
            for o in outlets.values()
        ])
        return
    result = table("outlet", "spider", "enabled", "schedule", "start URLs", title="Outlets")
    for o in outlets.values():
        result.add_row(text(o.name), text(o.spider), text("yes" if o.enabled else "no"),
                       text(o.schedule.describe()), text("\n".join(o.start_urls)))
    console.print(result)
