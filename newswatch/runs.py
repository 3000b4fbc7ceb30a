"""The one owner of a run: open the database, start or adopt the run, record, finish.

Every way of crawling goes through here: ``newswatch replay``, ``newswatch crawl``, the
scheduler's child process (which adopts the run its parent created, so that the parent
can close it if the child is killed) and a plain ``scrapy crawl`` (through the
:class:`RunRecorder` extension, which starts a run of its own when nobody handed it one).

The hand-off from :func:`run_jobs` to the extension inside the same process is one
documented setting, ``NEWSWATCH_RUN_ID``.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from twisted.internet import task

from crawler.deadletter import import_spool
from crawler.parsepool import close_shared_pool
from crawler.replay import REPLAY_SETTINGS, ReplayProblem, folder_problem, outlet_folders
from crawler.signals import page_problem
from crawler.stats import LOST, STORAGE_ERROR, problem_key
from newswatch.alerts import after_run
from newswatch.databases import database
from storage import lifecycle, validators
from storage.db import Database
from storage.dedup import DedupPolicy
from storage.queries import RunDetail, run_detail
from storage.repository import Outcome, Store

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

    from crawler.items import Article

logger = logging.getLogger(__name__)

#: The Scrapy settings module of the application: crawler.settings plus this run owner.
SETTINGS_MODULE = "newswatch.scrapy_settings"

# The worse of two statuses wins when several crawlers share one run.
_SEVERITY = {"finished": 0, "interrupted": 1, "failed": 2}

def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule(SETTINGS_MODULE, priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def spider_names(settings: Settings | None = None) -> list[str]:
    return sorted(SpiderLoader.from_settings(settings or project_settings()).list())


def dedup_policy(settings: Any) -> DedupPolicy:
    threshold = settings.get("NEWSWATCH_NEAR_DUPLICATE_THRESHOLD")
    return DedupPolicy() if threshold in (None, "") else DedupPolicy(threshold=float(threshold))


class Run:
    """One CrawlRun row of this process, from its start (or adoption) to its end."""

    def __init__(self, store: Store, run_id: int) -> None:
        self.store = store
        self.run_id = run_id

    @classmethod
    def handle(cls, settings: Any, run_id: int) -> Run:
        """A run another owner in this process already started: record into it, never close it."""
        return cls(Store(database(settings["NEWSWATCH_DB"]), dedup_policy(settings)), run_id)

    @classmethod
    def begin(
        cls,
        settings: Any,
        *,
        spiders: Sequence[str],
        outlets: Sequence[str],
        mode: str,
        adopt: int | None = None,
        problems: Iterable[ReplayProblem] = (),
    ) -> Run:
        """Mark dead runs interrupted, start (or adopt) this one, import the dead-letter spool."""
        store = Store(database(settings["NEWSWATCH_DB"]), dedup_policy(settings))
        store.mark_interrupted_runs()
        if adopt is None:
            run_id = store.start_run(spiders=list(spiders), outlets=list(outlets), mode=mode)
        else:
            store.adopt_run(adopt)
            run_id = adopt
        run = cls(store, run_id)
        keep_s = settings.get("NEWSWATCH_VALIDATORS_KEEP_S")
        if keep_s not in (None, ""):
            validators.prune(store.db, older_than_s=float(keep_s))
        import_spool(store, run_id)
        for problem in problems:
            logger.warning("dropped %s: %s", problem.location, problem.reason)
            run.record_problem(problem.location, problem.reason, kind="dropped")
        return run

    def record(self, article: Article) -> Outcome:
        return self.store.record(article, self.run_id, article.fingerprint)

    def record_problem(self, url: str, reason: str, kind: str) -> None:
        self.store.record_problem(self.run_id, kind=kind, url=url, reason=reason)

    def heartbeat(self) -> None:
        self.store.heartbeat(self.run_id)

    def finish(self, crawlers: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Close the run with the worst status of its crawlers: (outlet, finish reason, stats)."""
        status, message, all_stats = "finished", None, {}
        for outlet, reason, stats in crawlers:
            all_stats[outlet] = stats
            this_status, this_message = run_status(reason, stats)
            if _SEVERITY[this_status] > _SEVERITY[status]:
                status, message = this_status, f"{outlet}: {this_message}"
        self.store.finish_run(self.run_id, status=status, message=message, stats=all_stats)
        self._after_commit()

    def abort(self, exc: BaseException, stats: dict[str, Any]) -> None:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        self.store.finish_run(
            self.run_id, status=status, message=f"{type(exc).__name__}: {exc}", stats=stats
        )
        self._after_commit()

    def _after_commit(self) -> None:
        """The run is closed: match the watches on what it stored, send what is due."""
        after_run(self.store.db, self.run_id)

    def detail(self) -> RunDetail:
        with self.store.db.read_session() as session:
            detail = run_detail(session, self.run_id)
        assert detail is not None
        return detail


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
    in_turn: bool = False,
) -> RunDetail:
    """Run ``jobs`` in one Scrapy process, recorded as one CrawlRun.

    The crawlers run concurrently, or one after another with ``in_turn`` (replay does:
    its articles are then stored in one fixed order, so which copy of a story is the
    original never depends on timing).  ``run_id`` adopts a run a parent process
    created (the scheduler does, so it can close the run itself if this process is killed).
    """
    settings = project_settings(overrides)
    run = Run.begin(
        settings,
        spiders=[job.spider for job in jobs],
        outlets=[job.outlet for job in jobs],
        mode=mode,
        adopt=run_id,
        problems=problems,
    )
    settings.set("NEWSWATCH_RUN_ID", run.run_id, priority="cmdline")
    # The CLI owns logging (one handler, its level); Scrapy adds none of its own.
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")

    outcomes: list[tuple[str, str, dict[str, Any]]] = []
    try:
        process = _CrawlerProcess(settings)
        crawlers = [process.create_crawler(job.spider) for job in jobs]
        if in_turn:
            _crawl_in_turn(process, list(zip(crawlers, jobs, strict=True)))
        else:
            for crawler, job in zip(crawlers, jobs, strict=True):
                process.crawl(crawler, **job.kwargs)
        # Everything alive now (modules, settings, Scrapy's machinery: ~200,000 objects)
        # lives as long as the run: frozen, the collector's full passes during the run
        # skip it (they cost ~6 % of a replay's CPU).  Unfrozen after, so a process
        # that runs again (a worker) collects the previous run's cycles as usual.
        gc.freeze()
        try:
            process.start()
        finally:
            gc.unfreeze()
        for crawler, job in zip(crawlers, jobs, strict=True):
            try:
                stats = json_safe_stats(crawler.stats.get_stats())
            except RuntimeError:  # never started: a stop signal came before its turn
                stats = {}
            outcomes.append((job.outlet, stats.get("finish_reason", "not started"), stats))
        if any(reason == "shutdown" for _, reason, _ in outcomes):
            outcomes = [(o, "shutdown" if r == "not started" else r, st) for o, r, st in outcomes]
    except BaseException as exc:
        close_shared_pool()
        run.abort(exc, {outlet: stats for outlet, _, stats in outcomes})
        raise
    close_shared_pool()
    run.finish(outcomes)
    return run.detail()


