"""What a command loads: a refused or read-only call does not pay for machinery it never uses.

Each call runs in a fresh interpreter (this one has loaded everything) and reports the
modules it ended with; the errors and exit statuses are checked as well, so that the
checks made before the heavy imports stay the same checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli_helpers import REPO

#: Runs the CLI with the given arguments, then writes the names of the loaded modules.
_RUN_CLI = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["newswatch", *sys.argv[1:]]
from newswatch.cli import main
main()
"""

#: The scheduler, its job store and the crawl service: loaded only to touch the jobs.
SCHEDULER = ("apscheduler.schedulers", "newswatch.scheduling.jobs", "newswatch.scheduling.serve", "newswatch.scheduling.service")
#: The page parsers and what they bring: loaded only to parse (the config needs their names).
PARSERS = (
    "trafilatura", "crawler.parsing.generic", "crawler.parsing.html",
    *(f"crawler.parsing.{name}" for name in ("wechat", "portal", "ecns", "rfi", "bbc")),
)
#: Never in a command that does not crawl, nor before the database needs migrating.
CRAWLER = ("scrapy", "twisted", "alembic")


def run_cli(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    out = tmp_path / "modules.json"
    env = {**os.environ, "COLUMNS": "200", "MODULES_OUT": str(out), "NEWSWATCH_DB": f"sqlite:///{tmp_path / 'nw.db'}"}
    result = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, *args], capture_output=True, text=True, timeout=120, env=env, cwd=REPO
    )
    return result, set(json.loads(out.read_text()))


REFUSED_SCHEDULES = [
    (("nosuch", "--every", "30m"), "error: no outlet named nosuch (known: "),
    (("rfi_cn", "--every", "3x"), "error: --every: '3x' is not a duration like 30s, 15m, 6h or 1d"),
    (("rfi_cn", "--every", "0s"), "error: --every: must be at least 1s"),
    (("rfi_cn", "--jitter", "2q"), "error: --jitter: '2q' is not a duration like 30s, 15m, 6h or 1d"),
    (("rfi_cn", "--cron", "bad"), "error: --cron: 'bad' is not a five-field crontab line like '*/15 * * * *'"),
    (("rfi_cn", "--cron", "61 * * * *"), "error: --cron: Error validating expression '61'"),
    (("rfi_cn", "--cron", "0 0 31 2 *"), "error: --cron: '0 0 31 2 *' never fires (no such date, e.g. 31 February)"),
]


@pytest.mark.parametrize(("args", "error"), REFUSED_SCHEDULES, ids=[" ".join(a) for a, _ in REFUSED_SCHEDULES])
def test_a_refused_schedule_loads_no_scheduler(tmp_path: Path, args: tuple[str, ...], error: str) -> None:
    result, modules = run_cli(tmp_path, "schedule", "add", *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(error), result.stderr
    assert not [m for m in modules if m.startswith(SCHEDULER + PARSERS + CRAWLER)]
    assert not (tmp_path / "nw.db").exists()


def test_reading_the_outlets_config_loads_no_parser(tmp_path: Path) -> None:
    result, modules = run_cli(tmp_path, "outlets", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert {"rfi_cn", "bbc_zhongwen"} <= {outlet["name"] for outlet in json.loads(result.stdout)}
    assert not [m for m in modules if m.startswith(PARSERS + CRAWLER + SCHEDULER)]
    # `schedule list` reads the config and the job store (a new database: migrated, hence alembic).
    result, modules = run_cli(tmp_path, "schedule", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert not [m for m in modules if m.startswith((*PARSERS, "scrapy", "twisted"))]


def test_an_unknown_outlet_type_is_still_refused_by_name(tmp_path: Path) -> None:
    config = tmp_path / "outlets.toml"
    config.write_text('[outlets.x]\nspider = "rif"\nstart_urls = ["https://rfi.fr/"]\nallowed_domains = ["rfi.fr"]\n')
    result, modules = run_cli(tmp_path, "--config", str(config), "outlets", "list")
    assert result.returncode == 2
    assert "outlets.x.spider: 'rif' is not one of wechat, portal, ecns, rfi, bbc" in result.stderr
    assert not [m for m in modules if m.startswith(PARSERS)]


def test_the_scheduling_package_and_the_parsers_load_at_first_use(tmp_path: Path) -> None:
    """The package's re-exports load lazily (``serve``, a submodule's name too, is the function);
    a parser's module is imported at its first lookup."""
    script = """
import sys
import newswatch.scheduling.triggers
assert "newswatch.scheduling.jobs" not in sys.modules and "newswatch.scheduling.serve" not in sys.modules
from newswatch.scheduling import prepare_jobs, serve
from newswatch.scheduling.serve import serve as serve_function
assert serve is serve_function and callable(serve), serve
from newswatch import scheduling
assert sorted(name for name in scheduling.__all__ if not hasattr(scheduling, name)) == []
from crawler.parsing import OUTLET_PARSERS, PARSERS
assert list(PARSERS) == ["wechat", "portal", "ecns", "rfi", "bbc", "generic"] and "crawler.parsing.rfi" not in sys.modules
from crawler.parsing import rfi
assert PARSERS["rfi"] is OUTLET_PARSERS["rfi"] is rfi.parse and "generic" not in OUTLET_PARSERS
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
