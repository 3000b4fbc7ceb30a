"""``/`` and ``/search`` (with facets, CSV and JSONL downloads) and ``/stories``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from newswatch.spreadsheet import inert_row
from newswatch.web.app import MAX_ID, page, session
from newswatch.web.schemas import (
    ErrorOut,
    FacetOut,
    HitOut,
    MemberOut,
    SearchOut,
    SnippetPiece,
    StoriesOut,
    StoryOut,
)
from newswatch.web.snippets import plain, snippet
from storage import browse, search_queries
from storage.search_queries import SearchFilters

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
#: Rows in one CSV/JSONL download.
EXPORT_MAX = 5000
#: Newest matching articles whose stories /stories shows.
STORY_HITS = 200

Q = Annotated[str, Query(max_length=500, description="Words, \"phrases\", -excluded words")]
Outlet = Annotated[str | None, Query(max_length=100)]
Lang = Annotated[str | None, Query(max_length=16)]
Day = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (published date)")]
SortParam = Annotated[Literal["new", "relevance"], Query(description="new: newest first; relevance: best of the newest 1,000")]
After = Annotated[int | None, Query(ge=0, le=MAX_ID, description="Keyset: the next_after of the previous page")]
Kind = Annotated[Literal["article", "video", "image_post", "text_post"] | None,
                 Query(description="Page kind: article, or a video or picture post that carries text")]
Offset = Annotated[int, Query(ge=0, le=search_queries.RELEVANCE_WINDOW,
                              description="sort=relevance: the next_offset of the previous page (with its next_after)")]
DB = Annotated[Session, Depends(session)]


def _day(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def _filters(q: str, outlet: str | None, lang: str | None, from_: str | None, to: str | None,
             sort: str, after: int | None, kind: str | None = None, offset: int = 0, limit: int = 50) -> SearchFilters:
    for name, value in (("q", q), ("outlet", outlet), ("lang", lang)):
        # PostgreSQL refuses NUL in text; no name or word contains a control character.
        if value and any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            raise HTTPException(400, f"{name}: control characters are not allowed")
    return SearchFilters(
        q=q.strip(), outlet=outlet or None, lang=lang or None, date_from=_day("from", from_),
        date_to=_day("to", to), sort="relevance" if sort == "relevance" else "new", after=after, kind=kind or None,
        offset=offset if sort == "relevance" else 0, limit=limit,
    )


def _hit_out(hit: search_queries.ArticleHit, filters: SearchFilters) -> HitOut:
    return HitOut(
        id=hit.id, title=hit.title, url=hit.url, outlet=hit.outlet, language=hit.language,
        published_at=hit.published_at, first_seen_at=hit.first_seen_at, version_count=hit.version_count,
        copy_of=hit.duplicate_of, similarity=hit.similarity,
        snippet=[SnippetPiece(text=p.text, hit=p.hit) for p in snippet(hit.body, filters.query)],
    )


def build_search(db: Session, filters: SearchFilters) -> SearchOut:
    searching = bool(filters.q)
    if searching and filters.query.empty:
        raise HTTPException(400, "q: nothing to search for (only punctuation or exclusions)")
    result = search_queries.search(db, filters, with_facets=searching, with_count=True)
    total, capped = result.total or 0, result.total_capped
    return SearchOut(
        q=filters.q, sort=filters.sort, kind=filters.kind, total=total, total_capped=capped,
        hits=[_hit_out(h, filters) for h in result.hits], next_after=result.next_after,
        offset=filters.offset, next_offset=result.next_offset, facets_window=result.facets_window,
        facets={name: [FacetOut(value=f.value, count=f.count) for f in values] for name, values in result.facets.items()},
    )


@router.get("/search.json", response_model=SearchOut, responses=ERRORS, summary="Search articles")
def search_json(db: DB, q: Q = "", outlet: Outlet = None, lang: Lang = None,
                from_: Annotated[str | None, Query(alias="from", max_length=10)] = None, to: Day = None,
                kind: Kind = None, sort: SortParam = "new", after: After = None, offset: Offset = 0) -> SearchOut:
    return build_search(db, _filters(q, outlet, lang, from_, to, sort, after, kind, offset))


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
@router.get("/search", include_in_schema=False, response_class=HTMLResponse)
def search_html(request: Request, db: DB, q: Q = "", outlet: Outlet = None, lang: Lang = None,
                from_: Annotated[str | None, Query(alias="from", max_length=10)] = None, to: Day = None,
                kind: Kind = None, sort: SortParam = "new", after: After = None, offset: Offset = 0) -> Response:
    model = build_search(db, _filters(q, outlet, lang, from_, to, sort, after, kind, offset))
    params = {"q": model.q, "outlet": outlet, "lang": lang, "from": from_, "to": to, "kind": kind,
              "sort": sort if sort != "new" else None}
    return page(request, model, "search.html", params=params, kinds=search_queries.KINDS)


_EXPORT_FIELDS = ("id", "title", "outlet", "language", "published_at", "first_seen_at", "url",
                  "version_count", "copy_of", "similarity", "snippet")


def _export_rows(db: Session, filters: SearchFilters) -> Iterator[dict[str, object]]:
    """Newest first by keyset pages, or (sort=relevance) the ranked window by offsets."""
    after, offset, sent = filters.after, filters.offset, 0
    while sent < EXPORT_MAX:
        result = search_queries.search(db, replace(filters, after=after, offset=offset, limit=200))
        for hit in result.hits:
            out = _hit_out(hit, filters)
            row = jsonable_encoder(out)
            row["snippet"] = plain(snippet(hit.body, filters.query))
            yield {name: row[name] for name in _EXPORT_FIELDS}
            sent += 1
        if result.next_after is None:
            return
        after, offset = result.next_after, result.next_offset or 0


def _export_filters(q: Q = "", outlet: Outlet = None, lang: Lang = None,
                   from_: Annotated[str | None, Query(alias="from", max_length=10)] = None, to: Day = None,
                   kind: Kind = None, sort: SortParam = "new", after: After = None,
                   offset: Offset = 0) -> SearchFilters:
    """The downloads' query parameters (a FastAPI dependency): both take the same ones, and
    refuse a query with nothing to search for (an empty ``q`` downloads the newest articles)."""
    filters = _filters(q, outlet, lang, from_, to, sort, after, kind, offset)
    if filters.q and filters.query.empty:
        raise HTTPException(400, "q: nothing to search for")
    return filters


ExportFilters = Annotated[SearchFilters, Depends(_export_filters)]


@router.get("/search.csv", responses={200: {"content": {"text/csv": {}}}, **ERRORS}, summary="Search results as CSV")
def search_csv(db: DB, filters: ExportFilters) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_EXPORT_FIELDS)
    writer.writeheader()
    for row in _export_rows(db, filters):
        writer.writerow(inert_row(row))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="newswatch-search.csv"'})


@router.get("/search.jsonl", responses={200: {"content": {"application/jsonl": {}}}, **ERRORS}, summary="Search results as JSON lines")
def search_jsonl(db: DB, filters: ExportFilters) -> Response:
    body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in _export_rows(db, filters))
    return StreamingResponse(iter([body]), media_type="application/jsonl; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="newswatch-search.jsonl"'})


def member_out(m: browse.StoryMember) -> MemberOut:
    return MemberOut(
        id=m.id, outlet=m.outlet, title=m.title, url=m.url, published_at=m.published_at,
        first_seen_at=m.first_seen_at, version_count=m.version_count, last_edited_at=m.last_edited_at,
        copy_of=m.duplicate_of, similarity=m.similarity, relation=m.relation,
    )


def build_stories(db: Session, q: str, article: int | None) -> StoriesOut:
    found: list[browse.Story] = []
    if article is not None:
        one = browse.story(db, article)
        if one is None:
            raise HTTPException(404, f"no article {article}")
        found = [one]
    elif q.strip():
        filters = SearchFilters(q=q.strip(), limit=STORY_HITS)
        if filters.query.empty:
            raise HTTPException(400, "q: nothing to search for")
        hits = search_queries.search(db, filters).hits
        found = browse.stories(db, [h.duplicate_of or h.id for h in hits])
        # Stories told by several outlets first, then the newest.
        found.sort(key=lambda s: (-len({m.outlet for m in s.members}), -s.root))
        found = found[:30]
    return StoriesOut(
        q=q, article=article,
        stories=[StoryOut(root=s.root, first_publisher=s.members[0].outlet, members=[member_out(m) for m in s.members]) for s in found],
    )


StoryArticle = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Show the story of this article")]


@router.get("/stories.json", response_model=StoriesOut, responses=ERRORS, summary="One story across outlets")
def stories_json(db: DB, q: Q = "", article: StoryArticle = None) -> StoriesOut:
    return build_stories(db, q, article)


@router.get("/stories", include_in_schema=False, response_class=HTMLResponse)
def stories_html(request: Request, db: DB, q: Q = "", article: StoryArticle = None) -> Response:
    return page(request, build_stories(db, q, article), "stories.html")
