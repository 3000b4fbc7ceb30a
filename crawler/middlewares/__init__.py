"""Downloader middlewares that keep a live crawl safe and polite.

* :mod:`crawler.middlewares.ssrf`: no request to private or special addresses,
  nor to non-http(s) schemes (a downloader middleware); the address rules are in
  :mod:`crawler.middlewares.addresses` and the connect-time DNS check in
  :mod:`crawler.middlewares.resolver`.
* :mod:`crawler.middlewares.offsite`: redirects stay within ``allowed_domains``,
  even for start requests (which carry ``dont_filter``).
* :mod:`crawler.middlewares.robots`: robots.txt per RFC 9309 (5xx or network
  error disallows the host for the run; 4xx allows it).
"""
