"""Pure parts of the alerts: channel checks and masking, message limits, backoff, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from newswatch.alerts.channels import ChannelError, mask, parse_channel, signature
from newswatch.alerts.evaluate import due_time, event_of
from newswatch.alerts.message import Event, Notification
from storage.outbox import backoff


def _event(title: str = "普京<b>访华</b>\x1b[31m", summary: str = "body +2/-0 chars") -> Event:
    return Event("putin", "edited", 7, "https://example.org/a/7.html", "bbc", title, "2024-11-08", 2, summary, "2026-11-29T00:00:00+00:00")


def test_backoff_ladder() -> None:
    assert [backoff(n) for n in range(1, 8)] == [
        timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
        timedelta(hours=12), timedelta(hours=12), timedelta(hours=12),
    ]


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("tgram://123456789:AAbbCCddEEffGGhh/12345", "AAbbCCddEEffGGhh"),
        ("mailto://user:hunter2secret@example.org?to=a@example.org", "hunter2secret"),
        ("webhook+https://hooks.example.org/services/T000/SECRETPATHTOKEN123?sig=abcdef", "SECRETPATHTOKEN123"),
        ("webhook+https://hooks.example.org/in?token=abcdefabcdef", "abcdefabcdef"),
    ],
)
def test_mask_hides_secrets(url: str, hidden: str) -> None:
    assert hidden not in mask(url)


def test_parse_channel_kinds_and_refusals() -> None:
    assert parse_channel("webhook+https://hooks.example.org/x").kind == "webhook"
    assert parse_channel("webhook+http://127.0.0.1:9/x").target == "http://127.0.0.1:9/x"
    assert parse_channel("mailto://user:pw@example.org").kind == "apprise"
    for bad in ("webhook+http://example.org/x", "nope://x", "no-scheme", "webhook+https://"):
        with pytest.raises(ChannelError):
            parse_channel(bad)


def test_text_is_cleaned_and_cut_to_the_limit_with_the_link_kept() -> None:
    long = _event(summary="合作" * 2000)
    note = Notification("putin", (long,), "k")
    assert "\x1b" not in note.text() and "<b>访华</b>" in note.text()
    short = note.text(limit=300)
    assert len(short) <= 300 and short.endswith("https://example.org/a/7.html") and "…" in short
    digest = Notification("putin", (long, _event()), "k2")
    cut = digest.text(limit=500)
    assert len(cut) <= 500 and cut.count("https://example.org/a/7.html") == 2
    assert digest.payload()["schema"] == "newswatch.watch-digest/1" and len(digest.payload()["events"]) == 2


def test_a_digest_longer_than_the_channel_keeps_whole_entries_and_says_how_many_are_left_out() -> None:
    events = tuple(
        Event("putin", "new", i, f"https://www.rfi.fr/cn/中国/20231108-张又侠今见普京-{i}", "rfi", f"张又侠今见普京 第{i}篇",
              "2023-11-08T15:23:00+01:00", 1, "new article", "2026-11-29T00:00:00+00:00")
        for i in range(120)
    )
    text = Notification("putin", events, "k", digest=True).text(limit=4096)  # Telegram's limit
    assert len(text) <= 4096
    entries, _, note = text.rpartition("\n\n")
    shown = entries.split("\n\n")
    assert 0 < len(shown) < 120 and note == f"… {120 - len(shown)} more events: newswatch watch show putin"
    for i, entry in enumerate(shown):  # the oldest first, each with its title and its whole link
        assert f"张又侠今见普京 第{i}篇" in entry and entry.endswith(f"\n{events[i].url}"), entry


def test_signature_is_hmac_sha256_of_the_body() -> None:
    import hmac

    assert signature("k", b"{}") == "sha256=" + hmac.new(b"k", b"{}", "sha256").hexdigest()


def _watch(**kw: object) -> SimpleNamespace:
    base = {"events": ["new", "edited", "title", "removed", "restored"], "include_cosmetic": False, "digest": None}
    return SimpleNamespace(**{**base, **kw})


def _change(version: int, changes: list[str] | None, event: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(version=version, changes=changes, event=event)


def test_event_of() -> None:
    watch = _watch()
    assert event_of(watch, _change(1, None)) == "new"  # type: ignore[arg-type]
    assert event_of(watch, _change(2, ["cosmetic"])) is None  # type: ignore[arg-type]
    assert event_of(_watch(include_cosmetic=True), _change(2, ["cosmetic"])) == "edited"  # type: ignore[arg-type]
    assert event_of(watch, _change(2, ["title", "body"])) == "title"  # type: ignore[arg-type]
    assert event_of(_watch(events=["edited"]), _change(2, ["title"])) == "edited"  # type: ignore[arg-type]
    assert event_of(watch, _change(3, None, "removed")) == "removed"  # type: ignore[arg-type]
    assert event_of(_watch(events=["new"]), _change(3, None, "removed")) is None  # type: ignore[arg-type]


def test_digest_due_times() -> None:
    now = datetime(2026, 11, 29, 13, 25, tzinfo=UTC)
    assert due_time(_watch(), now) == now  # type: ignore[arg-type]
    assert due_time(_watch(digest="1h"), now) == datetime(2026, 11, 29, 14, 0, tzinfo=UTC)  # type: ignore[arg-type]
    assert due_time(_watch(digest="1d"), now) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # type: ignore[arg-type]


def test_digest_windows_are_counted_from_the_epoch_and_bounded() -> None:
    from newswatch.alerts.evaluate import digest_window

    now = datetime(2026, 11, 29, 13, 25, 40, tzinfo=UTC)
    assert due_time(_watch(digest="1m"), now) == datetime(2026, 11, 29, 13, 26, tzinfo=UTC)  # type: ignore[arg-type]
    assert due_time(_watch(digest="15m"), now) == datetime(2026, 11, 29, 13, 30, tzinfo=UTC)  # type: ignore[arg-type]
    assert due_time(_watch(digest="6h"), now) == datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # type: ignore[arg-type]
    # On a boundary the window that starts there is the open one: due at its end.
    edge = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
    assert due_time(_watch(digest="1h"), edge) == datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # type: ignore[arg-type]
    assert digest_window("1d") == timedelta(days=1) and digest_window(None) is None
    for bad in ("0m", "30s", "8d", "1w", "h", "1000m", " "):
        with pytest.raises(ValueError):
            digest_window(bad)


def test_a_digest_watch_sends_the_digest_schema_even_for_one_event() -> None:
    one = Notification("putin", (_event(),), "k", digest=True)
    assert one.kind == "digest" and one.payload()["schema"] == "newswatch.watch-digest/1"
    assert one.subject() == "[putin] digest: 1 event"
    assert Notification("putin", (_event(),), "k").payload()["schema"] == "newswatch.watch-event/1"
