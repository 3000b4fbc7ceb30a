"""``newswatch crawl`` and ``newswatch outlets``: live crawling of configured outlets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from newswatch.cli.options import DbOption, JsonOption, state, storage_errors, with_db
from newswatch.cli.render import console, err_console, fail, print_json, table, text
from crawler.outlets import ConfigError, Outlet, format_duration, load_outlets
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
    """Hold each outlet's crawl lock, so a manual crawl never overlaps a scheduled one."""
    holder = locks.new_holder()
    held: list[str] = []
    try:
        for outlet in outlets:
            attempt = locks.acquire(db, locks.outlet_key(outlet.name), holder, lease_s=outlet.timeout_s)
            if not attempt.acquired:
                by = attempt.lease.describe() if attempt.lease else "another process"
                fail(f"outlet {outlet.name} is being crawled by {by}")
                raise typer.Exit(1)
            held.append(locks.outlet_key(outlet.name))
        yield
    finally:
        for name in held:
            locks.release(db, name, holder)


def crawl_overrides(outlets: list[Outlet]) -> dict[str, object]:
    """Settings a live crawl of ``outlets`` needs beyond the project defaults."""
    private_hosts = sorted({domain for o in outlets if o.allow_private for domain in o.allowed_domains})
    return {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": private_hosts}


def crawl(
    ctx: typer.Context,
    outlet_names: Annotated[list[str] | None, typer.Argument(metavar="[OUTLET]...", help="Outlets to crawl (default: every enabled one).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    run_id: Annotated[int | None, typer.Option("--run-id", hidden=True, help="Adopt this running run (used by the scheduler).")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", "-s", metavar="NAME=VALUE", help="Override a Scrapy or NEWSWATCH_* setting, as `scrapy crawl -s` does.")] = None,
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
    current.database()
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
