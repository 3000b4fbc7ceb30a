"""``/watches``, ``/watches/{name}`` and each watch's Atom feed, ``/watches/{name}/feed.atom``.

Read-only like every page: watches are added and changed with ``newswatch watch``.  The
feed is :func:`newswatch.alerts.feed.watch_feed`, the very bytes ``newswatch watch feed``
writes.  Channel URLs are shown masked and the signing secret never: the page may be
open to anyone who can reach the app.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from newswatch.alerts.channels import mask
from newswatch.alerts.feed import FEED_LIMIT, watch_feed
from newswatch.web.app import page, session
from newswatch.web.routes_search import ERRORS
from newswatch.web.schemas import WatchDetailOut, WatchesOut, WatchMatchOut, WatchOut
from storage import outbox
from storage import watches as store

router = APIRouter()
DB = Annotated[Session, Depends(session)]
#: What `newswatch watch add` accepts as a name.
Name = Annotated[str, PathParam(pattern=r"^[\w.-]{1,100}$", description="The watch's name")]
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def watch_out(db: Session, watch: Any) -> WatchOut:
    return WatchOut(
        name=watch.name, query=watch.query, outlets=list(watch.outlets), language=watch.language,
        events=list(watch.events), channels=[mask(url) for url in watch.channels], digest=watch.digest,
        paused=watch.paused, created_at=watch.created_at, matches=store.match_count(db, watch.id),
        deliveries=outbox.status_counts(db, watch.id), feed=f"/watches/{watch.name}/feed.atom",
    )


def build_watches(db: Session) -> WatchesOut:
    return WatchesOut(watches=[watch_out(db, w) for w in store.list_watches(db)])


@router.get("/watches.json", response_model=WatchesOut, responses=ERRORS, summary="Watches with their counts")
def watches_json(db: DB) -> WatchesOut:
    return build_watches(db)


@router.get("/watches", include_in_schema=False, response_class=HTMLResponse)
def watches_html(request: Request, db: DB) -> Response:
    return page(request, build_watches(db), "watches.html")


@router.get(
    "/watches/{name}/feed.atom",
    responses={200: {"content": {"application/atom+xml": {}}}, **ERRORS},
    summary="A watch's Atom feed (as `newswatch watch feed NAME`)",
)
def watch_feed_atom(db: DB, name: Name) -> Response:
    document = watch_feed(db, name, limit=FEED_LIMIT)
    if document is None:
        raise HTTPException(404, f"no watch named {name!r}")
    return Response(document, media_type=ATOM_TYPE)


def build_watch(db: Session, name: str) -> WatchDetailOut:
    watch = store.get_watch(db, name)
    if watch is None:
        raise HTTPException(404, f"no watch named {name!r}")
    matches = [
        WatchMatchOut(
            id=m.id, event=m.event, article_id=m.article_id, version=m.version, outlet=m.outlet, title=m.title,
            url=m.url, published_at=m.published_at, summary=m.summary, matched_at=m.created_at,
        )
        for m in store.recent_matches(db, watch.id, limit=FEED_LIMIT)
    ]
    return WatchDetailOut(watch=watch_out(db, watch), matches=matches)


# Declared before /watches/{name}: that one would take "putin.json" as a name.
@router.get("/watches/{name}.json", response_model=WatchDetailOut, responses=ERRORS, summary="A watch and its newest matches")
def watch_json(db: DB, name: Name) -> WatchDetailOut:
    return build_watch(db, name)


@router.get("/watches/{name}", include_in_schema=False, response_class=HTMLResponse)
def watch_html(request: Request, db: DB, name: Name) -> Response:
    return page(request, build_watch(db, name), "watch.html")
