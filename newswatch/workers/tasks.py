"""The crawl job: one outlet's crawl in a child process, under its lease, on whichever worker.

Published by the scheduler (newswatch/scheduling/dispatch.py) or ``newswatch crawl
--enqueue``; run by ``newswatch worker``.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from celery import signals as celery_signals

from newswatch.databases import database
from newswatch.scheduling.options import Options
from newswatch.scheduling.service import Service
from newswatch.workers.app import CRAWL_TASK, app
from storage import dispatches, locks

log = logging.getLogger("newswatch.worker")


class BrokerError(Exception):
    """No broker configured, or it refused the job; one line."""


@dataclass(frozen=True)
class WorkerConfig:
    """What ``newswatch worker`` was started with (read by the job threads)."""

    db_url: str
    config_path: Path | None
    options: Options
    crawl_args: tuple[str, ...] = ()
    #: NEWSWATCH_BROKER_DELIVERY_TIMEOUT_S: every outlet's timeout is below it.
    delivery_timeout_s: float = 3600.0


_config: WorkerConfig | None = None
_services: dict[str, Service] = {}
_services_lock = threading.Lock()
#: SIGTERM/SIGINT received by this worker process so far.
_shutdown_signals = 0


def configure(config: WorkerConfig) -> None:
    global _config
    _config = config


def _service(worker_name: str) -> Service:
    """One Service per worker process (shared by its job threads, as the scheduler's is)."""
    if _config is None:  # a worker started by `celery -A newswatch.workers.app worker`
        from crawler import settings

        configure(WorkerConfig(
            settings.NEWSWATCH_DB, None, Options.from_settings(),
            delivery_timeout_s=settings.NEWSWATCH_BROKER_DELIVERY_TIMEOUT_S,
        ))
    assert _config is not None
    with _services_lock:
        if worker_name not in _services:
            _services[worker_name] = Service(
                database(_config.db_url), _config.db_url, _config.config_path, _config.options,
                origin="worker", worker=worker_name, crawl_args=_config.crawl_args,
            )
        return _services[worker_name]


def _stop_crawls_on_second_signal(**_: Any) -> None:
    """Celery's warm shutdown waits for running jobs; a second signal stops their crawls.

    Sent by Celery's handler of every SIGTERM/SIGINT (in the main thread): the services'
    job threads then stop their crawl processes and close the runs as ``interrupted``.
    """
    global _shutdown_signals
    _shutdown_signals += 1
    if _shutdown_signals < 2:
        return
    for service in list(_services.values()):
        service.force_stop()


celery_signals.worker_shutting_down.connect(_stop_crawls_on_second_signal, weak=False)


def retry_countdown(lease: locks.Lease | None, lease_s: float, now: datetime | None = None) -> float:
    """Seconds until a busy outlet's lease would run out (at least 1, at most one lease)."""
    if lease is None:
        return 1.0
    left = (lease.expires_at - (now or datetime.now(UTC))).total_seconds()
    return float(min(max(left + 1.0, 1.0), lease_s + 1.0))


@app.task(bind=True, name=CRAWL_TASK, acks_late=True, reject_on_worker_lost=True, max_retries=None)  # type: ignore[untyped-decorator]
def crawl_job(
    self: Any, outlet: str, job_key: str | None = None, config_path: str | None = None, timeout_s: int | None = None
) -> str:
    """Crawl ``outlet`` once (``timeout_s``: instead of the outlet's); ``busy`` outlets are retried until their lease frees."""
    worker = str(self.request.hostname or f"{socket.gethostname()}:{os.getpid()}")
    service = _service(worker)
    if job_key and (done := dispatches.finished_run(service.db, job_key)) is not None:
        log.info("dropped: job %s already ran as run %d (a redelivered job)", job_key, done)
        return "done"
    assert _config is not None
    if timeout_s is not None and timeout_s >= _config.delivery_timeout_s:
        # A crawl outliving the delivery timeout would be handed to a second worker meanwhile.
        log.warning(
            "job %s: its timeout (%ds) is not below the broker delivery timeout (%ds): the outlet's own applies",
            job_key or "-", timeout_s, _config.delivery_timeout_s,
        )
        timeout_s = None
    status = service.crawl(outlet, config_path=config_path, timeout_s=timeout_s, job_key=job_key, report_busy=True)
    if status != "busy":
        log.info("job %s: outlet %s: %s", job_key or "-", outlet, status)
        return status
    lease_s = service.options.lease_s
    # Long enough to outlast the longest crawl (its lease is renewed meanwhile), which ends
    # within its timeout, itself below the delivery timeout.
    limit = math.ceil(_config.delivery_timeout_s / lease_s) + 3
    if self.request.retries >= limit:
        log.warning("dropped: job %s: outlet %s stayed leased through %d retries", job_key, outlet, limit)
        return "skipped"
    countdown = retry_countdown(locks.get(service.db, locks.outlet_key(outlet)), lease_s)
    log.info("job %s: outlet %s is leased elsewhere: retrying in %.0fs", job_key, outlet, countdown)
    raise self.retry(countdown=countdown, max_retries=limit)


def publish(outlet: str, *, job_key: str | None, config_path: str | None = None, timeout_s: int | None = None) -> str:
    """Send one crawl job to the broker; its task id."""
    if str(app.conf.broker_url or "").startswith("memory://"):
        raise BrokerError("no broker: set NEWSWATCH_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672//)")
    kwargs: dict[str, Any] = {"outlet": outlet, "job_key": job_key, "config_path": config_path}
    if timeout_s is not None:  # only then: a job without it is the same message as before
        kwargs["timeout_s"] = timeout_s
    try:
        result = app.send_task(
            CRAWL_TASK, kwargs=kwargs,
            queue=app.conf.task_default_queue, retry=True, retry_policy={"max_retries": 3, "interval_start": 0.5, "interval_step": 1},
        )
    except Exception as exc:
        raise BrokerError(f"the broker refused the job for {outlet}: {str(exc).strip().splitlines()[0][:200]}") from exc
    return str(result.id)


def enqueue(
    db_url: str, outlet: str, *, due_at: datetime, dispatcher: str, config_path: str | None = None,
    timeout_s: int | None = None,
) -> str | None:
    """Claim ``outlet@due_at`` and publish it; the job key, or None if it was dispatched already."""
    db = database(db_url)
    key = dispatches.claim(db, outlet, due_at, dispatcher)
    if key is None:
        return None
    try:
        task_id = publish(outlet, job_key=key, config_path=config_path, timeout_s=timeout_s)
    except BrokerError:
        dispatches.unclaim(db, key)
        raise
    dispatches.sent(db, key, task_id)
    return key
