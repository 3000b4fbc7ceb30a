"""The JSON twins' shapes (documented in the OpenAPI schema at /openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


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


class VersionOut(BaseModel):
    version: int
    url: str
    title: str
    published_at: str | None
    author: str | None
    content_hash: str
    fetched_at: datetime
    recorded_at: datetime
    run_id: int | None
    body_chars: int
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


class RunOut(BaseModel):
    id: int
    spiders: str
    outlets: list[str]
    mode: str
    origin: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    message: str | None
    counts: dict[str, int]


class RunsOut(BaseModel):
    runs: list[RunOut]
    next_after: int | None


class ProblemOut(BaseModel):
    kind: str
    url: str
    reason: str
    at: datetime


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
