"""``/articles/{id}``, its history, diffs between versions (HTML, JSON, .patch) and raw text."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from newswatch import textdiff
from newswatch.web.app import RowId, page, session
from newswatch.web.routes_search import ERRORS, member_out
from newswatch.web.schemas import (
    ArticleOut,
    DateFact,
    DiffOut,
    DiffRowOut,
    FieldChange,
    HistoryOut,
    SegmentOut,
    VersionOut,
)
from storage import browse

router = APIRouter()
DB = Annotated[Session, Depends(session)]
Mode = Annotated[Literal["sentence", "word"], Query(description="sentence: side by side, one sentence a row; word: inline")]


def _versions_out(db: Session, article_id: RowId) -> list[VersionOut]:
    rows = browse.versions(db, article_id)
    texts = {t.version: t for t in browse.version_texts(db, article_id)} if len(rows) > 1 else {}
    out: list[VersionOut] = []
    for i, row in enumerate(rows):
        cosmetic, change = False, "first version"
        if i:
            old, new = texts[rows[i - 1].version], texts[row.version]
            summary = textdiff.summarise(old.title, new.title, old.published_at, new.published_at, old.body, new.body)
            cosmetic = textdiff.is_cosmetic(old.title, new.title, old.published_at, new.published_at, old.body, new.body)
            change = ("cosmetic: " if cosmetic else "") + summary.describe()
        out.append(VersionOut(**row.__dict__, cosmetic=cosmetic, change=change))
    return out


def build_article(db: Session, article_id: RowId) -> ArticleOut:
    found = browse.article(db, article_id)
    if found is None:
        raise HTTPException(404, f"no article {article_id}")
    date_source = str(found.extra.get("date_source") or "the page (as the parser read it)")
    return ArticleOut(
        id=found.id, url=found.url, canonical_url=found.canonical_url, outlet=found.outlet,
        title=found.title, author=found.author, language=found.language,
        dates=[
            DateFact(name="published", value=found.published_at, source=date_source),
            DateFact(name="fetched", value=found.fetched_at.isoformat(), source="the crawler, when it downloaded the page"),
            DateFact(name="first seen", value=found.first_seen_at.isoformat(),
                     source=f"newswatch, run {found.first_run_id}" if found.first_run_id else "newswatch"),
            DateFact(name="last seen", value=found.last_seen_at.isoformat(), source="newswatch"),
        ],
        version_count=found.version_count, copy_of=found.duplicate_of, similarity=found.similarity,
        body_chars=found.body_chars, extra=found.extra, body=found.body,
        versions=_versions_out(db, article_id),
        copies=[member_out(m) for m in browse.copies(db, article_id)],
    )


ArticleId = Annotated[int, "article id"]


@router.get("/articles/{article_id:int}.json", response_model=ArticleOut, responses=ERRORS, summary="One article")
def article_json(db: DB, article_id: RowId) -> ArticleOut:
    return build_article(db, article_id)


@router.get("/articles/{article_id:int}", include_in_schema=False, response_class=HTMLResponse)
def article_html(request: Request, db: DB, article_id: RowId) -> Response:
    return page(request, build_article(db, article_id), "article.html")


@router.get("/articles/{article_id:int}/text.txt", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}}, **ERRORS}, summary="Current text, as plain text")
def article_text(db: DB, article_id: RowId) -> Response:
    found = browse.article(db, article_id)
    if found is None:
        raise HTTPException(404, f"no article {article_id}")
    return PlainTextResponse(f"{found.title}\n\n{found.body}\n")


def build_history(db: Session, article_id: RowId) -> HistoryOut:
    found = browse.article(db, article_id)
    if found is None:
        raise HTTPException(404, f"no article {article_id}")
    return HistoryOut(id=article_id, title=found.title, versions=_versions_out(db, article_id))


@router.get("/articles/{article_id:int}/history.json", response_model=HistoryOut, responses=ERRORS, summary="Versions of an article")
def history_json(db: DB, article_id: RowId) -> HistoryOut:
    return build_history(db, article_id)


@router.get("/articles/{article_id:int}/history", include_in_schema=False, response_class=HTMLResponse)
def history_html(request: Request, db: DB, article_id: RowId) -> Response:
    return page(request, build_history(db, article_id), "history.html")


def _two_versions(db: Session, article_id: RowId, a: RowId, b: RowId) -> tuple[browse.VersionText, browse.VersionText]:
    old, new = browse.version_text(db, article_id, a), browse.version_text(db, article_id, b)
    if old is None or new is None:
        missing = a if old is None else b
        raise HTTPException(404, f"article {article_id} has no version {missing}")
    return old, new


def _fields(old: browse.VersionText, new: browse.VersionText) -> list[tuple[str, str | None, str | None]]:
    return [("title", old.title, new.title), ("published", old.published_at, new.published_at),
            ("author", old.author, new.author)]


def build_diff(db: Session, article_id: RowId, a: RowId, b: RowId, mode: str) -> DiffOut:
    old, new = _two_versions(db, article_id, a, b)
    if mode == "word":
        segments = textdiff.inline_diff(old.body, new.body)
        rows = [DiffRowOut(op="inline", old=[SegmentOut(op=s.op, text=s.text) for s in segments], new=[])]
    else:
        rows = [
            DiffRowOut(op=r.op, old=[SegmentOut(op=s.op, text=s.text) for s in r.old],
                       new=[SegmentOut(op=s.op, text=s.text) for s in r.new], skipped=r.skipped)
            for r in textdiff.sentence_rows(old.body, new.body)
        ]
    summary = textdiff.summarise(old.title, new.title, old.published_at, new.published_at, old.body, new.body)
    return DiffOut(
        id=article_id, a=a, b=b, mode=mode,
        fields=[FieldChange(name=n, old=o, new=w) for n, o, w in _fields(old, new) if o != w],
        rows=rows, chars_added=summary.chars_added, chars_removed=summary.chars_removed,
        cosmetic=textdiff.is_cosmetic(old.title, new.title, old.published_at, new.published_at, old.body, new.body),
    )


@router.get("/articles/{article_id:int}/diff/{a:int}..{b:int}.json", response_model=DiffOut, responses=ERRORS,
            summary="Difference between two versions")
def diff_json(db: DB, article_id: RowId, a: RowId, b: RowId, mode: Mode = "sentence") -> DiffOut:
    return build_diff(db, article_id, a, b, mode)


@router.get("/articles/{article_id:int}/diff/{a:int}..{b:int}.patch", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}}, **ERRORS}, summary="Difference as a plain-text patch")
def diff_patch(db: DB, article_id: RowId, a: RowId, b: RowId) -> Response:
    old, new = _two_versions(db, article_id, a, b)
    text = textdiff.patch(f"article {article_id} version {a}", f"article {article_id} version {b}",
                          _fields(old, new), old.body, new.body)
    return PlainTextResponse(text)


@router.get("/articles/{article_id:int}/diff/{a:int}..{b:int}", include_in_schema=False, response_class=HTMLResponse)
def diff_html(request: Request, db: DB, article_id: RowId, a: RowId, b: RowId, mode: Mode = "sentence") -> Response:
    found = browse.article(db, article_id)
    if found is None:
        raise HTTPException(404, f"no article {article_id}")
    return page(request, build_diff(db, article_id, a, b, mode), "diff.html", title=found.title,
                version_count=found.version_count)
