"""Watches end to end: replay → match → outbox → a real SMTP server and a real webhook receiver.

Every process is the installed ``newswatch`` command; the receivers run in this process on
127.0.0.1.  Backoff is driven by ``watch run --now``, never by sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from tests.alerts.receivers import SmtpSink, WebhookReceiver, smtp, webhook  # noqa: F401
from tests.support.cli_helpers import FIXTURES, newswatch, newswatch_json

PORTAL = "portal/001_004c24d0aad6edaa.txt"
BBC = "bbc/004_8bde58f1e7eb70df.txt"
RFI = "rfi/003_1e4486f85b861131.txt"
EDITED_FROM = "俄方愿与中方加强战略沟通,提升务实合作水平"
EDITED_TO = "俄方愿与中方全面加强战略沟通,提升务实合作水平"
ATOM = "{http://www.w3.org/2005/Atom}"


def _ok(*args: str) -> str:
    result = newswatch(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _copy(tmp_path: Path, name: str) -> Path:
    tree = tmp_path / name
    shutil.copytree(FIXTURES, tree, ignore=shutil.ignore_patterns("*.expected.json"))
    return tree


def _articles(db: str) -> list[dict]:
    return [json.loads(line) for line in _ok("items", "export", "--db", db).splitlines()]


def test_replays_notify_each_matching_article_once_and_only_substantive_edits(
    tmp_path: Path, sqlite_url: str, smtp: SmtpSink, webhook: WebhookReceiver  # noqa: F811
) -> None:
    _ok("watch", "add", "putin", "--query", "普京", "--notify", smtp.url, "--notify", webhook.url, "--db", sqlite_url)
    _ok("replay", str(FIXTURES), "--db", sqlite_url)

    stored = _articles(sqlite_url)
    expected = sorted(a["id"] for a in stored if "普京" in a["title"] + a["body"])
    assert 0 < len(expected) < len(stored)  # the query selects, it does not pass everything
    assert sorted(h.json["article_id"] for h in webhook.accepted) == expected
    assert {h.json["event"] for h in webhook.accepted} == {"new"}
    titles = {a["id"]: a["title"] for a in stored}
    # (header folding may turn the ideographic space U+3000 into a plain one)
    assert sorted(" ".join(m["Subject"].split()) for m in smtp.messages) == sorted(
        " ".join(f"[putin] new: {titles[i]}".split()) for i in expected
    )
    assert all(m.get_content_type() == "text/plain" for m in smtp.messages)

    # The same pages again: nothing new, nothing sent.
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    assert len(webhook.accepted) == len(expected) and len(smtp.messages) == len(expected)

    # One edited sentence: one "edited" notification per channel, with the diff summary.
    tree = _copy(tmp_path, "edited")
    portal = tree / PORTAL
    text = portal.read_text(encoding="utf-8")
    assert EDITED_FROM in text
    portal.write_text(text.replace(EDITED_FROM, EDITED_TO), encoding="utf-8")
    _ok("replay", str(tree), "--db", sqlite_url)
    edited = webhook.accepted[len(expected):]
    assert [h.json["event"] for h in edited] == ["edited"]
    summary = edited[0].json["change_summary"]
    assert "body +2/-0 chars" in summary and "全面加强" in summary and "- " in summary
    assert edited[0].json["version"] == 2
    assert len(smtp.messages) == len(expected) + 1 and "edited" in smtp.messages[-1]["Subject"]

    # Whitespace-only (no version at all) and punctuation-only (a cosmetic version): no alert.
    spaced = _copy(tmp_path, "spaced")
    (spaced / PORTAL).write_text(
        "\n".join("  " + line + " \t " for line in portal.read_text(encoding="utf-8").splitlines()), encoding="utf-8"
    )
    _ok("replay", str(spaced), "--db", sqlite_url)
    punctuated = _copy(tmp_path, "punctuated")
    (punctuated / PORTAL).write_text(portal.read_text(encoding="utf-8").replace(",", "，"), encoding="utf-8")
    _ok("replay", str(punctuated), "--db", sqlite_url)
    portal_id = next(a["id"] for a in stored if a["outlet"] == "portal")  # edits keep the article's id
    history = newswatch_json("items", "history", str(portal_id), "--db", sqlite_url)
    assert [h["kind"] for h in history] == [None, ["body"], ["cosmetic"]]
    assert len(webhook.accepted) == len(expected) + 1 and len(smtp.messages) == len(expected) + 1

    # Webhook contract: signed with the watch's secret, one idempotency key per delivery.
    secret = newswatch_json("watch", "show", "putin", "--reveal-secret", "--db", sqlite_url)["secret"]
    for hit in webhook.accepted:
        digest = hmac.new(secret.encode(), hit.body, hashlib.sha256).hexdigest()
        assert hit.headers["X-Newswatch-Signature"] == f"sha256={digest}"
        assert hit.headers["Idempotency-Key"] == hit.json["idempotency_key"]
        assert set(hit.json) >= {"schema", "watch", "event", "article_id", "url", "outlet", "title",
                                 "published_at", "version", "change_summary", "link"}
    assert len({h.headers["Idempotency-Key"] for h in webhook.accepted}) == len(webhook.accepted)


def test_a_new_watch_starts_from_now_unless_backfilled(sqlite_url: str, webhook: WebhookReceiver) -> None:  # noqa: F811
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    _ok("watch", "add", "later", "--query", "普京", "--notify", webhook.url, "--db", sqlite_url)
    _ok("watch", "run", "--db", sqlite_url)
    assert webhook.hits == []
    added = _ok("watch", "add", "backfilled", "--query", "普京", "--backfill", "--db", sqlite_url)
    assert "3 stored match(es)" in added
    assert newswatch_json("watch", "show", "later", "--db", sqlite_url)["matches"] == []


def test_webhook_500_three_times_then_200_is_delivered_once_with_attempts_shown(
    sqlite_url: str, webhook: WebhookReceiver  # noqa: F811
) -> None:
    _retry_scenario(sqlite_url, webhook)


@pytest.mark.postgres
def test_webhook_retries_and_replays_on_postgresql(pg_url: str, webhook: WebhookReceiver) -> None:  # noqa: F811
    _retry_scenario(pg_url, webhook)
    _ok("replay", str(FIXTURES), "--db", pg_url)  # the same pages again: no new match on PostgreSQL either
    assert len(webhook.accepted) == 1


def _retry_scenario(sqlite_url: str, webhook: WebhookReceiver) -> None:  # noqa: F811
    _ok("watch", "add", "rfi-only", "--query", "张又侠 普京", "--outlet", "rfi", "--notify", webhook.url, "--db", sqlite_url)
    webhook.script = [500, 500, 500]
    _ok("replay", str(FIXTURES), "--db", sqlite_url)  # first attempt, right after the run: 500
    start = datetime.now(UTC)

    def run_at(delay: timedelta) -> dict:
        return newswatch_json("watch", "run", "--now", (start + delay).isoformat(), "--db", sqlite_url)

    assert run_at(timedelta(seconds=30))["failed"] == 0  # not due yet: backoff 1 min
    assert run_at(timedelta(minutes=1, seconds=5))["failed"] == 1
    assert run_at(timedelta(minutes=5))["sent"] == 0  # second backoff is 5 min from the 2nd failure
    assert run_at(timedelta(minutes=6, seconds=10))["failed"] == 1
    assert run_at(timedelta(minutes=36, seconds=20))["sent"] == 1
    assert run_at(timedelta(hours=20))["sent"] == 0

    assert [h.status for h in webhook.hits] == [500, 500, 500, 200]
    assert len({h.headers["Idempotency-Key"] for h in webhook.hits}) == 1
    shown = newswatch_json("watch", "show", "rfi-only", "--db", sqlite_url)
    (delivery,) = shown["deliveries"]
    assert delivery["status"] == "sent" and delivery["attempts"] == 4
    assert [t["ok"] for t in delivery["tries"]] == [False, False, False, True]
    assert delivery["tries"][0]["error"].startswith("HTTP 500")
    text = _ok("watch", "show", "rfi-only", "--db", sqlite_url)
    assert "sent" in text and "4" in text


def test_receiver_down_across_a_restart_is_delivered_after_it_once(sqlite_url: str) -> None:
    receiver = WebhookReceiver()  # not started: connections are refused
    _ok("watch", "add", "down", "--query", "张又侠", "--outlet", "rfi", "--notify", receiver.url, "--db", sqlite_url)
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    shown = newswatch_json("watch", "show", "down", "--db", sqlite_url)
    assert [(d["status"], d["attempts"]) for d in shown["deliveries"]] == [("failed", 1)]
    assert "cannot reach" in shown["deliveries"][0]["last_error"]
    receiver.start()
    try:
        later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
        # Each `watch run` is a new process: nothing but the database carries the outbox over.
        assert newswatch_json("watch", "run", "--now", later, "--db", sqlite_url)["sent"] == 1
        assert newswatch_json("watch", "run", "--now", later, "--db", sqlite_url)["sent"] == 0
        assert len(receiver.hits) == 1 and receiver.hits[0].json["event"] == "new"
    finally:
        receiver.stop()


def test_one_failing_channel_does_not_block_the_other(sqlite_url: str, webhook: WebhookReceiver) -> None:  # noqa: F811
    dead = WebhookReceiver()  # never started
    _ok("watch", "add", "two", "--query", "张又侠", "--outlet", "rfi", "--notify", dead.url, "--notify", webhook.url, "--db", sqlite_url)
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    assert len(webhook.accepted) == 1
    statuses = sorted(d["status"] for d in newswatch_json("watch", "show", "two", "--db", sqlite_url)["deliveries"])
    assert statuses == ["failed", "sent"]


def test_atom_feed_is_valid_and_stable_across_runs(tmp_path: Path, sqlite_url: str) -> None:
    _ok("watch", "add", "feed", "--query", "普京", "--db", sqlite_url)
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    first = tmp_path / "first.atom"
    _ok("watch", "feed", "feed", "--output", str(first), "--db", sqlite_url)
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    second = newswatch("watch", "feed", "feed", "--db", sqlite_url).stdout.encode("utf-8")
    assert first.read_bytes() == second

    root = etree.fromstring(second)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None, required
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 3 and all(i.startswith("tag:newswatch,2026:watch/") for i in ids)
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{required}") is not None
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        assert entry.find(f"{ATOM}link").get("href").startswith(("http", "fixture:"))


def test_a_channel_that_cannot_work_is_refused_in_one_line_with_secrets_masked(sqlite_url: str) -> None:
    for url, reason in [
        ("nonsense://token-abcdef123456", "apprise cannot use this URL"),
        ("webhook+http://hooks.example.org/in/SECRETSECRETSECRET", "plain http webhooks only"),
        ("webhook+ftp://example.org/x", "webhook+https://host/path"),
        ("just-words", "not a URL"),
    ]:
        result = newswatch("watch", "add", "bad", "--query", "普京", "--notify", url, "--db", sqlite_url)
        assert result.returncode == 2
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert reason in " ".join(lines) and "Traceback" not in result.stderr
        assert "SECRETSECRETSECRET" not in result.stderr and "abcdef123456" not in result.stderr
    listed = newswatch("watch", "list", "--db", sqlite_url)  # nothing stored: not even the database
    assert listed.returncode == 2 and "no database at" in listed.stderr


def test_watch_test_reports_each_channel(sqlite_url: str, smtp: SmtpSink, webhook: WebhookReceiver) -> None:  # noqa: F811
    dead = WebhookReceiver()  # never started
    _ok("watch", "add", "probe", "--query", "普京", "--notify", smtp.url, "--notify", webhook.url, "--notify", dead.url, "--db", sqlite_url)
    result = newswatch("watch", "test", "probe", "--db", sqlite_url)
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert [line.split()[0] for line in lines] == ["ok", "ok", "FAIL"]
    assert len(smtp.messages) == 1 and "test notification" in smtp.messages[0]["Subject"]
    assert len(webhook.accepted) == 1 and webhook.accepted[0].json["article_id"] == 0
    assert newswatch_json("watch", "show", "probe", "--db", sqlite_url)["deliveries"] == []  # tests bypass the outbox


def _rfi_copies(tmp_path: Path, n: int) -> Path:
    """``n`` RFI pages made from the fixture, each with an address and a sentence of its own."""
    page = (FIXTURES / RFI).read_text(encoding="utf-8")
    header = page.index("](https://www.rfi.fr/") + 2
    address_end = page.index(")", header)
    assert "普京欣喜地表示" in page
    tree = tmp_path / "copies"
    (tree / "rfi").mkdir(parents=True)
    for i in range(n):
        copy = page[:header] + f"https://www.rfi.fr/cn/copies/{i}" + page[address_end:]
        (tree / "rfi" / f"copy{i:03}.txt").write_text(copy.replace("普京欣喜地表示", f"普京第{i}次欣喜地表示", 1), encoding="utf-8")
    return tree


def test_every_due_delivery_goes_out_and_a_digest_window_is_one_message_however_many(
    tmp_path: Path, sqlite_url: str, webhook: WebhookReceiver  # noqa: F811
) -> None:
    many = 205  # more rows than the outbox hands out at once (200)
    _ok("watch", "add", "each", "--query", "普京", "--notify", webhook.url, "--db", sqlite_url)
    _ok("watch", "add", "daily", "--query", "普京", "--digest", "1d", "--notify", webhook.url + "?digest", "--db", sqlite_url)
    _ok("replay", str(_rfi_copies(tmp_path, many)), "--db", sqlite_url)
    assert len(newswatch_json("watch", "show", "each", "--limit", "1000", "--db", sqlite_url)["matches"]) == many

    # Right after the run: every immediate delivery, not only the first batch.
    assert len(webhook.accepted) == many
    assert {h.json["schema"] for h in webhook.accepted} == {"newswatch.watch-event/1"}

    # When the day closes: the whole window in one digest, not one per batch.
    tomorrow = (datetime.now(UTC) + timedelta(days=1, minutes=1)).isoformat()
    assert newswatch_json("watch", "run", "--now", tomorrow, "--db", sqlite_url)["sent"] == many
    digests = [h.json for h in webhook.accepted[many:]]
    assert [d["schema"] for d in digests] == ["newswatch.watch-digest/1"]
    assert len(digests[0]["events"]) == many
    assert newswatch_json("watch", "run", "--now", tomorrow, "--db", sqlite_url)["sent"] == 0


def test_a_webhook_that_redirects_is_a_failed_delivery_not_a_bodyless_get(sqlite_url: str) -> None:
    moved = WebhookReceiver(moved_to="/hook/").start()  # POST /hook → 301 /hook/, as a web server adding its slash
    try:
        _ok("watch", "add", "moved", "--query", "张又侠", "--outlet", "rfi", "--notify", moved.url, "--db", sqlite_url)
        _ok("replay", str(FIXTURES), "--db", sqlite_url)
        assert [(h.method, h.status) for h in moved.hits] == [("POST", 301)]  # followed, it would be a GET without the body
        (delivery,) = newswatch_json("watch", "show", "moved", "--db", sqlite_url)["deliveries"]
        assert delivery["status"] == "failed"
        assert "HTTP 301" in delivery["last_error"] and "/hook/" in delivery["last_error"]
    finally:
        moved.stop()


def test_a_name_the_web_page_could_not_link_to_is_refused(sqlite_url: str) -> None:
    # /watches/a.json is the JSON twin of watch "a"; a browser resolves /watches/.. to /.
    for name in ("putin.json", ".", ".."):
        result = newswatch("watch", "add", name, "--query", "普京", "--db", sqlite_url)
        assert result.returncode == 2, (name, result.stdout)
        assert f"watch name {name!r}" in result.stderr and "Traceback" not in result.stderr
    _ok("watch", "add", "putin.v2", "--query", "普京", "--db", sqlite_url)
    _ok("watch", "add", "..putin", "--query", "普京", "--db", sqlite_url)


def test_watch_feed_to_a_path_it_cannot_write_says_so_in_one_line(tmp_path: Path, sqlite_url: str) -> None:
    _ok("watch", "add", "feed", "--query", "普京", "--db", sqlite_url)
    for target in (tmp_path / "missing" / "feed.atom", tmp_path):
        result = newswatch("watch", "feed", "feed", "--output", str(target), "--db", sqlite_url)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert f"cannot write {target}" in " ".join(result.stderr.split())


def test_an_outlet_no_config_or_article_has_is_warned_of_but_kept(sqlite_url: str) -> None:
    """Live crawls store config names (bbc_zhongwen), replays folder names (bbc): a third name matches nothing."""
    assert newswatch("replay", str(FIXTURES), "--db", sqlite_url).returncode == 0
    known = newswatch("watch", "add", "a", "--query", "普京", "--outlet", "bbc", "--outlet", "rfi_cn", "--db", sqlite_url)
    assert known.returncode == 0 and "warning" not in known.stderr  # a stored outlet, a configured one
    typo = newswatch("watch", "add", "b", "--query", "普京", "--outlet", "bbcc", "--db", sqlite_url)
    assert typo.returncode == 0
    assert "warning: --outlet bbcc: no configured outlet and no stored article has this name" in typo.stderr
    assert [w["outlets"] for w in newswatch_json("watch", "list", "--db", sqlite_url)] == [["bbc", "rfi_cn"], ["bbcc"]]


def test_a_watch_removed_and_added_again_sends_under_new_keys(sqlite_url: str, webhook: WebhookReceiver) -> None:  # noqa: F811
    """SQLite gives the removed (newest) watch's id to the next one: its keys must still be new."""
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    for _ in range(2):
        _ok("watch", "add", "again", "--query", "普京", "--backfill", "--notify", webhook.url, "--db", sqlite_url)
        _ok("watch", "run", "--db", sqlite_url)
        _ok("watch", "remove", "again", "--db", sqlite_url)
    keys = [hit.headers["Idempotency-Key"] for hit in webhook.accepted]
    assert len(keys) == 6 and len(set(keys)) == 6, keys  # three matches, each sent once per lifetime


def test_an_edit_that_takes_the_watched_words_out_is_notified(
    tmp_path: Path, sqlite_url: str, webhook: WebhookReceiver  # noqa: F811
) -> None:
    _ok("watch", "add", "talks", "--query", "战略沟通", "--notify", webhook.url, "--db", sqlite_url)
    _ok("replay", str(FIXTURES), "--db", sqlite_url)
    assert [h.json["event"] for h in webhook.accepted] == ["new"]  # only the portal article says it
    tree = _copy(tmp_path, "scrubbed")
    portal = tree / PORTAL
    portal.write_text(portal.read_text(encoding="utf-8").replace("战略沟通", "沟通"), encoding="utf-8")
    _ok("replay", str(tree), "--db", sqlite_url)
    scrubbed = webhook.accepted[1:]
    assert [h.json["event"] for h in scrubbed] == ["edited"]
    assert "战略沟通" in scrubbed[0].json["change_summary"]  # the diff shows what went
