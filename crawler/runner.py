"""Run spiders in this process as one CrawlRun: the engine behind ``replay`` and ``crawl``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from crawler.deadletter import import_spool
from crawler.extensions import dedup_policy, json_safe_stats, run_status, shared_database
from crawler.replay import REPLAY_SETTINGS, ReplayProblem, outlet_folders
from storage.queries import RunDetail, run_detail
from storage.repository import Store

logger = logging.getLogger(__name__)

# The worse of two statuses wins when several crawlers share one run.
_SEVERITY = {"finished": 0, "interrupted": 1, "failed": 2}


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def spider_names(settings: Settings | None = None) -> list[str]:
    return sorted(SpiderLoader.from_settings(settings or project_settings()).list())


@dataclass(frozen=True)
class SpiderJob:
    """One crawler of the run: a spider and the arguments it is started with."""

    spider: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def outlet(self) -> str:
        return str(self.kwargs.get("outlet", self.spider))


def run_jobs(
    jobs: Sequence[SpiderJob],
    *,
    mode: str,
    overrides: dict[str, Any] | None = None,
    problems: Sequence[ReplayProblem] = (),
    run_id: int | None = None,
) -> RunDetail:
    """Run ``jobs`` concurrently in one Scrapy process, recorded as one CrawlRun.

    ``run_id`` adopts a run a parent process created (the scheduler does, so it can
    close the run itself if this process is killed).
    """
    settings = project_settings(overrides)
    db = shared_database(settings["NEWSWATCH_DB"])
    store = Store(db, dedup_policy(settings))
    store.mark_interrupted_runs()
    if run_id is None:
        run_id = store.start_run(
            spiders=[job.spider for job in jobs], outlets=[job.outlet for job in jobs], mode=mode
        )
    else:
        store.adopt_run(run_id)
    import_spool(store, run_id)
    for problem in problems:
        logger.warning("dropped %s: %s", problem.location, problem.reason)
        store.record_problem(run_id, kind="dropped", url=problem.location, reason=problem.reason)
    settings.set("NEWSWATCH_RUN_ID", run_id, priority="cmdline")
    # The CLI owns logging (one handler, its level); Scrapy adds none of its own.
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")

    status, message, stats = "finished", None, {}
    try:
        process = CrawlerProcess(settings)
        crawlers = []
        for job in jobs:
            crawler = process.create_crawler(job.spider)
            process.crawl(crawler, **job.kwargs)
            crawlers.append(crawler)
        process.start()
        for crawler, job in zip(crawlers, jobs, strict=True):
            crawler_stats = json_safe_stats(crawler.stats.get_stats())
            stats[job.outlet] = crawler_stats
            this_status, this_message = run_status(
                crawler_stats.get("finish_reason", "not started"), crawler_stats
            )
            if _SEVERITY[this_status] > _SEVERITY[status]:
                status, message = this_status, f"{job.outlet}: {this_message}"
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        message = f"{type(exc).__name__}: {exc}"
        store.finish_run(run_id, status=status, message=message, stats=stats)
        raise
    store.finish_run(run_id, status=status, message=message, stats=stats)
    with db.read_session() as session:
        detail = run_detail(session, run_id)
    assert detail is not None
    return detail


def replay(directory: Path, *, overrides: dict[str, Any] | None = None) -> RunDetail:
    """Replay every ``<outlet>/<file>`` under ``directory`` through the real spiders."""
    settings = project_settings(overrides)
    known = set(spider_names(settings))
    jobs: list[SpiderJob] = []
    problems: list[ReplayProblem] = []
    for folder in outlet_folders(directory):
        if folder.name in known:
            jobs.append(SpiderJob(folder.name))
        else:
            problems.append(
                ReplayProblem(
                    str(folder),
                    f"folder {folder.name!r} names no spider (spiders: {', '.join(sorted(known))})",
                )
            )
    replay_overrides = {
        **REPLAY_SETTINGS,
        **(overrides or {}),
        "NEWSWATCH_REPLAY_DIR": str(directory.resolve()),
    }
    return run_jobs(jobs, mode="replay", overrides=replay_overrides, problems=problems)