class _CrawlerProcess(CrawlerProcess):
    """Scrapy's process, except that Ctrl-C (or SIGTERM) also stops parsing at once.

    Scrapy's graceful stop waits for every page in a callback, and pages waiting for a
    parse worker would hold the run for up to NEWSWATCH_PARSE_TIMEOUT each; closing the
    pool drops them ("parse pool closed") so the run ends as ``interrupted`` promptly.
    (``_signal_shutdown`` is Scrapy's first-signal handler, the one hook it offers.)
    """

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        super()._signal_shutdown(signum, frame)
        threading.Thread(target=close_shared_pool, name="parse-pool-close", daemon=True).start()


def _crawl_in_turn(process: CrawlerProcess, queue: list[tuple[Crawler, SpiderJob]]) -> None:
    """Start the first crawler; each one that finishes starts the next (none after a stop).

    ``process.start()`` waits for every crawl registered by the time the previous ones end,
    so the chain keeps the reactor running until the last crawler is done.
    """
    if not queue:
        return
    (crawler, job), rest = queue[0], queue[1:]

    def next_one(result: Any) -> Any:
        stopped = (crawler.stats.get_value("finish_reason") if crawler.stats else None) == "shutdown"
        if not stopped:
            _crawl_in_turn(process, rest)
        return result

    process.crawl(crawler, **job.kwargs).addBoth(next_one)


def replay(directory: Path, *, overrides: dict[str, Any] | None = None) -> RunDetail:
    """Replay every ``<outlet>/<file>`` under ``directory`` through the real spiders."""
    settings = project_settings(overrides)
    known = set(spider_names(settings))
    jobs: list[SpiderJob] = []
    problems: list[ReplayProblem] = []
    for folder in outlet_folders(directory):
        if refused := folder_problem(folder, directory):
            problems.append(ReplayProblem(str(folder), refused))
        elif folder.name in known:
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
    return run_jobs(jobs, mode="replay", overrides=replay_overrides, problems=problems, in_turn=True)


