"""Running crawls: :class:`Service` runs one outlet's crawl in a child process.

Under the outlet's lease (storage/locks.py), with a hard timeout (SIGTERM, then
SIGKILL) and the shutdown grace; the run is closed from the run row, never from the
exit status.  The child dies with the scheduler (``NEWSWATCH_DIE_WITH_PARENT``,
crawler/cli/__main__.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from crawler.outlets import ConfigError, Outlet, format_duration, load_outlets
from crawler.outlets import config_path as default_config_path
from newswatch.databases import database
from newswatch.outlet_leases import OutletBusy, outlet_lease
from newswatch.scheduling.logs import _one_line, _safe, log
from newswatch.scheduling.options import Options
from storage import locks
from storage.db import Database
from storage.queries import RunDetail, run_detail
from storage.repository import Store

# The service of the running `scheduler run` (set by serve.py while it holds the lease), so
# the job threads' run_scheduled_crawl uses it instead of opening one of their own.
_active_service: Service | None = None
_active_lock = threading.Lock()


def service_for(db_url: str | None = None, config_path: str | None = None) -> Service:
    """The running scheduler's service, or a one-off one (a job function called directly)."""
    with _active_lock:
        if _active_service is not None:
            return _active_service
    from crawler import settings

    url = db_url or settings.NEWSWATCH_DB
    return Service(database(url), url, Path(config_path) if config_path else None, Options.from_settings())


