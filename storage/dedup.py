"""Duplicate detection: exact copies by body hash, near copies by MinHash LSH.

Candidates come from the indexed ``minhash_bands`` table (articles sharing at
least one band key), never from a scan of all records; each candidate is then
scored on its stored signature.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from storage import similarity
from storage.fingerprint import Fingerprint, body_hash, fingerprint
from storage.models import ArticleRecord, ArticleSignature, MinhashBand

__all__ = ["DedupPolicy", "Fingerprint", "Match", "body_hash", "find_original", "fingerprint"]


@dataclass(frozen=True, slots=True)
class DedupPolicy:
    """Thresholds, settable from NEWSWATCH_NEAR_DUPLICATE_* settings."""

    #: Estimated containment (share of the smaller text found in the larger) at or
    #: above which a new article is a copy; measured in benchmarks/near_duplicates.py.
    threshold: float = similarity.THRESHOLD


@dataclass(frozen=True, slots=True)
class Match:
    article_id: int
    similarity: float


# The two lookups every new article makes, built once on the Core tables: the same SQL
# and rows as the ORM attributes gave, without building and compiling them per page.
_ARTICLES = cast(Table, ArticleRecord.__table__)
_BANDS = cast(Table, MinhashBand.__table__)
_EXACT_COPY = (
    select(_ARTICLES.c.id, _ARTICLES.c.duplicate_of)
    .where(_ARTICLES.c.body_hash == bindparam("body_hash"), _ARTICLES.c.id != bindparam("article_id"))
    .order_by(_ARTICLES.c.id)
    .limit(1)
)
_SHARING_BANDS = select(_BANDS.c.article_id).where(_BANDS.c.key.in_(bindparam("keys", expanding=True)))


def find_original(
    session: Session, article_id: int, fp: Fingerprint, policy: DedupPolicy
) -> Match | None:
    """The earliest record of the same story as ``article_id``, if any."""
    exact = session.execute(_EXACT_COPY, {"body_hash": fp.body_hash, "article_id": article_id}).first()
    if exact is not None:
        return Match(exact.duplicate_of or exact.id, 1.0)
    if not fp.band_keys or fp.signature_bytes is None:
        return None
    # A plain indexed lookup, counted here: with a GROUP BY in SQL, SQLite prefers
    # the article_id index and scans the whole table.
    shared = Counter(session.scalars(_SHARING_BANDS, {"keys": list(fp.band_keys)}))
    shared.pop(article_id, None)
    candidate_ids = [cid for cid, _ in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:50]]
    if not candidate_ids:
        return None
    mine = similarity.Signature.from_bytes(fp.signature_bytes)
    best: tuple[float, int, int | None] | None = None
    for cid, dup_of, stored in session.execute(
        select(ArticleRecord.id, ArticleRecord.duplicate_of, ArticleSignature.minhash)
        .join(ArticleSignature, ArticleSignature.article_id == ArticleRecord.id)
        .where(ArticleRecord.id.in_(candidate_ids))
    ):
        if stored is None:
            continue
        theirs = similarity.Signature.from_bytes(stored)
        if not similarity.is_near_duplicate(mine, theirs, policy.threshold):
            continue
        score = similarity.estimated_containment(mine, theirs)
        if best is None or (score, -cid) > (best[0], -best[1]):
            best = (score, cid, dup_of)
    if best is None:
        return None
    score, cid, dup_of = best
    return Match(dup_of or cid, round(score, 4))
