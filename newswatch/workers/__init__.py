"""Crawl workers on several machines: Celery jobs, one outlet's crawl each.

What runs where (README "Running on several machines"):

* **PostgreSQL**: the one shared store: articles, runs, leases, HTTP validators
  (storage/validators.py), the dispatched jobs (storage/dispatches.py).
* **The broker** (``NEWSWATCH_BROKER_URL``, RabbitMQ or Redis): the queue ``newswatch.crawl``.
* **One scheduler** (``newswatch scheduler run --dispatch celery``): APScheduler as before,
  its lease keeps it single; at each due time it claims ``outlet@due`` in the database and
  publishes one job (newswatch/scheduling/dispatch.py).
* **N workers** (``newswatch worker``): each job is today's crawl child process under the
  outlet's lease (newswatch/scheduling/service.py), recorded as a run with the worker's name.

Delivery is at least once, storage exactly once:

* late acknowledgement (``acks_late``) and ``reject_on_worker_lost``: a job is acknowledged
  only after its run is closed; a worker that dies (kill -9, lost machine) leaves its job
  unacknowledged and the broker gives it to another worker (RabbitMQ at once, when the
  connection drops; Redis after its visibility timeout).
* an outlet leased by another process is **retried later**, not dropped: the lease may
  belong to the dead worker whose job this redelivery is (on another host a lease is only
  free once it expires), and dropping it would lose that crawl.  The retry waits until the
  lease would expire; a redelivered job whose run already finished is dropped (the run
  table knows its job key).
* storing twice is impossible anyway: articles are unique by canonical URL, and a
  re-run of a finished crawl costs 304s (validators in the database), not new records.

Modules: :mod:`~newswatch.workers.app` (the Celery app and its settings),
:mod:`~newswatch.workers.tasks` (the crawl job, publishing), :mod:`~newswatch.workers.worker`
(``newswatch worker``: checks, then Celery's worker).
"""
