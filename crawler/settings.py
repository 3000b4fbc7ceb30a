"""Every setting of newswatch, in one place: Scrapy's own and the NEWSWATCH_* ones.

Each NEWSWATCH_* setting can be overridden by the environment variable of the
same name; the CLI's options override both (Scrapy's ``cmdline`` priority).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from crawler import __version__


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_number(name: str, default: str, kind: type[int] | type[float]) -> Any:
    """A numeric setting; a value that is not one ends the program with one error line.

    Read when this module is imported, before any command can report an error itself.
    """
    value = _env(name, default)
    try:
        return kind(value)
    except ValueError:
        print(f"error: {name}={value!r} is not a number", file=sys.stderr)
        raise SystemExit(2) from None


def _env_int(name: str, default: str) -> int:
    return int(_env_number(name, default, int))


def _env_float(name: str, default: str) -> float:
    return float(_env_number(name, default, float))


def data_dir() -> Path:
    """Where the default database and dead-letter spool live."""
    if home := os.environ.get("NEWSWATCH_HOME"):
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "newswatch"


def default_config_path() -> Path:
    """The outlets config shipped with newswatch."""
    return Path(__file__).resolve().with_name("outlets.toml")


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'newswatch.db'}"


# -- newswatch ---------------------------------------------------------------

#: SQLAlchemy URL of the database (SQLite file by default).
NEWSWATCH_DB = _env("NEWSWATCH_DB", default_database_url())
#: A contact (URL or e-mail) put in the User-Agent so site owners can reach the operator;
#: live crawls warn while it is unset (there is no honest default).
NEWSWATCH_CONTACT = os.environ.get("NEWSWATCH_CONTACT", "")
#: The outlets config (TOML); see crawler/outlets.toml for the format.
NEWSWATCH_CONFIG = _env("NEWSWATCH_CONFIG", str(default_config_path()))
#: Print crawl progress to stderr every this many seconds (0: off; the CLI turns it on).
NEWSWATCH_PROGRESS_S = _env_float("NEWSWATCH_PROGRESS_S", "0")
#: Set by ``newswatch replay``: a directory laid out as <outlet>/<file>.
NEWSWATCH_REPLAY_DIR: str | None = None
#: Estimated similarity from which a new article is recorded as a copy of an
#: earlier one; unset means storage.similarity.THRESHOLD (measured in benchmarks/near_duplicates.py).
NEWSWATCH_NEAR_DUPLICATE_THRESHOLD = os.environ.get("NEWSWATCH_NEAR_DUPLICATE_THRESHOLD")
#: Largest page a parser accepts (bytes); larger ones are dropped with a reason.
NEWSWATCH_MAX_PAGE_BYTES = _env_int("NEWSWATCH_MAX_PAGE_BYTES", str(8 * 1024 * 1024))
#: Most requests one discovery page (feed, sitemap, listing) may add to the queue;
#: links beyond it are cut, counted (stat ``newswatch/enqueue_cut``) and logged.
NEWSWATCH_MAX_ENQUEUE_PER_PAGE = _env_int("NEWSWATCH_MAX_ENQUEUE_PER_PAGE", "5000")
#: Most requests everything discovered from one start URL may add (a sitemap index
#: and its sitemaps, a listing and its next pages).
NEWSWATCH_MAX_ENQUEUE_PER_START_URL = _env_int("NEWSWATCH_MAX_ENQUEUE_PER_START_URL", "20000")
#: Most requests discovery may add in one crawl of one outlet: the bound on the
#: queue, and so on memory, whatever the sites publish.
NEWSWATCH_MAX_ENQUEUE_PER_RUN = _env_int("NEWSWATCH_MAX_ENQUEUE_PER_RUN", "50000")
#: Processes that parse pages (trafilatura and lxml hold the GIL, so this is how a crawl
#: uses more than one core); 0 parses in the crawl process itself.  Default: one per core.
NEWSWATCH_PARSE_WORKERS = _env_int("NEWSWATCH_PARSE_WORKERS", str(len(os.sched_getaffinity(0))))
#: A page still parsing after this many seconds is dropped ("parse timeout after 30 s")
#: and its worker killed; enforced by the workers' pool, so only with workers > 0.
NEWSWATCH_PARSE_TIMEOUT = _env_float("NEWSWATCH_PARSE_TIMEOUT", "30")
#: Seconds between heartbeats of a running run (lets the next start spot a dead run).
NEWSWATCH_HEARTBEAT_S = _env_float("NEWSWATCH_HEARTBEAT_S", "30")
#: A ``running`` run on another host whose heartbeat has been silent this long is gone
#: (shown as ``stale``; on this host, its process being gone says so at once).
RUN_SILENT_AFTER_S = 3 * NEWSWATCH_HEARTBEAT_S

#: Validators (ETag/Last-Modified) of a page not seen for this long are deleted.
NEWSWATCH_VALIDATORS_KEEP_S = _env_float("NEWSWATCH_VALIDATORS_KEEP_S", str(30 * 86400))

# -- several machines (newswatch/workers/) ----------------------------------------

#: Celery broker URL (``amqp://guest:guest@127.0.0.1:5672//`` or ``redis://127.0.0.1:6379/0``);
#: empty: no broker, every crawl runs on this machine.
NEWSWATCH_BROKER_URL = os.environ.get("NEWSWATCH_BROKER_URL", "")
#: The broker queue of crawl jobs (several installations can share one broker).
NEWSWATCH_BROKER_QUEUE = _env("NEWSWATCH_BROKER_QUEUE", "newswatch.crawl")
#: How long the broker waits for a job's acknowledgement before it gives the job to another
#: worker: Redis's visibility timeout (set from this), RabbitMQ's ``consumer_timeout``
#: (a server setting, 30 min by default: set this to what the server has).  Must exceed
#: every outlet's ``timeout``; a worker refuses outlets whose timeout does not fit.
NEWSWATCH_BROKER_DELIVERY_TIMEOUT_S = _env_float("NEWSWATCH_BROKER_DELIVERY_TIMEOUT_S", "3600")

#: Refuse requests to private, loopback, link-local and other non-public addresses.
NEWSWATCH_SSRF_ENABLED = True
#: Hosts ("host" or "host:port") exempt from that refusal; the CLI fills it from the
#: outlets that say ``allow_private = true`` (local test sites).
NEWSWATCH_ALLOW_PRIVATE_HOSTS: list[str] = []

# -- scheduling ----------------------------------------------------------------
# `newswatch scheduler run` (crawler/scheduling/); its options override these.

#: A scheduled run that is this late (the scheduler was down or busy) still runs, once
#: (missed runs are coalesced); a later one is skipped until the next scheduled time.
NEWSWATCH_MISFIRE_GRACE_S = _env_int("NEWSWATCH_MISFIRE_GRACE_S", "3600")
#: On SIGINT/SIGTERM the scheduler starts no new crawl and gives running ones this
#: long to finish; then they are stopped and recorded as interrupted.
NEWSWATCH_SHUTDOWN_GRACE_S = _env_float("NEWSWATCH_SHUTDOWN_GRACE_S", "30")
#: A crawl process still alive this long after SIGTERM gets SIGKILL.
NEWSWATCH_KILL_WAIT_S = _env_float("NEWSWATCH_KILL_WAIT_S", "10")
#: How often the scheduler re-reads its job store, so `newswatch schedule add/pause/…`
#: made while it runs take effect within this many seconds.
NEWSWATCH_SCHEDULER_POLL_S = _env_float("NEWSWATCH_SCHEDULER_POLL_S", "2")
#: Lease of the outlet and scheduler locks (renewed every quarter of it); a holder
#: that stops renewing loses it after this long.
NEWSWATCH_LOCK_LEASE_S = _env_float("NEWSWATCH_LOCK_LEASE_S", "60")
#: Crawls the scheduler runs at once (each in its own process).
NEWSWATCH_SCHEDULER_WORKERS = _env_int("NEWSWATCH_SCHEDULER_WORKERS", "4")
#: How often the running scheduler sends the watches' due deliveries (outbox retries,
#: digests whose window closed) and evaluates runs that ended unwatched, crawl or not.
NEWSWATCH_DELIVER_EVERY_S = _env_float("NEWSWATCH_DELIVER_EVERY_S", "60")

# -- scrapy --------------------------------------------------------------------

BOT_NAME = "newswatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = f"newswatch/{__version__} (news monitoring crawler" + (
    f"; +{NEWSWATCH_CONTACT})" if NEWSWATCH_CONTACT else ")"
)
ROBOTSTXT_OBEY = True

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2

# Selectors parse without libxml2's limits, so the download size is the memory bound.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 3
#: Seconds before the first retry of a page; doubled for each further one (with jitter).
NEWSWATCH_RETRY_BACKOFF_S = _env_float("NEWSWATCH_RETRY_BACKOFF_S", "2")
#: Longest wait before a retry, whatever the backoff or the server's Retry-After says.
NEWSWATCH_RETRY_BACKOFF_MAX_S = _env_float("NEWSWATCH_RETRY_BACKOFF_MAX_S", "60")

# Conditional re-crawls without a response cache: crawler.middlewares.conditional keeps
# only each article page's ETag/Last-Modified, in the database (shared by every worker),
# so an unchanged page costs a 304, not a body.  Scrapy's file cache stays off: it kept
# whole responses, Set-Cookie included, on one machine's disk.
HTTPCACHE_ENABLED = False

# No local files, data: URIs, FTP or S3 from crawled links; replay installs its own handler.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
# Both consoles run code inside the crawler process: never on by default.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's retries, spaced out (exponential backoff, Retry-After).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": 550,
    # A redirect may not leave allowed_domains, even for a request with dont_filter.
    "crawler.middlewares.offsite.OffsiteRedirectMiddleware": 35,
    "crawler.middlewares.ssrf.SSRFGuardMiddleware": 40,
    # robots.txt per RFC 9309: 5xx or unreachable means disallow, not allow-all.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.RobotsPolicyMiddleware": 100,
    # Where Scrapy's HttpCacheMiddleware sits: nearest the download, before decompression.
    "crawler.middlewares.conditional.ConditionalRequestMiddleware": 900,
}
# Checks every DNS answer at connect time, so a name that rebinds to a private
# address is refused too.  Only Twisted's HTTP/1.1 handler consults it: keep it.
TWISTED_DNS_RESOLVER = "crawler.middlewares.ssrf.SSRFSafeResolver"

SPIDER_MIDDLEWARES = {
    # Scrapy's URL length limit, with every page it drops listed in the run.
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "crawler.middlewares.urllength.ListedUrlLengthMiddleware": 800,
}

ITEM_PIPELINES = {
    "crawler.pipelines.ValidationPipeline": 100,
    "crawler.pipelines.CanonicalUrlPipeline": 200,
    "crawler.pipelines.StoragePipeline": 900,
}
# The run owner (the StoragePipeline's article sink) and progress reporting belong to
# the application: newswatch.scrapy_settings adds them, and scrapy.cfg points there.

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
