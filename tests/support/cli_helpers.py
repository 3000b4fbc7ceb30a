"""Running the installed ``newswatch`` command in a child process, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
NEWSWATCH = Path(sys.executable).with_name("newswatch")


def newswatch(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NEWSWATCH), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=REPO,
    )


def newswatch_json(*args: str, env: dict[str, str] | None = None) -> Any:
    result = newswatch(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
