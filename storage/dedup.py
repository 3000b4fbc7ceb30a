"""Duplicate detection: exact copies by body hash, near copies by MinHash LSH.

Candidates come from the indexed ``minhash_bands`` table (articles sharing at
least one band key), never from a scan of all records; each candidate is then
scored on its stored signature.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import similarity
from storage.models import ArticleRecord, ArticleSignature, MinhashBand


@dataclass(frozen=True, slots=True)
class DedupPolicy:
    """Thresholds, settable from NEWSWATCH_NEAR_DUPLICATE_* settings."""

    #: Estimated containment (share of the smaller text found in the larger) at or
    #: above which a new article is a copy; measured in benchmarks/near_duplicates.py.
    threshold: float = similarity.THRESHOLD


@dataclass(frozen=True, slots=True)
class Fingerprint:
    body_hash: str
    signature_bytes: bytes | None
    band_keys: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Match:
    article_id: int
    similarity: float


_WHITESPACE = re.compile(r"\s+")


def body_hash(body: str) -> str:
    """Equal for the same text whatever its whitespace or Unicode composition."""
    normalised = _WHITESPACE.sub("", unicodedata.normalize("NFKC", body))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def fingerprint(body: str) -> Fingerprint:
    signature = similarity.minhash(body)
    # Too short a text gets no band keys (similarity.MIN_SHINGLES): only exact copies match.
    keys = tuple(similarity.band_keys(signature))
    return Fingerprint(body_hash(body), signature.to_bytes() if keys else None, keys)


def find_original(
    session: Session, article_id: int, fp: Fingerprint, policy: DedupPolicy
) -> Match | None:
    """The earliest record of the same story as ``article_id``, if any."""
    exact = session.execute(
        select(ArticleRecord.id, ArticleRecord.duplicate_of)
        .where(ArticleRecord.body_hash == fp.body_hash, ArticleRecord.id != article_id)
        .order_by(ArticleRecord.id)
        .limit(1)
    ).first()
    if exact is not None:
        return Match(exact.duplicate_of or exact.id, 1.0)
    if not fp.band_keys or fp.signature_bytes is None:
        return None
    # A plain indexed lookup, counted here: with a GROUP BY in SQL, SQLite prefers
    # the article_id index and scans the whole table.
    shared = Counter(
        session.scalars(
            select(MinhashBand.article_id).where(MinhashBand.key.in_(fp.band_keys))
        )
    )
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
