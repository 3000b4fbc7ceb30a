"""Storage cost per recorded article at 10k, 100k and 1M stored articles (SQLite, PostgreSQL).

Not part of the test run.  Grows one database per backend 10k -> 100k -> 1M
synthetic articles and, at each size, times the real ``Store.record`` on a fresh
run:

  new        N brand-new distinct articles                       (outcome ``new``)
  unchanged  N stored articles recorded again, unchanged        (outcome ``unchanged``)
  near-dup   N near copies of stored articles (3 sentences replaced, a furniture
             line added, new title, another outlet and URL)     (outcome ``duplicate``,
             ``duplicate_of`` checked against the original: "hits")
  lookup     ``dedup.find_original`` alone for N other near copies (fingerprints
             computed beforehand; a read session; "hits" = right original found)
  lookup-miss  ``dedup.find_original`` alone for N unrelated new texts (the common
             case: no exact copy, no band-key candidate)
  fingerprint  ``dedup.fingerprint`` alone on the new articles (CPU only: the part
             of ``record`` that does not touch the database)

Each figure is ms per article (mean, median, p95) after a warm-up of the same
operation (up to 30 calls or 3 s); ``time.perf_counter`` around each call.  An
operation is timed on ``--samples`` items or until ``--op-budget`` seconds of
timed calls have passed, whichever comes first (at least one call; a single
call longer than the budget is the only sample): a query that scans would
otherwise take hours at 1M.  The number of samples is printed (n).  Then the ratios
cost(largest)/cost(smallest) per operation (target <= 1.5) and whether the lookup
stays under 5 ms (target), the database size on disk, the bulk-load time per
size, and the query plans of every SELECT ``record`` issues, at the largest size.

    .venv/bin/python benchmarks/storage_scale.py \\
        [--sizes 10000,100000,1000000] [--backends sqlite,postgres] [--samples 300] \\
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--op-budget 20] \\
        [--workdir DIR] [--keep]

    # the full run: about 26 minutes on 2 cores (10 preparing 1M fingerprints,
    # 8.5 loading SQLite, 4.5 loading PostgreSQL, 3 measuring):
    .venv/bin/python benchmarks/storage_scale.py > benchmarks/out/storage_scale.txt 2>&1

Synthetic articles.  Every article is a pure function of its index (a seeded RNG
per article): 65 % Chinese bodies (1,500-3,000 characters drawn Zipf-wise from
3,500 CJK ideographs, in clauses of 4-15 characters joined by ，and 。, paragraphs
of a few sentences) and 35 % English-like bodies (pseudo-words from a 20,000-word
Zipf vocabulary headed by real function words), titles, dates, and canonical URLs
shaped like those of rfi, bbc, wechat (random slugs), a portal and ecns.  Built
with ``tests.support.factories.make_article`` as parsers build them and passed through
``normalise_body``.  MinHash band keys of such texts are spread like those of real
text, so nearly every lookup finds no candidate.

Bulk population (a fixture, not the code under test).  Recording 1M articles one
at a time through ``Store.record`` would take hours, so the population is
inserted in bulk into the project's own tables, created by ``open_database``
(the Alembic migration):

* Fingerprints are real: a batched, cache-blocked re-implementation of
  ``similarity.minhash`` (the same units, shingles, hash family) runs in worker
  processes and is checked bit-for-bit against ``dedup.fingerprint`` on three
  articles of every chunk; band keys are ``similarity.band_keys`` (42 bands x
  3 rows = 42 ``minhash_bands`` rows per article).  Text, content hash and
  body hash take fast paths valid for this alphabet, checked on the same
  articles against ``make_article``, ``normalise_body`` and ``dedup.body_hash``;
  measurement samples are built by ``make_article`` itself.  Chunks are cached
  on disk and shared by both backends (computed once, timed as "prepare").
* Each article gets its row in ``articles`` (body_hash, body_chars), its
  signature in ``article_signatures`` and its body in one ``article_versions``
  row; no ``sightings`` (and first_run_id/run_id NULL): sightings are only
  written by ``record`` and read per run.
* SQLite: SQLAlchemy Core ``insert()`` executemany, 5,000 rows a batch, in
  transactions of 50,000 articles, band rows in article order (as ``record``
  writes them, so the table's row order is the organic one); the load connection uses journal_mode=OFF, synchronous=OFF, foreign_keys=OFF and a
  4 GB page cache; WAL is restored afterwards.  Indexes stay in place.
* PostgreSQL: psycopg COPY (binary for band rows) with session_replication_role
  = replica (no per-row FK triggers); the minhash_bands primary key, its
  article_id index and the non-constraint indexes of ``articles`` are dropped
  before and rebuilt (from their catalog definitions) after each top-up;
  sequences are set past the loaded ids; then ``VACUUM ANALYZE minhash_bands``
  and ``ANALYZE`` of the other tables (what autovacuum does for a table grown by
  inserts).
* Rebuilt indexes are densely packed, organically grown ones are not: the cost
  at size is, if anything, a little flattered for PostgreSQL.

Sizes are numbers of bulk-loaded articles; each measurement adds about 1,000
articles (new, near copies, warm-up) which stay, so the stored counts printed are
slightly higher.  The PostgreSQL database ``newswatch_bench_<random>`` is created
on the server of ``--pg-url`` (an admin URL) and dropped at the end; the SQLite
file and the chunk cache live in ``--workdir`` (a temporary folder, removed unless
``--keep``); with a kept ``--workdir`` a later run reuses the prepared chunks
(its "prepare" time is then near zero).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import multiprocessing
import os
import pickle
import re
import shutil
import statistics
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, event, func, insert, make_url, select, text  # noqa: E402

from crawler.items import Article  # noqa: E402
from crawler.parsing.text import normalise_body  # noqa: E402
from storage import dedup, similarity  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from storage.models import ArticleRecord, ArticleSignature, ArticleVersion, MinhashBand  # noqa: E402
from storage.repository import Store  # noqa: E402
from tests.support.factories import make_article  # noqa: E402

SEED = 20261123
#: Articles per cached chunk (one worker task).
CHUNK = 5_000
#: Articles per SQLite load transaction.
SQLITE_TXN = 50_000
BATCH = 5_000
WARMUP = 30
#: Warm-up stops after this many seconds of calls.
WARMUP_S = 3.0
LOOKUP_TARGET_MS = 5.0
RATIO_TARGET = 1.5
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)

# (outlet, language, weight)
OUTLETS = [("rfi", "zh", 20), ("bbc", "zh", 15), ("wechat", "zh", 15), ("portal", "zh", 15), ("ecns", "en", 35)]
_OUTLET_CDF = np.cumsum([w for *_, w in OUTLETS]) / sum(w for *_, w in OUTLETS)


def log(message: str) -> None:
    print(f"# [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- synthetic text ----------------------------------------------------------------


class Vocab:
    """Fixed alphabets, built once per process from a fixed seed."""

    def __init__(self) -> None:
        rng = np.random.default_rng(SEED)
        self.zh_chars = rng.choice(np.arange(0x4E00, 0x9FA6, dtype=np.uint32), 3500, replace=False)
        weights = 1.0 / np.arange(1, 3501) ** 0.9
        self.zh_table = _sampling_table(weights)
        function_words = (
            "the of and to in a is that for on was with said he it as at by from his be have "
            "has but are not this were they an which their had its who will after been more "
            "would also two new one than over about year first people government minister"
        ).split()
        consonants = list("bcdfghjklmnprstvwz") + ["ch", "sh", "th", "tr", "st", "pr", "gr", "br"]
        vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"]
        words: list[str] = list(function_words)
        seen = set(words)
        while len(words) < 20_000:
            syllables = int(rng.integers(1, 5))
            word = "".join(
                consonants[int(rng.integers(len(consonants)))] + vowels[int(rng.integers(len(vowels)))]
                for _ in range(syllables)
            )
            if rng.random() < 0.4:
                word += consonants[int(rng.integers(len(consonants)))]
            if word not in seen:
                seen.add(word)
                words.append(word)
        self.en_words = words
        weights = 1.0 / np.arange(1, len(words) + 1) ** 1.05
        self.en_table = _sampling_table(weights)


def _sampling_table(weights: np.ndarray) -> np.ndarray:
    """uint16 -> index, so that a uniform uint16 draws an index with ~these weights."""
    cdf = np.cumsum(weights) / weights.sum()
    return np.searchsorted(cdf, (np.arange(65536) + 0.5) / 65536).astype(np.int32)


_VOCAB: Vocab | None = None


def vocab() -> Vocab:
    global _VOCAB
    if _VOCAB is None:
        _VOCAB = Vocab()
    return _VOCAB


def zh_text(rng: np.random.Generator, n: int, *, paragraphs: bool = True) -> str:
    """About ``n`` characters of Chinese-like text: clauses joined by ，and 。."""
    v = vocab()
    cp = v.zh_chars[v.zh_table[rng.integers(0, 65536, size=n, dtype=np.uint16)]]
    clause_ends = np.cumsum(rng.integers(5, 17, size=n // 5 + 2))
    clause_ends = clause_ends[clause_ends < n - 1]
    full_stop = rng.random(clause_ends.size) < 0.35
    cp[clause_ends] = np.where(full_stop, 0x3002, 0xFF0C)
    cp[-1] = 0x3002
    if paragraphs:
        stops = clause_ends[full_stop] + 1
        breaks = stops[(rng.random(stops.size) < 0.25) & (stops < n - 1)]
        cp[breaks] = 0x0A
    return cp.tobytes().decode("utf-32-le")


def en_text(rng: np.random.Generator, n: int, *, paragraphs: bool = True) -> str:
    """About ``n`` characters of English-like text: sentences of pseudo-words."""
    v = vocab()
    idx = v.en_table[rng.integers(0, 65536, size=max(4, n // 6), dtype=np.uint16)]
    ends = rng.random(idx.size)
    words = v.en_words
    out: list[str] = []
    capital = True
    for i, e in zip(idx.tolist(), ends.tolist(), strict=True):
        word = words[i]
        if capital:
            word = word.capitalize()
            capital = False
        if e < 0.07:
            word += "." if (e > 0.018 or not paragraphs) else ".\n"
            capital = True
        elif e < 0.12:
            word += ","
        out.append(word)
    body = " ".join(out).replace("\n ", "\n").rstrip()
    return body if body.endswith(".") else body + "."


def text_for(lang: str, rng: np.random.Generator, n: int, **kw: Any) -> str:
    """Text as ``normalise_body`` leaves it (by construction; checked per chunk)."""
    return zh_text(rng, n, **kw) if lang == "zh" else en_text(rng, n, **kw)


def _fast_content_hash(title: str, published_at: str | None, body: str) -> str:
    """``content_hash`` for our texts (NFC already, no zero-width characters; checked)."""
    def comparable(t: str) -> str:
        return t.replace("\n", "").replace(" ", "")

    payload = json.dumps([comparable(title), published_at or "", comparable(body)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _slug(rng: np.random.Generator, n: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
    return "".join(alphabet[i] for i in rng.integers(0, 64, size=n))


def synth_article(index: int, stream: int = 0, *, fast: bool = False) -> Article:
    """The article number ``index`` of stream 0 (the population) or another stream.

    Built by ``tests.support.factories.make_article``; ``fast`` builds the same Article
    directly, with a cheaper content hash (bulk population; checked per chunk).
    """
    rng = np.random.default_rng([SEED, stream, index])
    outlet, lang, _ = OUTLETS[int(np.searchsorted(_OUTLET_CDF, rng.random()))]
    published = BASE_TIME + timedelta(minutes=index % 2_000_000, seconds=int(rng.integers(60)))
    fetched = published + timedelta(minutes=int(rng.integers(5, 600)))
    day = published.strftime("%Y%m%d")
    tag = f"{stream}x{index}" if stream else str(index)
    if outlet == "rfi":
        url = f"https://www.rfi.fr/cn/{['中国', '国际', '经贸'][index % 3]}/{day}-{tag}"
    elif outlet == "bbc":
        url = f"https://www.bbc.com/zhongwen/simp/world-{60_000_000 + index}" + (f"-{stream}" if stream else "")
    elif outlet == "wechat":
        url = f"https://mp.weixin.qq.com/s/{_slug(rng, 22)}{tag}"
    elif outlet == "portal":
        url = f"https://news.portal.example/{published:%Y/%m%d}/{rng.integers(2**40):010x}{tag}.html"
    else:
        url = f"https://www.ecns.cn/news/{['politics', 'economy', 'society'][index % 3]}/{published:%Y-%m-%d}/detail-{tag}.shtml"
    body = text_for(lang, rng, int(rng.integers(1500, 3001)))
    if lang == "zh":
        title = text_for(lang, rng, int(rng.integers(10, 28)), paragraphs=False).rstrip("。")
    else:
        title = text_for(lang, rng, int(rng.integers(40, 90)), paragraphs=False).rstrip(".")
    published_at = published.astimezone(UTC).isoformat(timespec="seconds")
    fetched_at = fetched.isoformat(timespec="seconds")
    if fast:
        return Article(
            url=url, outlet=outlet, title=title, published_at=published_at, author=None,
            language=lang, body=body, extra={}, fetched_at=fetched_at,
            content_hash=_fast_content_hash(title, published_at, body), canonical_url=url,
        )
    article = make_article(
        url, title=title, body=body, published_at=published_at, outlet=outlet, fetched_at=fetched_at
    )
    return article.replace(language=lang) if lang != "zh" else article


_SENTENCE_END = re.compile(r"(?<=[。.])")


def near_copy(original: Article, rng: np.random.Generator, tag: str) -> Article:
    """A syndicated copy: 3 sentences replaced, a furniture line, new title, other outlet."""
    sentences = [s for s in _SENTENCE_END.split(original.body) if s]
    for pos in rng.choice(np.arange(1, len(sentences)), size=min(3, len(sentences) - 1), replace=False):
        old = sentences[pos]
        new = text_for(original.language, rng, max(8, len(old.strip())), paragraphs=False)
        sentences[pos] = ("\n" if old.startswith("\n") else "") + new
    furniture = "责任编辑：王明　来源：新华网" if original.language == "zh" else "Reporting by Staff; Editing by Desk"
    body = normalise_body("".join(sentences) + "\n" + furniture)  # what a parser would emit
    title = original.title + ("（转载）" if original.language == "zh" else " (syndicated)")
    article = make_article(
        f"https://www.syndicate.example/{tag}",
        title=title,
        body=body,
        published_at=original.published_at,
        outlet="syndicate",
        fetched_at=original.fetched_at,
    )
    return article.replace(language=original.language)


# -- batched fingerprints (bit-identical to dedup.fingerprint, checked) ------------

_CJK_TABLE: np.ndarray | None = None


def _cjk_table() -> np.ndarray:
    global _CJK_TABLE
    if _CJK_TABLE is None:
        bmp = np.arange(0x10000, dtype=np.uint32)
        _CJK_TABLE = (np.searchsorted(similarity._CJK_BOUNDS, bmp, side="right") & 1).astype(bool)
    return _CJK_TABLE


def batch_minhash(bodies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(uint32[n, NUM_PERM] values, int64[n] shingle counts) of ``similarity.minhash``.

    The same steps as ``similarity._units``/``shingles``/``minhash``, over the
    bodies joined by newlines (a separator), so numpy calls are amortised; the
    hashing runs in cache-sized blocks.  BMP text only (checked).
    """
    k, num_perm = similarity.SHINGLE_K, similarity.NUM_PERM
    n = len(bodies)
    cp = np.frombuffer("\n".join(bodies).lower().encode("utf-32-le"), dtype=np.uint32)
    ends = np.cumsum(np.fromiter((len(b) + 1 for b in bodies), dtype=np.int64, count=n)) - 1
    if cp.size != ends[-1] or cp.max() >= 0x10000:
        raise ValueError("batch_minhash handles BMP text whose lower() keeps its length")
    fullwidth = (cp >= 0xFF01) & (cp <= 0xFF5E)
    if fullwidth.any():
        cp = np.where(fullwidth, cp - 0xFEE0, cp)
        upper = (cp >= 0x41) & (cp <= 0x5A)
        cp = np.where(upper, cp + 0x20, cp)
    cjk = _cjk_table()[cp]
    word = similarity._bmp_word_table()[cp]
    prev_breaks = np.empty_like(word)
    prev_breaks[0] = True
    prev_breaks[1:] = ~word[:-1] | cjk[:-1]
    starts_mask = word & (cjk | prev_breaks)
    chars = cp[word].astype(np.uint64)
    starts_in_chars = starts_mask[word]
    starts = np.flatnonzero(starts_in_chars)
    pos = np.arange(chars.size) - starts[np.cumsum(starts_in_chars) - 1]
    powers = np.cumprod(np.full(int(pos.max()) + 1, 0x100000001B3, dtype=np.uint64))
    units = similarity._mix64(np.add.reduceat((chars + np.uint64(1)) * powers[pos], starts))
    unit_counts = np.bincount(np.searchsorted(ends, np.flatnonzero(starts_mask)), minlength=n)
    if (unit_counts < k).any():
        raise ValueError("batch_minhash needs at least k units per text")
    total = units.size
    acc = np.zeros(total - k + 1, dtype=np.uint64)
    for j in range(k):
        acc = acc * np.uint64(0x9E3779B97F4A7C15) + units[j : total - k + 1 + j]
    unit_starts = np.concatenate(([0], np.cumsum(unit_counts)[:-1]))
    valid = np.ones(total - k + 1, dtype=bool)
    for off in range(1, k):  # k-grams that straddle two texts
        valid[unit_starts[1:] - off] = False
    shingles = similarity._mix64(acc[valid] ^ np.uint64(k))
    bounds = np.concatenate(([0], np.cumsum(unit_counts - k + 1)))
    sizes = np.empty(n, dtype=np.int64)
    for i in range(n):
        seg = np.sort(shingles[bounds[i] : bounds[i + 1]])
        sizes[i] = 1 + np.count_nonzero(seg[1:] != seg[:-1])
    a, b = similarity._coefficients(num_perm, similarity.SEED)
    out = np.empty((num_perm, n), dtype=np.uint64)
    texts_per_block, perms_per_block = 32, 8
    for s in range(0, n, texts_per_block):
        e = min(n, s + texts_per_block)
        part = shingles[bounds[s] : bounds[e]]
        seg_starts = bounds[s:e] - bounds[s]
        buf = np.empty((perms_per_block, part.size), dtype=np.uint64)
        for g in range(0, num_perm, perms_per_block):
            np.multiply(a[g : g + perms_per_block], part, out=buf)
            buf += b[g : g + perms_per_block]
            buf >>= np.uint64(32)
            out[g : g + perms_per_block, s:e] = np.minimum.reduceat(buf, seg_starts, axis=1)
    return out.T.astype(np.uint32), sizes


