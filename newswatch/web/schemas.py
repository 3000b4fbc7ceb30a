"""The JSON twins' shapes (documented in the OpenAPI schema at /openapi.json)."""

from __future__ import annotations

from dataclasses import MISSING, fields
from datetime import datetime
from typing import Any, get_type_hints

from pydantic import BaseModel, Field, create_model

from storage import browse, queries


def row_fields(row: type[Any]) -> type[BaseModel]:
    """A model with a storage row's fields: the same names, types, defaults and order.

    A schema that passes a storage row on as it is derives from this (adding only what
    the web computes), so the row's fields are declared once, in storage.  The base is
    not itself a schema: the OpenAPI names and documents the subclass.  mypy cannot
    follow a base made at run time (hence ``type: ignore[misc]`` on each subclass) and
    takes the inherited fields as Any.
    """
    hints = get_type_hints(row)
    definitions: dict[str, Any] = {}
    for f in fields(row):
        if f.default is not MISSING:
            definitions[f.name] = (hints[f.name], f.default)
        elif f.default_factory is not MISSING:
            definitions[f.name] = (hints[f.name], Field(default_factory=f.default_factory))
        else:
            definitions[f.name] = (hints[f.name], ...)
    return create_model(f"{row.__name__}Fields", __module__=__name__, **definitions)


class ErrorOut(BaseModel):
    error: str


class SnippetPiece(BaseModel):
    text: str
    hit: bool = False


class HitOut(BaseModel):
    id: int
    title: str
    url: str
    outlet: str
    language: str
    published_at: str | None
    first_seen_at: datetime
    version_count: int
    copy_of: int | None = Field(description="The original this article copies, if any")
    similarity: float | None
    snippet: list[SnippetPiece]


class FacetOut(BaseModel):
    value: str
    count: int


class SearchOut(BaseModel):
    q: str
    sort: str
    kind: str | None = Field(default=None, description="The page kind filtered on, if any")
    total: int
    total_capped: bool = Field(description="True when there are more than `total` results")
    hits: list[HitOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page")
    offset: int = Field(default=0, description="sort=relevance: the rank this page starts at")
    next_offset: int | None = Field(
        default=None, description="sort=relevance: pass as ?offset= (with ?after=next_after) for the next page"
    )
    facets: dict[str, list[FacetOut]]
    facets_window: int | None = Field(
        default=None, description="Set when the facets count only the newest this many matches (there are more)"
    )


class DateFact(BaseModel):
    name: str
    value: str | None
    source: str


class VersionOut(row_fields(browse.VersionRow)):  # type: ignore[misc]
    cosmetic: bool = Field(description="Only whitespace or punctuation changed since the previous version")
    change: str = Field(description="What changed since the previous version")


class MemberOut(BaseModel):
    id: int
    outlet: str
    title: str
    url: str
    published_at: str | None
    first_seen_at: datetime
    version_count: int
    last_edited_at: datetime | None
    copy_of: int | None
    similarity: float | None
    relation: str


class ArticleOut(BaseModel):
    id: int
    url: str
    canonical_url: str
    outlet: str
    title: str
    author: str | None
    language: str
    dates: list[DateFact]
    version_count: int
    copy_of: int | None
    similarity: float | None
    body_chars: int
    extra: dict[str, Any]
    body: str
    versions: list[VersionOut]
    copies: list[MemberOut]


class HistoryOut(BaseModel):
    id: int
    title: str
    versions: list[VersionOut]


class SegmentOut(BaseModel):
    op: str
    text: str


class DiffRowOut(BaseModel):
    op: str
    old: list[SegmentOut]
    new: list[SegmentOut]
    skipped: int = 0


class FieldChange(BaseModel):
    name: str
    old: str | None
    new: str | None


class DiffOut(BaseModel):
    id: int
    a: int
    b: int
    mode: str
    fields: list[FieldChange]
    rows: list[DiffRowOut]
    chars_added: int
    chars_removed: int
    cosmetic: bool


class StoryOut(BaseModel):
    root: int
    first_publisher: str
    members: list[MemberOut]


class StoriesOut(BaseModel):
    q: str
    article: int | None
    stories: list[StoryOut]


class RunOut(row_fields(browse.RunRow)):  # type: ignore[misc]
    pass


class RunsOut(BaseModel):
    runs: list[RunOut]
    next_after: int | None


class ProblemOut(row_fields(queries.ProblemRow)):  # type: ignore[misc]
    pass


class RunDetailOut(BaseModel):
    run: RunOut
    problems: list[ProblemOut]


class OutletOut(BaseModel):
    name: str
    enabled: bool
    schedule: str
    start_urls: list[str]
    articles: int
    last_run: RunOut | None
    next_run_at: datetime | None
    health: str = Field(description="ok, problems (the last run dropped or failed pages), failed, or never run")


class OutletsOut(BaseModel):
    outlets: list[OutletOut]


class WatchOut(BaseModel):
    name: str
    query: str
    outlets: list[str]
    language: str | None
    events: list[str]
    channels: list[str] = Field(description="Channel URLs with tokens and passwords masked")
    digest: str | None
    paused: bool
    created_at: datetime
    matches: int
    deliveries: dict[str, int] = Field(description="Outbox rows by status: pending, sent, failed, dead")
    feed: str = Field(description="Path of the watch's Atom feed")


class WatchesOut(BaseModel):
    watches: list[WatchOut]


class WatchMatchOut(BaseModel):
    id: int
    event: str
    article_id: int
    version: int
    outlet: str
    title: str
    url: str
    published_at: str | None
    summary: str
    matched_at: datetime


class WatchDetailOut(BaseModel):
    watch: WatchOut
    matches: list[WatchMatchOut] = Field(description="Newest first")
