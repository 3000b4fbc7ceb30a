"""The scheduler's log: the ``newswatch.scheduler`` logger, its line format, safe one-line texts."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("newswatch.scheduler")


def _setup_logging() -> None:
    """Timestamped (UTC) lines on stderr: ours at INFO, others at the CLI's level."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    for root_handler in logging.root.handlers:
        root_handler.setFormatter(formatter)


def _safe(value: object) -> str:
    from newswatch.cli.render import safe

    return safe(value)


def _one_line(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = str(exc).strip().splitlines()
    return _safe(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)