def fast_body_hash(body: str) -> str:
    """``dedup.body_hash`` for our alphabet, where NFKC only folds ，(checked per chunk)."""
    folded = body.replace("\uff0c", ",").replace("\n", "").replace(" ", "")
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


@dataclass
class Chunk:
    start: int
    articles: list[Article]
    body_hash: list[str]
    signature: list[bytes]
    keys: np.ndarray  # int64[n, BANDS]


def build_chunk(task: tuple[int, int, str]) -> tuple[int, int, float]:
    """Worker: articles [start, start+n), fingerprinted, pickled to ``path``."""
    start, n, path = task
    t0 = time.perf_counter()
    articles = [synth_article(i, fast=True) for i in range(start, start + n)]
    bodies = [a.body for a in articles]
    values = np.empty((n, similarity.NUM_PERM), dtype=np.uint32)
    sizes = np.empty(n, dtype=np.int64)
    for s in range(0, n, 100):
        values[s : s + 100], sizes[s : s + 100] = batch_minhash(bodies[s : s + 100])
    signatures, keys = [], np.empty((n, similarity.BANDS), dtype=np.int64)
    for i in range(n):
        sig = similarity.Signature(values=values[i], size=int(sizes[i]))
        signatures.append(sig.to_bytes())
        keys[i] = similarity.band_keys(sig)
    hashes = [fast_body_hash(b) for b in bodies]
    for i in sorted({0, n // 2, n - 1}):  # the real thing, bit for bit
        if synth_article(start + i) != articles[i] or normalise_body(bodies[i]) != bodies[i]:
            raise AssertionError(f"fast article {start + i} differs from make_article/normalise_body")
        fp = dedup.fingerprint(bodies[i])
        if (fp.body_hash, fp.signature_bytes, fp.band_keys) != (hashes[i], signatures[i], tuple(keys[i].tolist())):
            raise AssertionError(f"batched fingerprint differs from dedup.fingerprint for article {start + i}")
    chunk = Chunk(start, articles, hashes, signatures, keys)
    with open(path + ".tmp", "wb") as fh:
        pickle.dump(chunk, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(path + ".tmp", path)  # complete chunks only: a kept --workdir resumes
    return start, n, time.perf_counter() - t0


class ChunkCache:
    """Population chunks on disk, built on demand by a process pool, shared by backends."""

    def __init__(self, folder: Path, workers: int) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.workers = workers
        self.built = 0

    def path(self, start: int) -> Path:
        return self.folder / f"{start:08d}.pkl"

    def ensure(self, upto: int) -> float:
        """Build chunks up to ``upto`` articles; wall seconds spent."""
        if upto <= self.built:
            return 0.0
        t0 = time.perf_counter()
        tasks = [
            (s, min(CHUNK, upto - s), str(self.path(s)))
            for s in range(self.built, upto, CHUNK)
            if not self.path(s).exists()  # built by an earlier run with the same --workdir
        ]
        with multiprocessing.get_context("fork").Pool(self.workers) as pool:
            done = 0
            for _start, n, _elapsed in pool.imap_unordered(build_chunk, tasks):
                done += n
                if done % 100_000 < n:
                    log(f"prepared {self.built + done:,} articles ({time.perf_counter() - t0:.0f}s)")
        self.built = upto
        return time.perf_counter() - t0

    def chunks(self, start: int, stop: int) -> Iterator[Chunk]:
        for s in range(start, stop, CHUNK):
            with open(self.path(s), "rb") as fh:
                yield pickle.load(fh)


# -- bulk loaders --------------------------------------------------------------------


def _article_row(a: Article, article_id: int, body_hash: str, signature: bytes) -> dict[str, Any]:
    fetched = datetime.fromisoformat(a.fetched_at)
    return {
        "id": article_id,
        "canonical_url": a.canonical_url or a.url,
        "url": a.url,
        "outlet": a.outlet,
        "title": a.title,
        "published_at": a.published_at,
        "author": a.author,
        "language": a.language,
        "body_chars": len(a.body),
        "extra": a.extra,
        "fetched_at": fetched,
        "content_hash": a.content_hash,
        "body_hash": body_hash,
        "version_count": 1,
        "first_seen_at": fetched,
        "last_seen_at": fetched,
        "first_run_id": None,
        "duplicate_of": None,
        "similarity": None,
    }


def _signature_rows(chunk_ids: np.ndarray, signatures: Sequence[bytes]) -> list[dict[str, Any]]:
    return [{"article_id": int(i), "minhash": s} for i, s in zip(chunk_ids, signatures, strict=True)]


def _version_row(a: Article, article_id: int) -> dict[str, Any]:
    fetched = datetime.fromisoformat(a.fetched_at)
    return {
        "article_id": article_id,
        "version": 1,
        "url": a.url,
        "title": a.title,
        "published_at": a.published_at,
        "author": a.author,
        "language": a.language,
        "body": a.body,
        "extra": a.extra,
        "content_hash": a.content_hash,
        "fetched_at": fetched,
        "recorded_at": fetched,
        "run_id": None,
    }


def _band_arrays(chunks: list[tuple[Chunk, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(band, key, article_id) rows of the chunks' articles, in article order as ``record`` writes them."""
    keys = np.concatenate([c.keys for c, _ in chunks])
    ids = np.concatenate([i for _, i in chunks])
    bands = np.broadcast_to(np.arange(keys.shape[1], dtype=np.int32), keys.shape).ravel()
    return bands, keys.ravel(), np.repeat(ids, keys.shape[1])


class Backend:
    name: str
    url: str

    def load(self, cache: ChunkCache, start: int, stop: int, ids: np.ndarray) -> None:
        raise NotImplementedError

    def size_on_disk(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SQLiteBackend(Backend):
    name = "sqlite"

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.url = f"sqlite:///{self.path}"
        open_database(self.url).dispose()  # the migration makes the schema

    def _load_engine(self):  # type: ignore[no-untyped-def]
        engine = create_engine(self.url)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF", "cache_size=-4000000"):
                dbapi_connection.execute(f"PRAGMA {pragma}")

        @event.listens_for(engine, "begin")
        def _on_begin(connection):  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN")

        return engine

    def load(self, cache: ChunkCache, start: int, stop: int, ids: np.ndarray) -> None:
        engine = self._load_engine()
        try:
            with engine.connect() as conn:
                next_id = (conn.execute(select(func.max(ArticleRecord.id))).scalar() or 0) + 1
                conn.commit()
                pending: list[tuple[Chunk, np.ndarray]] = []

                def flush() -> None:
                    for chunk, chunk_ids in pending:
                        rows = [
                            _article_row(a, int(i), h, s)
                            for a, i, h, s in zip(chunk.articles, chunk_ids, chunk.body_hash, chunk.signature, strict=True)
                        ]
                        for b in range(0, len(rows), BATCH):
                            conn.execute(insert(ArticleRecord), rows[b : b + BATCH])
                        rows = [_version_row(a, int(i)) for a, i in zip(chunk.articles, chunk_ids, strict=True)]
                        for b in range(0, len(rows), BATCH):
                            conn.execute(insert(ArticleVersion), rows[b : b + BATCH])
                        rows = _signature_rows(chunk_ids, chunk.signature)
                        for b in range(0, len(rows), BATCH):
                            conn.execute(insert(ArticleSignature), rows[b : b + BATCH])
                    bands, keys, art = _band_arrays(pending)
                    step = BATCH * 2
                    for b in range(0, bands.size, step):
                        conn.execute(
                            insert(MinhashBand),
                            [
                                {"band": x, "key": y, "article_id": z}
                                for x, y, z in zip(
                                    bands[b : b + step].tolist(), keys[b : b + step].tolist(), art[b : b + step].tolist(), strict=True
                                )
                            ],
                        )
                    conn.commit()
                    pending.clear()

                done = start
                for chunk in cache.chunks(start, stop):
                    n = len(chunk.articles)
                    chunk_ids = np.arange(next_id, next_id + n, dtype=np.int64)
                    ids[chunk.start : chunk.start + n] = chunk_ids
                    next_id += n
                    pending.append((chunk, chunk_ids))
                    done += n
                    if sum(len(c.articles) for c, _ in pending) >= SQLITE_TXN:
                        flush()
                        if done % 100_000 < SQLITE_TXN:
                            log(f"sqlite: loaded {done:,}")
                if pending:
                    flush()
            raw = engine.raw_connection()  # outside any transaction: back to WAL
            try:
                raw.driver_connection.execute("PRAGMA journal_mode=WAL")
            finally:
                raw.close()
        finally:
            engine.dispose()

    def size_on_disk(self) -> int:
        return sum(os.path.getsize(p) for p in (f"{self.path}", f"{self.path}-wal") if os.path.exists(p))


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, admin_url: str) -> None:
        admin = make_url(admin_url)
        if admin.drivername == "postgresql":
            admin = admin.set(drivername="postgresql+psycopg")
        self.admin_url = admin
        self.dbname = f"newswatch_bench_{uuid.uuid4().hex[:10]}"
        self.url = admin.set(database=self.dbname).render_as_string(hide_password=False)
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.dbname}"')
        engine.dispose()
        log(f"postgres: created database {self.dbname}")
        open_database(self.url).dispose()

    def _raw(self):  # type: ignore[no-untyped-def]
        import psycopg

        url = make_url(self.url)
        return psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password, dbname=url.database
        )

    def load(self, cache: ChunkCache, start: int, stop: int, ids: np.ndarray) -> None:
        conn = self._raw()
        try:
            with conn.cursor() as cur:
                cur.execute("SET session_replication_role = replica")
                cur.execute("SET synchronous_commit = off")
                cur.execute("SET maintenance_work_mem = '1GB'")
                cur.execute("SELECT coalesce(max(id), 0) + 1 FROM articles")
                next_id = cur.fetchone()[0]
                rebuild = self._drop_indexes(cur)
                conn.commit()
                article_cols = list(_article_row(make_article(), 0, "", b"").keys())
                version_cols = list(_version_row(make_article(), 0).keys())
                pending: list[tuple[Chunk, np.ndarray]] = []
                done = start
                for chunk in cache.chunks(start, stop):
                    n = len(chunk.articles)
                    chunk_ids = np.arange(next_id, next_id + n, dtype=np.int64)
                    ids[chunk.start : chunk.start + n] = chunk_ids
                    next_id += n
                    with cur.copy(f"COPY articles ({', '.join(article_cols)}) FROM STDIN") as copy:
                        for a, i, h, s in zip(chunk.articles, chunk_ids, chunk.body_hash, chunk.signature, strict=True):
                            row = _article_row(a, int(i), h, s)
                            row["extra"] = _json(row["extra"])
                            for key in ("fetched_at", "first_seen_at", "last_seen_at"):
                                row[key] = row[key].astimezone(UTC).replace(tzinfo=None)
                            copy.write_row([row[c] for c in article_cols])
                    with cur.copy(f"COPY article_versions ({', '.join(version_cols)}) FROM STDIN") as copy:
                        for a, i in zip(chunk.articles, chunk_ids, strict=True):
                            row = _version_row(a, int(i))
                            row["extra"] = _json(row["extra"])
                            for key in ("fetched_at", "recorded_at"):
                                row[key] = row[key].astimezone(UTC).replace(tzinfo=None)
                            copy.write_row([row[c] for c in version_cols])
                    with cur.copy("COPY article_signatures (article_id, minhash) FROM STDIN") as copy:
                        for row in _signature_rows(chunk_ids, chunk.signature):
                            copy.write_row([row["article_id"], row["minhash"]])
                    pending.append((chunk, chunk_ids))
                    done += n
                    if len(pending) * CHUNK >= 100_000 or done >= stop:
                        bands, keys, art = _band_arrays(pending)
                        with cur.copy("COPY minhash_bands (band, key, article_id) FROM STDIN (FORMAT BINARY)") as copy:
                            copy.write(_pg_binary_bands(bands, keys, art))
                        pending.clear()
                        conn.commit()
                        log(f"postgres: loaded {done:,}")
                conn.commit()
                t0 = time.perf_counter()
                for statement in rebuild:
                    cur.execute(statement)
                conn.commit()
                log(f"postgres: rebuilt {len(rebuild)} indexes in {time.perf_counter() - t0:.0f}s")
                for table in ("articles", "article_versions"):
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                conn.commit()
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("VACUUM (ANALYZE) minhash_bands")
                cur.execute("ANALYZE articles")
                cur.execute("ANALYZE article_versions")
                cur.execute("ANALYZE article_signatures")
        finally:
            conn.close()

    @staticmethod
    def _drop_indexes(cur: Any) -> list[str]:
        """Drop what bulk inserts would update at random; return the statements that rebuild it."""
        cur.execute(
            """
            SELECT t.relname, i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid
            WHERE t.relname IN ('articles', 'minhash_bands')
            ORDER BY t.relname, i.relname
            """
        )
        rebuild: list[str] = []
        for table, index, indexdef, constraint, constraintdef in cur.fetchall():
            if constraint is None:
                cur.execute(f'DROP INDEX "{index}"')
                rebuild.append(indexdef)
            elif table == "minhash_bands":  # its primary key; nothing references it
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
                rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraintdef}')
        return rebuild

    def size_on_disk(self) -> int:
        engine = create_engine(self.url)
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        engine.dispose()
        return int(size)

    def close(self) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        engine.dispose()
        log(f"postgres: dropped database {self.dbname}")


def _json(value: Any) -> str:
    return json.dumps(value)


def _pg_binary_bands(bands: np.ndarray, keys: np.ndarray, ids: np.ndarray) -> bytes:
    """COPY BINARY payload of (integer, bigint, integer) rows."""
    row = np.dtype(
        [("nf", ">i2"), ("l1", ">i4"), ("band", ">i4"), ("l2", ">i4"), ("key", ">i8"), ("l3", ">i4"), ("aid", ">i4")]
    )
    data = np.empty(bands.size, dtype=row)
    data["nf"], data["l1"], data["l2"], data["l3"] = 3, 4, 8, 4
    data["band"], data["key"], data["aid"] = bands, keys, ids
    header = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
    return header + data.tobytes() + struct.pack(">h", -1)


# -- measurement ---------------------------------------------------------------------


@dataclass
class Stat:
    times_ms: list[float]
    hits: int | None = None

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times_ms)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return float(np.percentile(self.times_ms, 95))


@dataclass
class SizeResult:
    backend: str
    size: int
    stored: int = 0
    prepare_s: float = 0.0
    load_s: float = 0.0
    disk_bytes: int = 0
    stats: dict[str, Stat] = field(default_factory=dict)
    plans: list[tuple[str, str]] = field(default_factory=list)


OPS = ["new", "unchanged", "near-dup", "lookup", "lookup-miss", "fingerprint"]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t0) * 1000.0, result


def measure(
    backend: Backend, result: SizeResult, population: int, ids: np.ndarray, samples: int, budget: float
) -> None:
    rng = np.random.default_rng([SEED, 99, result.size])
    total = samples + WARMUP
    picks = rng.choice(population, size=3 * total, replace=False)
    unchanged_idx, near_idx, lookup_idx = picks[:total], picks[total : 2 * total], picks[2 * total :]
    stream = 1 + result.size  # fresh articles: a stream of their own per size
    fresh = [synth_article(i, stream) for i in range(2 * total)]
    new_articles, miss_articles = fresh[:total], fresh[total:]
    unchanged = [synth_article(int(i)) for i in unchanged_idx]
    near = [near_copy(synth_article(int(i)), rng, f"n{result.size}/{int(i)}") for i in near_idx]
    lookup = [near_copy(synth_article(int(i)), rng, f"l{result.size}/{int(i)}") for i in lookup_idx]
    lookup_fp = [dedup.fingerprint(a.body) for a in lookup]
    miss_fp = [dedup.fingerprint(a.body) for a in miss_articles]

    db = open_database(backend.url)
    try:
        store = Store(db)
        run_id = store.start_run(spiders=["storage_scale"], outlets=[o for o, *_ in OUTLETS], mode="replay")
        gc.collect()

        def record_check(expect: str, originals: np.ndarray | None) -> Callable[[int, Any], bool]:
            def check(n: int, outcome: Any) -> bool:
                if originals is not None:
                    return outcome.status == expect and outcome.duplicate_of == int(ids[originals[n]])
                if outcome.status != expect:
                    raise AssertionError(f"sample {n}: {outcome.status}, expected {expect}")
                return True

            return check

        def record(article: Article) -> Any:
            return store.record(article, run_id)

        stats = result.stats
        stats["new"] = run_timed(new_articles, record, record_check("new", None), samples, budget, hits=False)
        stats["unchanged"] = run_timed(
            unchanged, record, record_check("unchanged", None), samples, budget, hits=False
        )
        statements: list[tuple[str, Any]] = []
        stats["near-dup"] = run_timed(
            near, record, record_check("duplicate", near_idx), samples, budget,
            first_call=lambda call: capture_statements(db, statements, call),
        )
        with db.read_session() as session:

            def lookup_call(fp: dedup.Fingerprint) -> Any:
                return dedup.find_original(session, 0, fp, store.policy)

            def lookup_check(n: int, match: Any) -> bool:
                return match is not None and match.article_id == int(ids[lookup_idx[n]])

            stats["lookup"] = run_timed(lookup_fp, lookup_call, lookup_check, samples, budget)
            stats["lookup-miss"] = run_timed(
                miss_fp, lookup_call, lambda _n, match: match is None, samples, budget
            )
            session.rollback()
        stats["fingerprint"] = run_timed(
            new_articles, lambda a: dedup.fingerprint(a.body), lambda _n, _r: True, samples, budget, hits=False
        )
        store.finish_run(run_id, status="finished")
        result.plans = explain(db, statements)
        with db.read_session() as session:
            result.stored = session.execute(select(func.count()).select_from(ArticleRecord)).scalar() or 0
    finally:
        db.dispose()


def run_timed(
    items: Sequence[Any],
    call: Callable[[Any], Any],
    check: Callable[[int, Any], bool],
    samples: int,
    budget: float,
    *,
    hits: bool = True,
    first_call: Callable[[Callable[[], Any]], Any] | None = None,
) -> Stat:
    """Warm up, then time ``call`` on up to ``samples`` items or ``budget`` seconds (>= 1 call).

    Warm-up is up to WARMUP calls or WARMUP_S seconds; a single call that alone
    exceeds the budget is kept as the only sample (it scans; caches are as warm
    as they will get).
    """
    times: list[float] = []
    good = 0
    i = warm = 0
    while i < min(WARMUP, len(items) - 1):
        item = items[i]
        wrapped = (lambda it=item: call(it))
        if i == 0 and first_call is not None:
            ms, res = _timed(lambda w=wrapped: first_call(w))
        else:
            ms, res = _timed(wrapped)
        i += 1
        warm += ms
        if ms / 1000 >= budget:
            good += bool(check(i - 1, res))
            return Stat([ms], good if hits else None)
        if warm / 1000 >= WARMUP_S:
            break
    spent = 0.0
    while i < len(items) and len(times) < samples:
        ms, res = _timed(lambda it=items[i]: call(it))
        times.append(ms)
        good += bool(check(i, res))
        i += 1
        spent += ms
        if spent / 1000 >= budget:
            break
    return Stat(times, good if hits else None)


def capture_statements(db: Database, into: list[tuple[str, Any]], call: Callable[[], Any]) -> Any:
    """Run ``call``, keeping the SELECTs it sends to the database."""

    def _capture(_conn, _cursor, statement, parameters, _context, _executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            into.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", _capture)
    try:
        return call()
    finally:
        event.remove(db.engine, "before_cursor_execute", _capture)


def explain(db: Database, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL) of each statement."""
    plans = []
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            if db.is_sqlite:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = "\n".join(str(row[3]) for row in cursor.fetchall())
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = _compact_plan([row[0] for row in cursor.fetchall()])
            plans.append((_shorten(statement), plan))
        raw.rollback()
    finally:
        raw.close()
    return plans


def _compact_plan(lines: list[str]) -> str:
    """Collapse runs of alike plan nodes (42 Bitmap Index Scans) to the first two."""
    groups: list[list[str]] = []
    for line in lines:
        if "->" in line or not groups:
            groups.append([line])
        else:
            groups[-1].append(line)
    out: list[str] = []
    run: list[list[str]] = []

    def shape(group: list[str]) -> str:
        return re.sub(r"'[^']*'|\d+(\.\d+)?", "#", "\n".join(group))

    def flush() -> None:
        for g in run[:2]:
            out.extend(g)
        if len(run) > 2:
            indent = run[0][0][: len(run[0][0]) - len(run[0][0].lstrip())]
            out.append(f"{indent}   ... {len(run) - 2} more nodes like these")
        run.clear()

    for group in groups:
        if run and shape(group) != shape(run[0]):
            flush()
        run.append(group)
    flush()
    return "\n".join(out)


def _shorten(statement: str) -> str:
    flat = " ".join(statement.split())
    flat = re.sub(r"(\([^()]*\), ){2,}(\([^()]*\))", r"\2, ...", flat)
    return re.sub(r"SELECT articles\.id, articles\.canonical_url, .*? FROM", "SELECT articles.* FROM", flat)


# -- report --------------------------------------------------------------------------


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


def print_size(r: SizeResult, out: Any = sys.stdout) -> None:
    print(
        f"\n{r.backend} at {r.size:,} bulk-loaded ({r.stored:,} stored): prepare {r.prepare_s:.0f}s, "
        f"load {r.load_s:.0f}s, on disk {_mb(r.disk_bytes)}",
        file=out,
    )
    print(f"  {'operation':<12} {'mean':>9} {'median':>9} {'p95':>9}  {'n':>4}  hits   (ms per article)", file=out)
    for op in OPS:
        s = r.stats.get(op)
        if s is None:
            continue
        hits = "" if s.hits is None else f"{s.hits}/{len(s.times_ms)}"
        print(f"  {op:<12} {s.mean:9.3f} {s.median:9.3f} {s.p95:9.3f}  {len(s.times_ms):>4}  {hits}", file=out)
    out.flush()


def print_summary(results: list[SizeResult]) -> None:
    print("\n" + "=" * 100)
    print("RESULTS: ms per article, mean / median / p95 (n = timed samples)")
    print(f"{'backend':<9} {'size':>9} {'stored':>9}  {'operation':<12} {'mean':>10} {'median':>10} {'p95':>10} {'n':>5}")
    for r in results:
        for op in OPS:
            if (s := r.stats.get(op)) is not None:
                print(
                    f"{r.backend:<9} {r.size:>9,} {r.stored:>9,}  {op:<12} "
                    f"{s.mean:10.3f} {s.median:10.3f} {s.p95:10.3f} {len(s.times_ms):>5}"
                )
    print("\nnear-dup record hits / lookup hits / lookup-miss 'no match' (of samples):")
    for r in results:
        print(
            f"  {r.backend:<9} {r.size:>9,}: "
            + ", ".join(f"{op} {r.stats[op].hits}/{len(r.stats[op].times_ms)}" for op in ("near-dup", "lookup", "lookup-miss"))
        )
    print("\nLOAD (bulk fixture) and SIZE ON DISK")
    for r in results:
        print(f"  {r.backend:<9} {r.size:>9,}: prepare {r.prepare_s:6.0f}s  load {r.load_s:6.0f}s  disk {_mb(r.disk_bytes):>10}")
    by_backend: dict[str, list[SizeResult]] = {}
    for r in results:
        by_backend.setdefault(r.backend, []).append(r)
    print(f"\nRATIOS cost(largest)/cost(smallest), target <= {RATIO_TARGET}; lookup target < {LOOKUP_TARGET_MS} ms")
    for backend, rs in by_backend.items():
        if len(rs) < 2:
            continue
        lo, hi = rs[0], rs[-1]
        print(f"  {backend}: {hi.size:,} vs {lo.size:,}")
        for op in OPS:
            a, b = lo.stats.get(op), hi.stats.get(op)
            if not a or not b:
                continue
            r_mean, r_med = b.mean / a.mean, b.median / a.median
            verdict = "ok" if max(r_mean, r_med) <= RATIO_TARGET else "OVER TARGET"
            print(f"    {op:<12} mean x{r_mean:5.2f}  median x{r_med:5.2f}  {verdict}")
        for r in rs:
            s = r.stats["lookup"]
            ok = "ok" if s.mean < LOOKUP_TARGET_MS and s.p95 < LOOKUP_TARGET_MS else "OVER TARGET"
            print(f"    lookup at {r.size:>9,}: mean {s.mean:.3f} ms, p95 {s.p95:.3f} ms  {ok}")
    print("\nQUERY PLANS of the SELECTs one near-duplicate record issues, at the largest size")
    for backend, rs in by_backend.items():
        print(f"--- {backend} at {rs[-1].size:,}")
        for statement, plan in rs[-1].plans:
            print(f"  SQL: {statement[:400]}")
            print("    " + plan.replace("\n", "\n    "))
    sys.stdout.flush()


# -- main ----------------------------------------------------------------------------


def _code_version() -> str:
    """The commit measured, and whether storage/ differs from it (others edit concurrently)."""
    import subprocess

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("log", "-1", "--format=%h %s") or "unknown"
    dirty = git("status", "--porcelain", "--", "storage")
    return commit + ("  (storage/ has uncommitted changes)" if dirty else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--op-budget", type=float, default=20.0,
        help="seconds of timed calls per operation and size; fewer samples when slower (default 20)",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (SQLite file, chunk cache)")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if any(s % CHUNK for s in sizes):
        parser.error(f"sizes must be multiples of {CHUNK}")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newswatch_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"workdir {workdir}; sizes {sizes}; backends {backends}; samples {args.samples}")
    print(
        f"storage_scale: sizes {', '.join(f'{s:,}' for s in sizes)}; backends {', '.join(backends)}; "
        f"{args.samples} samples per operation after {WARMUP} warm-up; "
        f"{similarity.BANDS} bands x {similarity.ROWS} rows; {os.cpu_count()} CPUs"
    )
    print(f"code: {_code_version()}")
    cache = ChunkCache(workdir / "chunks", args.workers)
    results: list[SizeResult] = []
    t_start = time.perf_counter()
    try:
        for name in backends:
            backend: Backend = SQLiteBackend(workdir) if name == "sqlite" else PostgresBackend(args.pg_url)
            try:
                ids = np.zeros(sizes[-1], dtype=np.int64)
                population = 0
                for size in sizes:
                    result = SizeResult(name, size)
                    result.prepare_s = cache.ensure(size)
                    log(f"{name}: loading {population:,} -> {size:,}")
                    t0 = time.perf_counter()
                    backend.load(cache, population, size, ids)
                    result.load_s = time.perf_counter() - t0
                    population = size
                    result.disk_bytes = backend.size_on_disk()
                    log(f"{name}: loaded in {result.load_s:.0f}s, {_mb(result.disk_bytes)}; measuring")
                    measure(backend, result, population, ids, args.samples, args.op_budget)
                    results.append(result)
                    print_size(result)
                    log(f"{name}: {size:,} done ({time.perf_counter() - t_start:.0f}s since start)")
            finally:
                backend.close()
                if name == "sqlite" and not args.keep:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{workdir / 'bench.db'}{suffix}").unlink(missing_ok=True)
        print_summary(results)
        print(f"\ntotal wall time {time.perf_counter() - t_start:.0f}s")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
