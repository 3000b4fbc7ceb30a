"""The Celery app: broker from NEWSWATCH_BROKER_URL, late acknowledgement, one job at a time.

``celery -A newswatch.workers.app inspect active`` (or Flower) works against it with the
same environment.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

#: The registered name of the crawl task (stable: messages in a broker name it).
CRAWL_TASK = "newswatch.crawl"


def queue_name() -> str:
    """The queue crawl jobs go to (NEWSWATCH_BROKER_QUEUE): one per installation on a broker."""
    from crawler import settings

    return settings.NEWSWATCH_BROKER_QUEUE


def celery_settings(broker_url: str, *, delivery_timeout_s: float) -> dict[str, Any]:
    return {
        "broker_url": broker_url,
        # No result backend: the run table in the database is the result.
        "result_backend": None,
        "task_ignore_result": True,
        # At least once: acknowledge after the run is closed; requeue if the worker dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A worker holds no job it is not running: a dead worker strands nothing else.
        "worker_prefetch_multiplier": 1,
        "task_default_queue": queue_name(),
        "task_serializer": "json",
        "accept_content": ["json"],
        # Redis redelivers an unacknowledged job after this; a crawl must end well before.
        # (RabbitMQ's equivalent, consumer_timeout, is a server setting: see the README.)
        "broker_transport_options": {"visibility_timeout": delivery_timeout_s, "confirm_publish": True},
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "enable_utc": True,
        # `celery -A newswatch.workers.app worker` registers the crawl task too.
        "imports": ["newswatch.workers.tasks"],
    }


def make_app(broker_url: str | None = None, *, delivery_timeout_s: float | None = None) -> Celery:
    from crawler import settings

    url = broker_url if broker_url is not None else settings.NEWSWATCH_BROKER_URL
    timeout = delivery_timeout_s if delivery_timeout_s is not None else settings.NEWSWATCH_BROKER_DELIVERY_TIMEOUT_S
    celery = Celery("newswatch", set_as_current=False)
    celery.conf.update(celery_settings(url or "memory://", delivery_timeout_s=timeout))
    return celery


#: The app of this process, configured from the environment (``celery -A`` finds it).
app = make_app(os.environ.get("NEWSWATCH_BROKER_URL") or None)
