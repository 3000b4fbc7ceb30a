"""Parser health over runs: each outlet's field coverage, and drops against its own history.

A run's stats hold, per outlet, how many parsed records had a title, a date, a
body of article length and an author (``crawler.parsing.health``).  An
outlet whose share of a field in its latest run falls well below its usual
share (the median of its earlier runs) is flagged: that is what a template
change looks like from the outside.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from crawler.parsing.health import HEALTH_FIELDS, STATS_PREFIX

#: A fall of this much in a field's share (0-1) against the outlet's usual share is flagged.
DROP = 0.2
#: Runs with fewer records say too little to compare.
MIN_ARTICLES = 3


@dataclass(frozen=True, slots=True)
class RunHealth:
    run_id: int
    started_at: str
    articles: int
    #: field -> share of the run's records that had it (0-1).
    shares: dict[str, float]


@dataclass(slots=True)
class OutletHealth:
    outlet: str
    #: Newest first.
    runs: list[RunHealth] = field(default_factory=list)
    #: field -> (usual share, latest share) for each field that dropped.
    drops: dict[str, tuple[float, float]] = field(default_factory=dict)


def run_health(run_id: int, started_at: str, stats: Mapping[str, Any]) -> RunHealth | None:
    articles = int(stats.get(f"{STATS_PREFIX}/articles") or 0)
    if not articles:
        return None
    shares = {name: int(stats.get(f"{STATS_PREFIX}/{name}") or 0) / articles for name in HEALTH_FIELDS}
    return RunHealth(run_id, started_at, articles, shares)


def outlet_health(runs: Iterable[tuple[int, str, Mapping[str, Any] | None]]) -> dict[str, OutletHealth]:
    """Per outlet, its runs (newest first, as given) and the fields that dropped in the latest."""
    outlets: dict[str, OutletHealth] = {}
    for run_id, started_at, stats in runs:
        for outlet, outlet_stats in (stats or {}).items():
            if not isinstance(outlet_stats, Mapping):
                continue
            health = run_health(run_id, started_at, outlet_stats)
            if health is not None:
                outlets.setdefault(outlet, OutletHealth(outlet)).runs.append(health)
    for entry in outlets.values():
        entry.drops = drops(entry.runs)
    return outlets


def drops(runs: list[RunHealth]) -> dict[str, tuple[float, float]]:
    """Fields whose share in the newest run fell ``DROP`` or more below the median of the earlier ones."""
    usable = [run for run in runs if run.articles >= MIN_ARTICLES]
    if len(usable) < 2:
        return {}
    latest, history = usable[0], usable[1:]
    found = {}
    for name in HEALTH_FIELDS:
        usual = median(run.shares[name] for run in history)
        if usual - latest.shares[name] >= DROP:
            found[name] = (usual, latest.shares[name])
    return found
