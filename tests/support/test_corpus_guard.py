"""With CI=true a missing shared corpus fails the corpus tests; elsewhere they skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBES = {
    "test_fixture_probe.py": "def test_reads_the_corpus(shared_dir):\n    assert shared_dir.is_dir()\n",
    "test_module_probe.py": (
        "import pytest\n"
        "pytest.skip('shared corpus not found at /nowhere/corpus/pages', allow_module_level=True)\n"
        "def test_never_collected():\n    pass\n"
    ),
}


def _run_probes(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    for name, code in PROBES.items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "CI"}
    environment.update(env, NEWSWATCH_SHARED_DIR=str(tmp_path / "no-such-shared"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-q", "-rfEs", "--continue-on-collection-errors", "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_in_ci_a_missing_corpus_fails(tmp_path: Path, ci: str) -> None:
    result = _run_probes(tmp_path, CI=ci)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 errors" in result.stdout and "skipped" not in result.stdout, result.stdout
    assert "ERROR collecting test_module_probe.py" in result.stdout, result.stdout
    assert "ERROR at setup of test_reads_the_corpus" in result.stdout, result.stdout
    assert "the corpus tests must run in CI" in result.stdout


def test_outside_ci_a_missing_corpus_skips(tmp_path: Path) -> None:
    result = _run_probes(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 skipped" in result.stdout, result.stdout