class Service:
    """Runs one outlet's crawl at a time per outlet, each in a child process.

    Shared by the job threads of ``scheduler run`` (and used alone by
    ``schedule run-now``): the outlet lease, the run record, the child, its timeout,
    and the shutdown grace.
    """

    def __init__(
        self, db: Database, db_url: str, config_path: Path | None, options: Options, *,
        origin: str = "scheduler", worker: str | None = None, crawl_args: tuple[str, ...] = (),
    ) -> None:
        self.db = db
        #: Recorded on each run: ``scheduler``, or ``worker`` (with the worker's name).
        self.origin = origin
        self.worker = worker
        #: Extra arguments of each ``newswatch crawl`` child (``-s NAME=VALUE`` from ``newswatch worker``).
        self.crawl_args = crawl_args
        self.db_url = db_url
        self.config_path = config_path
        self.options = options
        self.store = Store(db)
        self.stopping = threading.Event()
        self._stop_deadline: float | None = None
        self._forced = False
        self._active = 0
        self._lock = threading.Lock()

    # -- shutdown -----------------------------------------------------------------

    def begin_shutdown(self, grace_s: float) -> None:
        """Start no new crawl; running ones are stopped once ``grace_s`` has passed."""
        self._stop_deadline = time.monotonic() + grace_s
        self.stopping.set()

    def force_stop(self) -> None:
        self._forced = True
        self._stop_deadline = time.monotonic()
        self.stopping.set()

    def active(self) -> int:
        with self._lock:
            return self._active

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1

    # -- one crawl ------------------------------------------------------------------

    def crawl(
        self, outlet_name: str, *, config_path: str | None = None, timeout_s: int | None = None,
        job_key: str | None = None, report_busy: bool = False,
    ) -> str:
        """Crawl one outlet now unless it is being crawled: the run's status, or ``skipped``.

        With ``report_busy`` an outlet leased by another process gives ``busy`` (a worker
        retries the job later), not ``skipped``.
        """
        if self.stopping.is_set():
            log.info("skipped: outlet %s: the scheduler is stopping", outlet_name)
            return "skipped"
        config = Path(config_path) if config_path else (self.config_path or default_config_path())
        try:
            outlet = load_outlets(config).get(outlet_name)
        except ConfigError as exc:
            log.error("skipped: outlet %s: %s", outlet_name, _safe(exc))
            return "skipped"
        if outlet is None:
            log.warning(
                "skipped: outlet %s is not in %s (`newswatch schedule sync` or `schedule remove %s`)",
                outlet_name, config, outlet_name,
            )
            return "skipped"
        if not outlet.enabled:
            log.warning("skipped: outlet %s is disabled in %s", outlet_name, config)
            return "skipped"
        holder = locks.new_holder()
        with self._tracked():
            try:
                with outlet_lease(self.db, outlet_name, holder=holder, lease_s=self.options.lease_s) as key:
                    if self.stopping.is_set():
                        log.info("skipped: outlet %s: the scheduler is stopping", outlet_name)
                        return "skipped"
                    return self._crawl_locked(outlet, config, timeout_s or outlet.timeout_s, key, holder, job_key)
            except OutletBusy as busy:
                if report_busy:
                    log.info("busy: outlet %s is being crawled by %s", outlet_name, busy.by)
                    return "busy"
                log.warning("skipped: outlet %s is being crawled by %s", outlet_name, busy.by)
                return "skipped"

    def _crawl_locked(
        self, outlet: Outlet, config: Path, timeout_s: int, key: str, holder: str, job_key: str | None = None
    ) -> str:
        run_id = self.store.start_run(
            spiders=[outlet.spider], outlets=[outlet.name], mode="live", origin=self.origin,
            worker=self.worker, job_key=job_key,
        )
        locks.renew(self.db, key, holder, lease_s=self.options.lease_s, run_id=run_id)
        log_path = _log_dir() / f"{outlet.name}.log"
        env = {
            **os.environ,
            "NEWSWATCH_DB": self.db_url,
            "NEWSWATCH_CONFIG": str(config.resolve()),
            "NEWSWATCH_DIE_WITH_PARENT": str(os.getpid()),
        }
        command = [
            sys.executable, "-m", "newswatch.cli", "crawl", outlet.name, "--run-id", str(run_id), *self.crawl_args,
        ]
        started = time.monotonic()
        try:
            with open(log_path, "wb") as output:
                # Own session: a Ctrl-C in the terminal reaches the scheduler only, which
                # lets the crawl finish within the grace.
                child = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                    env=env, start_new_session=True,
                )
        except OSError as exc:
            message = f"could not start the crawl process: {_one_line(exc)}"
            self.store.finish_run(run_id, status="failed", message=message)
            log.error("end run %d outlet %s: failed: %s", run_id, outlet.name, message)
            return "failed"
        log.info(
            "start run %d outlet %s (pid %d, timeout %s, log %s)",
            run_id, outlet.name, child.pid, format_duration(timeout_s), log_path,
        )
        returncode, stopped_for = self._wait(child, outlet.name, key, holder, timeout_s)
        detail = self._close(run_id, returncode, stopped_for, timeout_s, log_path)
        run = detail.run
        counts = " ".join(f"{name} {value}" for name, value in detail.counts.items())
        line = f"end run {run_id} outlet {outlet.name}: {run.status} ({counts}) in {time.monotonic() - started:.1f}s"
        if run.message:
            line += f": {_safe(run.message)}"
        (log.info if run.status == "finished" else log.warning)("%s", line)
        return run.status

    def _wait(
        self, child: subprocess.Popen[bytes], outlet: str, key: str, holder: str, timeout_s: int
    ) -> tuple[int, str | None]:
        """Wait for the child, renewing the lease; stop it on timeout, shutdown or a lost lease."""
        start = time.monotonic()
        renew_every = max(self.options.lease_s / 4, 0.5)
        next_renew = start + renew_every
        stopped_for: str | None = None
        term_sent_at: float | None = None
        while True:
            try:
                return child.wait(timeout=0.25), stopped_for
            except subprocess.TimeoutExpired:
                pass
            except KeyboardInterrupt:  # `schedule run-now` in a terminal
                stopped_for = stopped_for or "interrupt"
                self.stopping.set()
                self._stop_deadline = time.monotonic()
            now = time.monotonic()
            if now >= next_renew:
                next_renew = now + renew_every
                try:
                    renewed = locks.renew(self.db, key, holder, lease_s=self.options.lease_s)
                    if not renewed and stopped_for is None:
                        log.error("outlet %s: lost its lock to another process; stopping this crawl", outlet)
                        stopped_for = "lost-lock"
                except Exception as exc:
                    log.warning("outlet %s: could not renew its lock: %s", outlet, _one_line(exc))
            if stopped_for is None:
                if now - start >= timeout_s:
                    stopped_for = "timeout"
                    log.warning("outlet %s: no end after %s: stopping it", outlet, format_duration(timeout_s))
                elif self._stop_deadline is not None and now >= self._stop_deadline:
                    stopped_for = "shutdown"
            if stopped_for is not None and term_sent_at is None:
                term_sent_at = now
                _signal(child, signal.SIGTERM)
            elif term_sent_at is not None and now - term_sent_at >= self.options.kill_wait_s:
                _signal(child, signal.SIGKILL)

    def _close(self, run_id: int, returncode: int, stopped_for: str | None, timeout_s: int, log_path: Path) -> RunDetail:
        """Record how the run ended, from the run row (the exit status is only a hint)."""
        detail = self._detail(run_id)
        run = detail.run
        status, message = run.status, None
        if stopped_for == "timeout" and run.status != "finished":
            status, message = "failed", f"killed after {format_duration(timeout_s)} timeout"
        elif stopped_for == "lost-lock" and run.status != "finished":
            status, message = "failed", "stopped: another process took over the outlet's lock"
        elif stopped_for in ("shutdown", "interrupt") and run.status in ("running", "interrupted"):
            status = "interrupted"
            if stopped_for == "interrupt":
                message = "stopped by an interrupt"
            elif self._forced:
                message = f"stopped by {self.origin} shutdown (second signal)"
            else:
                grace_s = self.options.shutdown_grace_s
                grace = format_duration(int(grace_s)) if grace_s >= 1 else f"{grace_s:g}s"
                message = f"stopped by {self.origin} shutdown after {grace} grace"
        elif run.status == "running":
            status = "failed"
            message = f"crawl process {_exit_text(returncode)} without closing its run"
            if last := _last_line(log_path):
                message += f": {last}"
        if message is None:
            return detail
        self.store.finish_run(run_id, status=status, message=message, stats=run.stats)
        return self._detail(run_id)

    def _detail(self, run_id: int) -> RunDetail:
        with self.db.read_session() as session:
            detail = run_detail(session, run_id, problem_limit=0)
        assert detail is not None, run_id
        return detail


# -- helpers ----------------------------------------------------------------------------


def _log_dir() -> Path:
    from crawler.settings import data_dir

    directory = data_dir() / "logs" / "scheduler"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _signal(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(sig)


def _exit_text(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _last_line(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - 4096, 0))
            lines = [line.strip() for line in handle.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return None
    lines = [line for line in lines if line]
    return _safe(lines[-1])[:200] if lines else None