class RunRecorder:
    """The run owner inside the engine: the pipeline's store, page problems, heartbeats.

    Under :func:`run_jobs` the run already exists (``NEWSWATCH_RUN_ID``) and is closed
    there, after all its crawlers; under a plain ``scrapy crawl`` this extension begins
    and finishes a run of its own, through the same :class:`Run`.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        given = crawler.settings.get("NEWSWATCH_RUN_ID")
        #: False when run_jobs created the run and will close it after all its crawlers.
        self.owns_run = given in (None, "")
        self.run: Run | None = None if self.owns_run else Run.handle(crawler.settings, int(given))
        self._heartbeat = task.LoopingCall(self._beat)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.page_problem, signal=page_problem)
        crawler.signals.connect(recorder.item_dropped, signal=signals.item_dropped)
        return recorder

    @property
    def run_id(self) -> int | None:
        return self.run.run_id if self.run else None

    @property
    def database(self) -> Database | None:
        """The run's database (the conditional-request middleware keeps validators there)."""
        return self.run.store.db if self.run else None

    def record_article(self, article: Article) -> str:
        """Store one article (the storage pipeline's sink); returns its outcome status."""
        assert self.run is not None
        return self.run.record(article).status

    def spider_opened(self, spider: Spider) -> None:
        if self.owns_run:
            mode = "replay" if self.crawler.settings.get("NEWSWATCH_REPLAY_DIR") else "live"
            outlet = getattr(spider, "outlet", spider.name)
            self.run = Run.begin(
                self.crawler.settings, spiders=[spider.name], outlets=[outlet], mode=mode
            )
        self._heartbeat.start(self.crawler.settings.getfloat("NEWSWATCH_HEARTBEAT_S"), now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._heartbeat.running:
            self._heartbeat.stop()
        if self.owns_run and self.run is not None:
            outlet = getattr(spider, "outlet", spider.name)
            self.run.finish([(outlet, reason, json_safe_stats(self.crawler.stats.get_stats()))])

    # -- revisits (crawler.revisit.RevisitLedger) ------------------------------------

    def _revisit_clock(self) -> datetime:
        """Now, or ``NEWSWATCH_REVISIT_AT`` (tests and catching up act at a chosen time)."""
        given = self.crawler.settings.get("NEWSWATCH_REVISIT_AT")
        if not given:
            return datetime.now(UTC)
        try:
            moment = datetime.fromisoformat(str(given))
        except ValueError:
            logger.error("NEWSWATCH_REVISIT_AT=%r is not an ISO 8601 time; using now", given)
            return datetime.now(UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def revisits_due(self, outlet: str) -> list[tuple[int, str]]:
        assert self.run is not None
        limit = self.crawler.settings.getint("NEWSWATCH_REVISIT_LIMIT", 500)
        with self.run.store.db.read_session() as session:
            due = lifecycle.revisits_due(session, outlet, self._revisit_clock(), limit=limit)
        return [(r.article_id, r.url) for r in due]

    def record_takedown(self, article_id: int, reason: str, evidence: dict[str, Any]) -> bool:
        assert self.run is not None
        version = lifecycle.record_takedown(
            self.run.store.db, article_id, reason=reason, evidence=evidence,
            run_id=self.run.run_id, now=self._revisit_clock(),
        )
        return version is not None

    def mark_checked(self, article_id: int) -> None:
        assert self.run is not None
        lifecycle.mark_checked(self.run.store.db, article_id, self._revisit_clock())

    def page_problem(self, url: str, reason: str, kind: str) -> None:
        assert self.run is not None
        try:
            self.run.record_problem(url, reason, kind)
        except Exception as exc:  # the database is down: the log line is all that is left
            logger.error("could not record %s of %s (%s): %s", kind, url, reason, exc)

    def item_dropped(self, item: Any, response: Any, exception: Exception, spider: Spider) -> None:
        url = getattr(item, "url", "?")
        self.page_problem(url, str(exception), kind=getattr(exception, "kind", "dropped"))

    def _beat(self) -> None:
        if self.run is not None:
            try:
                self.run.heartbeat()
            except Exception as exc:  # a missed heartbeat must not stop the crawl
                logger.warning("heartbeat of run %s failed: %s", self.run_id, exc)


def json_safe_stats(stats: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, (int, float, str, bool)) or value is None:
            safe[key] = value
        elif hasattr(value, "isoformat"):
            safe[key] = value.isoformat()
    return safe


def run_status(finish_reason: str, stats: dict[str, Any]) -> tuple[str, str | None]:
    """``finished`` or ``failed``/``interrupted`` with the rule that tripped (never the exit code)."""
    if finish_reason == "shutdown":
        return "interrupted", "stopped by a signal before the crawl finished"
    if finish_reason == "closespider_timeout":
        return "interrupted", f"run deadline reached: stopped with what it had stored ({stats.get('item_scraped_count', 0)} items)"
    if finish_reason != "finished":
        return "failed", f"crawl closed with reason {finish_reason!r}"
    if stats.get(LOST):
        return "failed", f"{stats[LOST]} items were LOST: neither stored nor dead-lettered"
    if stats.get(STORAGE_ERROR):
        return "failed", f"{stats[STORAGE_ERROR]} items could not be stored (dead-lettered)"
    if stats.get("spider_exceptions/count"):
        return "failed", f"{stats['spider_exceptions/count']} pages raised an error in a spider"
    if stats.get(problem_key("error")) and not stats.get("item_scraped_count"):
        return "failed", f"no page could be read: {stats[problem_key('error')]} download errors"
    return "finished", None
