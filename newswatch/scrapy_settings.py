"""The application's Scrapy settings: the crawler's own, plus the run owner.

``scrapy.cfg`` points here, and so does :func:`newswatch.runs.project_settings`, so a
plain ``scrapy crawl`` and ``newswatch crawl`` record runs the same way.  Every other
setting is defined once, in ``crawler/settings.py``.
"""

from crawler.settings import *  # noqa: F403  (this module extends the crawler's settings)

EXTENSIONS = {
    # Owns the run: the StoragePipeline's article sink, page problems, heartbeats.
    "newswatch.runs.RunRecorder": 100,
    "newswatch.progress.ProgressReporter": 200,
}

#: The CrawlRun every crawler of this process records into, set by newswatch.runs.run_jobs
#: (the one hand-off between the run owner and its extension); unset, the extension
#: starts a run of its own (a plain ``scrapy crawl``).
NEWSWATCH_RUN_ID: int | None = None
