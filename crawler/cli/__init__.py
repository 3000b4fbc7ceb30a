"""The ``newswatch`` command line."""

from __future__ import annotations

from crawler.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
