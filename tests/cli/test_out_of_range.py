"""Out-of-range values: one line naming the value, exit status 2, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

from storage.db import open_database
from tests.scheduling.test_scheduler import make_site, outlet_toml
from tests.support.cli_helpers import newswatch


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "Error:"))]


def test_ids_beyond_64_bits_are_refused_naming_the_value(sqlite_url: str) -> None:
    for command in (("items", "show"), ("runs", "show")):
        result = newswatch(*command, str(2**64 + 5), "--db", sqlite_url)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert str(2**64 + 5) in "\n".join(error_lines(result.stderr))


def test_a_corrupt_sqlite_file_or_a_database_folder_that_is_a_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not an SQLite database\n" * 200)
    before = corrupt.read_bytes()
    not_a_folder = tmp_path / "plain-file"
    not_a_folder.write_text("x")
    for url in (f"sqlite:///{corrupt}", f"sqlite:///{not_a_folder}/newswatch.db"):
        for command in (("items", "list"), ("items", "show", "1")):
            result = newswatch(*command, "--db", url)
            assert result.returncode == 2, (command, result.stderr)
            assert "Traceback" not in result.stderr and len(error_lines(result.stderr)) == 1
    assert corrupt.read_bytes() == before  # nothing written into it
    # A command that records would create the file, and says why it cannot.
    created = newswatch("watch", "add", "w", "--query", "x", "--db", f"sqlite:///{not_a_folder}/x.db")
    assert "is not a folder" in created.stderr


ABSURD_SCHEDULES = [
    (("--every", "99999999999999999999d"), "99999999999999999999d"),
    (("--every", "400d"), "400d"),
    (("--every", "1h", "--jitter", "9999999d"), "9999999d"),
    (("--every", "1h", "--timeout", "100000000h"), "100000000h"),
    (("--every", "1h", "--timeout", "0s"), "'0s' must be at least 1s"),
    (("--cron", "0 0 31 2 *"), "0 0 31 2 *"),
]


def test_absurd_schedules_are_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    site = make_site(tmp_path, outlet_toml("a", "http://127.0.0.1:9/rss.xml"))
    for args, named in ABSURD_SCHEDULES:
        result = site.cli("schedule", "add", "a", *args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr and named in result.stderr
    listed = site.cli("schedule", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_an_absurd_timeout_in_the_config_is_a_config_error(tmp_path: Path) -> None:
    site = make_site(tmp_path, outlet_toml("a", "http://127.0.0.1:9/rss.xml", timeout="99999999999999d"))
    result = site.cli("crawl", "a")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "99999999999999d" in result.stderr
    listed = site.cli("runs", "list", "--json")  # no run half-started: not even a database
    assert listed.returncode == 2 and "no database at" in listed.stderr


def test_a_job_stopped_by_a_never_firing_cron_is_started_by_a_new_schedule(tmp_path: Path) -> None:
    from apscheduler.triggers.cron import CronTrigger

    from newswatch.scheduling import Options, job_store, put_job

    site = make_site(tmp_path, outlet_toml("a", "http://127.0.0.1:9/rss.xml"))
    options = Options.from_settings()
    with job_store(site.db, options) as scheduler:  # as an older newswatch stored it
        put_job(scheduler, "a", CronTrigger.from_crontab("0 0 31 2 *", timezone="UTC"), options=options)
    before = json.loads(site.cli("schedule", "list", "--json").stdout)
    assert before[0]["state"] == "paused"

    result = site.cli("schedule", "add", "a", "--every", "30m", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "scheduled"

    assert site.cli("schedule", "pause", "a").returncode == 0  # a person's pause still holds
    again = site.cli("schedule", "add", "a", "--every", "1h", "--json")
    assert json.loads(again.stdout)["state"] == "paused"


def test_a_db_given_on_the_command_line_wins_over_the_environment(tmp_path: Path) -> None:
    """``--db`` before or after the command beats NEWSWATCH_DB; the environment beats the default."""
    environment_db, typed_db = tmp_path / "environment.db", tmp_path / "typed.db"
    env = {"NEWSWATCH_DB": f"sqlite:///{environment_db}"}
    typed = f"sqlite:///{typed_db}"
    for args in (("--db", typed, "info", "--json"), ("info", "--json", "--db", typed)):
        result = newswatch(*args, env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["database"] == typed
    result = newswatch("info", "--json", env=env)
    assert json.loads(result.stdout)["database"] == env["NEWSWATCH_DB"]
    # A command that opens the database opens the typed one, not the environment's.
    assert newswatch("--db", typed, "watch", "add", "w", "--query", "中俄", env=env).returncode == 0
    assert typed_db.exists() and not environment_db.exists()


def test_a_read_command_refuses_an_sqlite_file_that_is_not_there(tmp_path: Path) -> None:
    """A mistyped --db is an error, not a new empty database that answers 'nothing stored'."""
    missing = tmp_path / "typo" / "newswatch.db"
    url = f"sqlite:///{missing}"
    for command in (("items", "list"), ("items", "export"), ("runs", "list"), ("watch", "list"), ("items", "show", "1")):
        result = newswatch(*command, "--db", url)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert error_lines(result.stderr) == [f"error: no database at {missing}: nothing has been recorded there "
                                              "(`newswatch replay` or `newswatch crawl` creates it)"]
    assert not missing.parent.exists()
    # A command that records creates it, and the read commands then answer.
    assert newswatch("watch", "add", "w", "--query", "中俄", "--db", url).returncode == 0
    assert newswatch("items", "list", "--db", url).returncode == 0


def test_an_output_file_that_cannot_be_written_is_one_line(sqlite_url: str, tmp_path: Path) -> None:
    open_database(sqlite_url).dispose()
    for output in (tmp_path / "missing" / "x.jsonl", tmp_path):  # no such folder; a folder
        for fmt in ("jsonl", "csv"):
            result = newswatch("items", "export", "--format", fmt, "-o", str(output), "--db", sqlite_url)
            assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
            assert error_lines(result.stderr) == [f"error: cannot write {output}: " + (
                "No such file or directory" if output != tmp_path else "Is a directory")]


def test_a_setting_that_is_not_a_number_is_one_error_line(tmp_path: Path) -> None:
    site = make_site(tmp_path, outlet_toml("a", "http://127.0.0.1:9/rss.xml"))
    for name, command in (("NEWSWATCH_LOCK_LEASE_S", ("schedule", "list")),
                          ("NEWSWATCH_BROKER_DELIVERY_TIMEOUT_S", ("worker",)),
                          ("NEWSWATCH_SCHEDULER_WORKERS", ("scheduler", "run"))):
        result = newswatch("--config", str(site.config), *command, "--db", site.db_url,
                           env={"NEWSWATCH_HOME": str(tmp_path / "home"), name: "1O"})
        assert result.returncode == 2, (name, result.stdout + result.stderr)
        assert "Traceback" not in result.stderr
        assert error_lines(result.stderr) == [f"error: {name}='1O' is not a number"], result.stderr
