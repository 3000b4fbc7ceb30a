"""The ``newswatch`` command line."""

from __future__ import annotations

from newswatch.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
