"""Signals newswatch adds to Scrapy's."""

#: A page could not become an article.  Arguments: ``url``, ``reason`` (one line),
#: ``kind`` (``dropped`` for bad input, ``error`` for a failed download or store).
page_problem = object()
