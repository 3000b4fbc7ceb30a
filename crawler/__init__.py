"""newswatch: a Scrapy-based monitoring crawler for news."""

__version__ = "0.1.0"
