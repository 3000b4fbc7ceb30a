"""In CI (``CI=true``) a missing shared corpus fails the corpus tests instead of skipping them.

A green CI run must mean that the corpus tests ran.  Loaded by tests/conftest.py (the
``shared_dir`` fixture uses :func:`corpus_missing`); the hook below also turns a
module-level corpus skip (``pytest.skip(..., allow_module_level=True)`` naming the
corpus) into a collection failure.  NEWSWATCH_SHARED_DIR overrides where the corpus
is looked for (default: ``../shared`` beside this checkout).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def shared_path() -> Path:
    return Path(os.environ.get("NEWSWATCH_SHARED_DIR") or DEFAULT_SHARED)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def corpus_missing() -> str | None:
    """Why the corpus tests cannot run here, or None."""
    shared = shared_path()
    if (shared / "corpus").is_dir():
        return None
    return f"{shared} (the shared corpus) is not beside this checkout"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    reason = corpus_missing() if report.skipped and in_ci() else None
    if reason and "corpus" in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = f"{reason}, and CI=true: the corpus tests must run in CI, not skip"
