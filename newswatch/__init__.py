"""newswatch: a Scrapy-based monitoring crawler for news (the application package).

Three rooms: ``crawler`` (the Scrapy project), ``storage`` (the database) and this one,
which composes them: the command line, scheduling, the run owner, web and alerts.
"""

from crawler import __version__

__all__ = ["__version__"]
