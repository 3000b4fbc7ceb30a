"""newswatch's Scrapy project: spiders, middlewares, pipelines, parsing and the item."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newswatch")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
