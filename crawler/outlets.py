"""Outlets are configuration: a TOML file of ``[outlets.<name>]`` tables.

Several outlets share one spider type (``portal`` serves many portals and mirror
sites); adding an outlet takes a config entry, not code.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.settings import default_config_path
from crawler.urls import web_address_problem

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ConfigError(Exception):
    """The outlets config is wrong; the message names the file, the key and the line."""


@dataclass(frozen=True, slots=True)
class Schedule:
    every_s: int | None = None
    cron: str | None = None
    jitter_s: int = 0

    def describe(self) -> str:
        if self.cron:
            return f"cron {self.cron}"
        return f"every {format_duration(self.every_s)}" if self.every_s else "unscheduled"


@dataclass(frozen=True, slots=True)
class Outlet:
    name: str
    spider: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    enabled: bool = True
    schedule: Schedule = field(default_factory=Schedule)
    #: Regular expressions: a discovered URL matching one is an article page.
    article_patterns: tuple[str, ...] = ()
    #: Regular expressions: a discovered URL matching one is a listing page to follow.
    follow_patterns: tuple[str, ...] = ()
    #: How many listing pages deep discovery goes from a start URL.
    max_depth: int = 2
    #: Allow requests to private/loopback addresses (local test sites only).
    allow_private: bool = False
    #: Hard limit on one crawl of this outlet (the scheduler kills it after that).
    timeout_s: int = 1800

    def spider_kwargs(self) -> dict[str, Any]:
        return {"outlet": self.name}


#: Longest interval, jitter or timeout accepted: beyond a year a value is a typo, and
#: far beyond it the scheduler's datetime arithmetic overflows.
MAX_DURATION_S = 366 * 86400


def parse_duration(value: str) -> int:
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration like 30s, 15m, 6h or 1d")
    if len(match.group(1)) > 12:
        raise ValueError(f"{value!r} is too long (at most {MAX_DURATION_S // 86400}d)")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > MAX_DURATION_S:
        raise ValueError(f"{value!r} is too long (at most {MAX_DURATION_S // 86400}d)")
    return seconds


def format_duration(seconds: int | None) -> str:
    if not seconds:
        return "-"
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def check_cron(expression: object) -> None:
    """Raise ValueError unless ``expression`` is a five-field crontab line that fires."""
    from crawler.crontab import crontab_trigger  # APScheduler: only for a config with a cron

    if not isinstance(expression, str):
        raise ValueError("must be a crontab string like '*/15 * * * *'")
    crontab_trigger(expression)


def config_path() -> Path:
    """The config named by NEWSWATCH_CONFIG, else the shipped one (``--config`` overrides both)."""
    return Path(os.environ.get("NEWSWATCH_CONFIG") or default_config_path())


def load_outlets(path: Path | None = None) -> dict[str, Outlet]:
    """Read and check the outlets config; every mistake is a ConfigError naming key and line."""
    path = path or config_path()
    try:
        raw_text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the outlets config ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    lines = raw_text.splitlines()
    tables = data.get("outlets")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: no [outlets.<name>] tables")
    unknown_top = set(data) - {"outlets"}
    if unknown_top:
        key = sorted(unknown_top)[0]
        raise ConfigError(f"{path}:{_line_of(lines, key)}: unknown top-level key {key!r}")
    return {name: _outlet(path, lines, name, table) for name, table in tables.items()}


_FIELDS = {
    "spider", "start_urls", "allowed_domains", "enabled", "every", "cron", "jitter",
    "article_patterns", "follow_patterns", "max_depth", "allow_private", "timeout", "description",
}


def _spider_types() -> tuple[str, ...]:
    """The outlet types: those with a parser.  Imported here, not at the top: the parsers
    bring trafilatura and lxml, which commands that only read the database never need."""
    from crawler.parsing import OUTLET_PARSERS

    return tuple(OUTLET_PARSERS)


def _outlet(path: Path, lines: list[str], name: str, table: Any) -> Outlet:
    def error(key: str | None, message: str) -> ConfigError:
        where = _line_of(lines, key, section=f"outlets.{name}") if key else _line_of(lines, f"[outlets.{name}]")
        label = f"outlets.{name}.{key}" if key else f"outlets.{name}"
        return ConfigError(f"{path}:{where}: {label}: {message}")

    if not isinstance(table, dict):
        raise error(None, "must be a table")
    if not _NAME.match(name):
        raise error(None, "outlet names use lower-case letters, digits, '-' and '_'")
    for key in table:
        if key not in _FIELDS:
            raise error(key, f"unknown key (known: {', '.join(sorted(_FIELDS))})")
    for key in ("spider", "start_urls", "allowed_domains"):
        if key not in table:
            raise error(None, f"missing required key {key!r}")
    spider = table["spider"]
    spider_types = _spider_types()
    if spider not in spider_types:
        raise error("spider", f"{spider!r} is not one of {', '.join(spider_types)}")

    def strings(key: str, required: bool = False) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise error(key, "must be a list of non-empty strings")
        if required and not value:
            raise error(key, "must not be empty")
        return tuple(value)

    start_urls = strings("start_urls", required=True)
    allowed_domains = []
    for domain in strings("allowed_domains", required=True):
        # Scrapy requests an internationalised host in its ASCII (punycode) form, and its
        # off-site filter compares that form with allowed_domains.
        try:
            allowed_domains.append(domain.encode("idna").decode("ascii") if not domain.isascii() else domain)
        except UnicodeError as exc:
            raise error("allowed_domains", f"{domain!r} is not a domain name: {exc}") from None
    for url in start_urls:
        if problem := web_address_problem(url):
            raise error("start_urls", f"the URL {problem}")
    patterns = {key: strings(key) for key in ("article_patterns", "follow_patterns")}
    for key, values in patterns.items():
        for pattern in values:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise error(key, f"{pattern!r} is not a regular expression: {exc}") from None

    def boolean(key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise error(key, "must be true or false")
        return value

    def duration(key: str) -> int | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            raise error(key, str(exc)) from None

    if "every" in table and "cron" in table:
        raise error("cron", "give either 'every' or 'cron', not both")
    cron = table.get("cron")
    if cron is not None:
        try:
            check_cron(cron)
        except ValueError as exc:
            raise error("cron", str(exc)) from None
    max_depth = table.get("max_depth", 2)
    if not isinstance(max_depth, int) or isinstance(max_depth, bool) or not 0 <= max_depth <= 50:
        raise error("max_depth", "must be a whole number from 0 to 50")
    return Outlet(
        name=name,
        spider=spider,
        start_urls=start_urls,
        allowed_domains=tuple(allowed_domains),
        enabled=boolean("enabled", True),
        schedule=Schedule(every_s=duration("every"), cron=cron, jitter_s=duration("jitter") or 0),
        article_patterns=patterns["article_patterns"],
        follow_patterns=patterns["follow_patterns"],
        max_depth=max_depth,
        allow_private=boolean("allow_private", False),
        timeout_s=duration("timeout") or 1800,
    )


def _line_of(lines: list[str], key: str, section: str | None = None) -> int:
    """1-based line of ``key`` (inside ``[section]`` when given); 1 if not found."""
    in_section = section is None
    header = re.compile(r"^\s*\[\s*" + re.escape(section) + r"\s*\]") if section else None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if header is not None and stripped.startswith("["):
            in_section = bool(header.match(stripped))
            continue
        if in_section and (stripped.startswith(key) or stripped == key):
            return number
    return 1
