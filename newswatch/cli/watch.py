"""``newswatch watch``: standing queries that notify on new, edited and removed articles."""

from __future__ import annotations

import re
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from newswatch.alerts import channels, deliver, evaluate, feed
from newswatch.alerts.message import Event, Notification
from newswatch.cli.options import (
    DbOption,
    JsonOption,
    output_errors,
    state,
    storage_errors,
    with_db,
)
from newswatch.cli.render import console, err_console, fail, print_json, table, text
from storage import outbox
from storage import watches as store
from storage.db import Database
from storage.textsearch import parse_query

app = typer.Typer(help="Watches: be told when a story gets a new, edited or removed article.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The watch's name.")]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Act as if it were this ISO 8601 time (tests, replaying a backlog).", show_default=False),
]
_NAME = re.compile(r"^[\w.-]{1,100}$")


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now {value!r} is not an ISO 8601 time")
        raise typer.Exit(2) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _watch_or_exit(session: Any, name: str) -> Any:
    found = store.get_watch(session, name)
    if found is None:
        fail(f"no watch named {name!r} (see `newswatch watch list`)")
        raise typer.Exit(1)
    return found


@app.command()
def add(
    ctx: typer.Context,
    name: NameArg,
    query: Annotated[str, typer.Option("--query", "-q", help='Words and "phrases" that must all appear; -word excludes.')],
    outlet: Annotated[list[str] | None, typer.Option("--outlet", help="Only this outlet (repeatable).")] = None,
    language: Annotated[str | None, typer.Option("--language", help="zh or en.")] = None,
    events: Annotated[str, typer.Option("--events", help="Comma-separated: new,edited,title,removed,restored.")] = ",".join(evaluate.EVENTS),
    notify: Annotated[list[str] | None, typer.Option("--notify", help="Channel URL (repeatable): mailto://…, webhook+https://…, any apprise URL.")] = None,
    digest: Annotated[str | None, typer.Option("--digest", help="Batch deliveries into one message per window: 1h (on the hour) or 1d (midnight UTC); also 15m, 6h …")] = None,
    cosmetic: Annotated[bool, typer.Option("--cosmetic", help="Also alert on cosmetic edits (whitespace, punctuation, furniture).")] = False,
    backfill: Annotated[bool, typer.Option("--backfill", help="Also match what is stored already (default: from now on).")] = False,
    db: DbOption = None,
) -> None:
    """Add a watch. Example: newswatch watch add putin --query "普京 俄罗斯" --notify mailto://user:pass@example.org"""
    if not _NAME.match(name):
        fail(f"watch name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
        raise typer.Exit(2)
    if name in (".", "..") or name.endswith(".json"):
        # The web page could not link to it: /watches/NAME.json is a watch's JSON twin, and a
        # browser resolves /watches/.. to / before asking.
        fail(f"watch name {name!r}: not '.' or '..', and not ending in .json (the web page's JSON addresses)")
        raise typer.Exit(2)
    if parse_query(query).empty:
        fail(f"--query {query!r} has no word to match")
        raise typer.Exit(2)
    chosen = [e.strip() for e in events.split(",") if e.strip()]
    unknown = sorted(set(chosen) - set(evaluate.EVENTS))
    if unknown or not chosen:
        fail(f"--events: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(evaluate.EVENTS)}")
        raise typer.Exit(2)
    if language not in (None, "zh", "en"):
        fail(f"--language {language!r}: zh or en")
        raise typer.Exit(2)
    digest = digest.strip() if digest else None
    try:
        evaluate.digest_window(digest)
    except ValueError as exc:
        fail(f"--digest {exc}")
        raise typer.Exit(2) from None
    urls = notify or []
    for url in urls:
        try:
            channels.parse_channel(url)
        except channels.ChannelError as exc:
            fail(f"--notify {exc}")
            raise typer.Exit(2) from None
    database = with_db(ctx, db).database()
    _warn_unknown_outlets(ctx, database, outlet or [])
    now = datetime.now(UTC)
    spec = store.WatchSpec(
        name=name, query=query, outlets=list(outlet or []), language=language, events=chosen,
        channels=urls, digest=digest, include_cosmetic=cosmetic, secret=secrets.token_hex(32),
    )
    with storage_errors():
        try:
            watch = store.create_watch(database, spec, now=now, backfill=backfill)
        except store.WatchExists as exc:
            fail(str(exc))
            raise typer.Exit(1) from None
        matched = evaluate.backfill(database, watch, now=now) if backfill else 0
    console.print(text(f"watch {name} added", "bold") + text(f" ({len(urls)} channel(s); " + (f"{matched} stored match(es))" if backfill else "from now on)")))
    if any(u.lower().startswith(channels.WEBHOOK_PREFIX) for u in urls):
        console.print(text("webhook signing secret (X-Newswatch-Signature, HMAC-SHA256): ") + text(watch.secret))


def _warn_unknown_outlets(ctx: typer.Context, database: Database, wanted: list[str]) -> None:
    """Warn of an --outlet that names no configured outlet and no stored article's outlet.

    Live crawls store an article under its outlet's name in the config (``bbc_zhongwen``),
    replays under their folder's (``bbc``): a watch on another name matches nothing.
    It is kept all the same: the outlet may be configured or replayed later.
    """
    from crawler.outlets import ConfigError, load_outlets
    from storage.browse import stored_outlets

    try:
        known = set(load_outlets(state(ctx).config_path))
    except ConfigError:
        known = set()
    with database.read_session() as session:
        known.update(stored_outlets(session))
    for name in wanted:
        if name not in known:
            err_console.print(text(
                f"warning: --outlet {name}: no configured outlet and no stored article has this name "
                f"(known: {', '.join(sorted(known)) or 'none'}); the watch matches nothing until one does",
                "yellow",
            ))


@app.command("list")
def list_watches(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List watches with their match and delivery counts."""
    database = with_db(ctx, db).database(existing=True)
    with database.read_session() as session:
        rows = [
            (w, store.match_count(session, w.id), outbox.status_counts(session, w.id))
            for w in store.list_watches(session)
        ]
    if as_json:
        print_json([{**_watch_dict(w), "matches": n, "deliveries": counts} for w, n, counts in rows])
        return
    result = table("name", "query", "events", "channels", "state", "matches", "sent", "pending", "failed", "dead", title="Watches")
    for w, n, counts in rows:
        result.add_row(
            text(w.name), text(w.query), text(",".join(w.events)), text(len(w.channels)),
            text("paused" if w.paused else "active"), text(n),
            *(text(counts[k]) for k in ("sent", "pending", "failed", "dead")),
        )
    console.print(result)


def _watch_dict(w: Any) -> dict[str, Any]:
    return {
        "name": w.name, "query": w.query, "outlets": w.outlets, "language": w.language,
        "events": w.events, "channels": [channels.mask(u) for u in w.channels], "digest": w.digest,
        "include_cosmetic": w.include_cosmetic, "paused": w.paused, "created_at": w.created_at.isoformat(),
    }


@app.command()
def show(
    ctx: typer.Context,
    name: NameArg,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Recent matches and deliveries to show.")] = 20,
    reveal_secret: Annotated[bool, typer.Option("--reveal-secret", help="Print the webhook signing secret.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A watch with its recent matches and deliveries (status, attempts, last error)."""
    database = with_db(ctx, db).database(existing=True)
    with database.read_session() as session:
        watch = _watch_or_exit(session, name)
        matches = store.recent_matches(session, watch.id, limit=limit)
        sent = outbox.deliveries(session, watch.id, limit=limit)
    info = _watch_dict(watch)
    if reveal_secret:
        info["secret"] = watch.secret
    match_rows = [
        {"id": m.id, "event": m.event, "article_id": m.article_id, "version": m.version, "outlet": m.outlet,
         "title": m.title, "summary": m.summary, "matched_at": m.created_at.isoformat()}
        for m in matches
    ]
    delivery_rows = [
        {"outbox_id": d.outbox_id, "match_id": d.match_id, "channel": channels.mask(watch.channels[d.channel]) if d.channel < len(watch.channels) else "?",
         "status": d.status, "attempts": d.attempts, "last_error": d.last_error,
         "next_attempt_at": d.next_attempt_at.isoformat(), "sent_at": d.sent_at.isoformat() if d.sent_at else None,
         "tries": [{"at": at.isoformat(), "ok": ok, "error": err} for at, ok, err in d.tries]}
        for d in sent
    ]
    if as_json:
        print_json({**info, "matches": match_rows, "deliveries": delivery_rows})
        return
    for key, value in info.items():
        console.print(text(f"{key:17}", "bold") + text(value if not isinstance(value, list) else ", ".join(map(str, value)) or "—"))
    result = table("match", "event", "article", "v", "outlet", "title", "summary", title="Recent matches")
    for m in match_rows:
        result.add_row(*(text(m[k]) for k in ("id", "event", "article_id", "version", "outlet", "title", "summary")))
    console.print(result)
    result = table("match", "channel", "status", "attempts", "last error", "next attempt", title="Deliveries")
    for d in delivery_rows:
        result.add_row(*(text(d[k] if d[k] is not None else "—") for k in ("match_id", "channel", "status", "attempts", "last_error", "next_attempt_at")))
    console.print(result)


def _set_paused(ctx: typer.Context, name: str, db: str | None, paused: bool) -> None:
    with storage_errors():
        if not store.set_paused(with_db(ctx, db).database(), name, paused):
            fail(f"no watch named {name!r}")
            raise typer.Exit(1)
    console.print(text(f"watch {name} {'paused' if paused else 'resumed'}"))


@app.command()
def pause(ctx: typer.Context, name: NameArg, db: DbOption = None) -> None:
    """Stop matching (runs meanwhile are not matched later); deliveries already queued still go."""
    _set_paused(ctx, name, db, True)


@app.command()
def resume(ctx: typer.Context, name: NameArg, db: DbOption = None) -> None:
    """Match again, from the next run on."""
    _set_paused(ctx, name, db, False)


@app.command()
def remove(ctx: typer.Context, name: NameArg, db: DbOption = None) -> None:
    """Delete a watch with its matches and its outbox."""
    with storage_errors():
        if not store.remove_watch(with_db(ctx, db).database(), name):
            fail(f"no watch named {name!r}")
            raise typer.Exit(1)
    console.print(text(f"watch {name} removed"))


@app.command()
def test(ctx: typer.Context, name: NameArg, db: DbOption = None) -> None:
    """Send one sample notification to every channel of the watch and report each result."""
    with with_db(ctx, db).database().read_session() as session:
        watch = _watch_or_exit(session, name)
    now = datetime.now(UTC)
    sample = Event(
        watch=watch.name, event="new", article_id=0, url="https://example.org/newswatch-test",
        outlet="test", title="newswatch test notification", published_at=now.date().isoformat(),
        version=1, change_summary=f"A test of watch {watch.name!r}; nothing happened.", matched_at=now.isoformat(),
    )
    failures = 0
    for url in watch.channels:
        notification = Notification(watch.name, (sample,), f"nw-test:{secrets.token_hex(8)}")
        try:
            channels.send(channels.parse_channel(url), notification, secret=watch.secret)
            console.print(text("ok    ", "green") + text(channels.mask(url)))
        except (channels.ChannelError, channels.DeliveryError) as exc:
            failures += 1
            console.print(text("FAIL  ", "bold red") + text(str(exc)))
    if not watch.channels:
        console.print(text(f"watch {name} has no channels (its Atom feed: newswatch watch feed {name})"))
    raise typer.Exit(1 if failures else 0)


@app.command()
def run(ctx: typer.Context, now: NowOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Catch up: evaluate runs not yet matched, then send every due delivery (retries included)."""
    moment = _now(now)
    database = with_db(ctx, db).database()
    with storage_errors():
        added = evaluate.catch_up(database, now=moment)
        report = deliver.deliver_due(database, now=moment)
    summary = {"new_matches": added, "sent": report.sent, "failed": report.failed, "dead": report.dead, "errors": report.errors}
    if as_json:
        print_json(summary)
        return
    console.print(text(f"{added} new match(es); sent {report.sent}, failed {report.failed}, dead {report.dead}"))
    for error in report.errors:
        console.print(text("  " + error, "yellow"))


@app.command("feed")
def feed_command(
    ctx: typer.Context,
    name: NameArg,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest matches in the feed.")] = feed.FEED_LIMIT,
    db: DbOption = None,
) -> None:
    """The watch's Atom feed (as the web app serves it at /watches/NAME/feed.atom).

    Example: newswatch watch feed putin -o putin.atom
    """
    with with_db(ctx, db).database(existing=True).read_session() as session:
        document = feed.watch_feed(session, name, limit=limit)
    if document is None:
        fail(f"no watch named {name!r} (see `newswatch watch list`)")
        raise typer.Exit(1)
    if output:
        with output_errors(output):
            output.write_bytes(document)
    else:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
