"""Near-duplicate signatures: MinHash over text shingles, and LSH band keys.

Pure and deterministic (no SQL, no salted ``hash()``): the same text gives the same
bytes in every process and on every machine, so signatures and band keys can be
stored and compared later.  The storage layer keeps, per article, the signature
bytes and its :func:`band_keys` in an indexed table, fetches candidates that share
a band key, and confirms each with :func:`is_near_duplicate`.

Text → units → shingles:

* The text is lower-cased and full-width ASCII (``Ａ１``) folded to ASCII;
  everything that is not a letter or a digit (whitespace, punctuation of either
  width, symbols, emoji) is a separator.  Input is expected in NFC, as
  ``crawler.parsing.text.normalise_body`` leaves it.
* A *unit* is one CJK character (Han, kana, no word boundaries needed) or one
  run of other letters/digits (an English word, a number).
* A shingle is :data:`SHINGLE_K` consecutive units, hashed to 64 bits with a
  fixed polynomial hash and the splitmix64 finaliser.

So one scheme serves Chinese (character k-grams) and English (word k-grams), and
is blind to reflowed whitespace, full-width/half-width punctuation and case.

The defaults are justified by ``benchmarks/near_duplicates.py`` (copies of real
corpus pages with furniture, spam, edits, truncation and reflow; different
articles on the same story as hard negatives); see that script's docstring.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BANDS",
    "MIN_JACCARD",
    "MIN_SHINGLES",
    "NUM_PERM",
    "ROWS",
    "SCHEME_VERSION",
    "SEED",
    "SHINGLE_K",
    "THRESHOLD",
    "Signature",
    "band_keys",
    "estimated_containment",
    "estimated_similarity",
    "is_near_duplicate",
    "minhash",
    "shingles",
]

#: Units per shingle (CJK characters, or words).
SHINGLE_K = 5
#: Hash functions per signature (each a 32-bit minimum: 4 bytes).
NUM_PERM = 128
#: LSH banding (BANDS × ROWS ≤ NUM_PERM).  A pair with Jaccard J shares at least
#: one band key with probability 1 - (1 - J**ROWS)**BANDS: 0.68 at J=0.3, 0.93 at
#: 0.4, 0.996 at 0.5, and 0.04 at J=0.1.  Different articles measured at
#: J ≤ 0.004 for 99.9 % of pairs (k=5), so candidates stay few.
BANDS = 42
ROWS = 3
#: A candidate is a copy when the smaller text is at least this much contained
#: in the larger (:func:`estimated_containment`) ...
THRESHOLD = 0.6
#: ... and the two share at least this Jaccard similarity.  Below it the
#: containment estimate rests on too few equal minima to trust, and one text is
#: mostly material the other lacks (a short brief quoted inside a long feature).
MIN_JACCARD = 0.2
#: Texts with fewer distinct shingles get no band keys and never match: a
#: caption or a one-line stub says too little to call it a copy of anything.
MIN_SHINGLES = 25
#: Seed of the hash family.  Changing it (or SHINGLE_K, NUM_PERM, the scheme)
#: invalidates every stored signature, hence SCHEME_VERSION in the bytes.
SEED = 20240513
SCHEME_VERSION = 1

_EMPTY = np.uint32(0xFFFFFFFF)
_CHUNK = 1024
# Unicode blocks written without spaces between words: each character is a unit.
_CJK_RANGES = (
    (0x2E80, 0x2FDF),  # radicals
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x31A0, 0x31FF),
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x3FFFF),  # extensions B and later
)
# Sorted [lo, hi+1) boundaries: an odd searchsorted index means "inside a range".
_CJK_BOUNDS = np.array([b for lo, hi in _CJK_RANGES for b in (lo, hi + 1)], dtype=np.uint32)
_HEADER = struct.Struct("<4sBBHI")  # magic, version, k, num_perm, shingle count
_MAGIC = b"NWMH"


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise on uint64 (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


@functools.lru_cache(maxsize=1)
def _bmp_word_table() -> np.ndarray:
    """bool[65536]: is this BMP code point part of a word (a letter or a digit)?"""
    return np.fromiter((chr(i).isalnum() for i in range(0x10000)), dtype=bool, count=0x10000)


def _units(text: str) -> np.ndarray:
    """One uint64 hash per unit (CJK character or word), in text order.

    Vectorised equivalent of: lower-case, fold full-width ASCII (``Ａ１，``) to
    ASCII, treat every non-alphanumeric code point as a separator, then split
    CJK characters apart and keep other letter/digit runs whole.
    """
    cp = np.frombuffer(text.lower().encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if cp.size == 0:
        return np.zeros(0, dtype=np.uint64)
    fullwidth = (cp >= 0xFF01) & (cp <= 0xFF5E)
    if fullwidth.any():
        cp = np.where(fullwidth, cp - 0xFEE0, cp)
        upper = (cp >= 0x41) & (cp <= 0x5A)
        cp = np.where(upper, cp + 0x20, cp)
    cjk = (np.searchsorted(_CJK_BOUNDS, cp, side="right") & 1).astype(bool)
    bmp = cp < 0x10000
    word = np.where(bmp, _bmp_word_table()[np.where(bmp, cp, 0)], cjk)
    if not word.any():
        return np.zeros(0, dtype=np.uint64)
    # A unit starts at a CJK character, or at a word character after a separator
    # or a CJK character.
    prev_breaks = np.empty_like(word)
    prev_breaks[0] = True
    prev_breaks[1:] = ~word[:-1] | cjk[:-1]
    starts_mask = word & (cjk | prev_breaks)
    chars = cp[word].astype(np.uint64)
    starts_in_chars = starts_mask[word]
    starts = np.flatnonzero(starts_in_chars)
    # Polynomial hash of each unit: sum((c_i + 1) * P**(i+1)) over its characters.
    unit_of = np.cumsum(starts_in_chars) - 1
    pos = np.arange(chars.size) - starts[unit_of]
    powers = np.cumprod(np.full(int(pos.max()) + 1, 0x100000001B3, dtype=np.uint64))
    values = (chars + np.uint64(1)) * powers[pos]
    return _mix64(np.add.reduceat(values, starts))


def shingles(text: str, k: int = SHINGLE_K) -> np.ndarray:
    """The text's set of k-unit shingles, as sorted distinct uint64 hashes.

    (A numpy array rather than ``set[int]``: the same content, 50× faster to build
    and to hash further.)  A text of fewer than ``k`` units is one shingle; an
    empty text has none.
    """
    units = _units(text)
    n = units.size
    if n == 0:
        return units
    if n < k:
        k = n
    # Polynomial over the k unit hashes of every window at once (k shifted
    # slices), then one avalanche mix.
    acc = np.zeros(n - k + 1, dtype=np.uint64)
    for j in range(k):
        acc = acc * np.uint64(0x9E3779B97F4A7C15) + units[j : n - k + 1 + j]
    return np.unique(_mix64(acc ^ np.uint64(k)))


def _coefficients(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32, a_i odd; from blake2b."""
    stream = hashlib.blake2b(
        f"newswatch-minhash/{seed}/{num_perm}".encode(), digest_size=64
    ).digest()
    words = bytearray()
    counter = 0
    while len(words) < 16 * num_perm:
        words += hashlib.blake2b(stream + counter.to_bytes(8, "little"), digest_size=64).digest()
        counter += 1
    ab = np.frombuffer(bytes(words[: 16 * num_perm]), dtype="<u8").astype(np.uint64)
    ab = ab.reshape(2, num_perm)
    return (ab[0] | np.uint64(1)).reshape(-1, 1), ab[1].reshape(-1, 1).copy()


_COEFF_CACHE: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


@dataclass(frozen=True, slots=True, eq=False)
class Signature:
    """A MinHash signature: ``values`` (uint32[num_perm]) and the shingle count."""

    values: np.ndarray
    #: Distinct shingles in the text; needed to turn Jaccard into containment.
    size: int
    k: int = SHINGLE_K

    def __post_init__(self) -> None:
        if self.values.dtype != np.uint32 or self.values.ndim != 1 or self.values.size == 0:
            raise ValueError("Signature.values must be a non-empty 1-D uint32 array")
        self.values.setflags(write=False)

    @property
    def num_perm(self) -> int:
        return int(self.values.size)

    def to_bytes(self) -> bytes:
        """12-byte header (magic, scheme version, k, num_perm, size) + little-endian uint32s.

        The seed is not recorded: stored signatures use the default :data:`SEED`.
        """
        size = min(self.size, 2**32 - 1)
        header = _HEADER.pack(_MAGIC, SCHEME_VERSION, self.k, self.num_perm, size)
        return header + self.values.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Signature:
        """The inverse of :meth:`to_bytes`; ``ValueError`` for anything else."""
        data = bytes(data)
        if len(data) < _HEADER.size:
            raise ValueError("not a signature: too short")
        magic, version, k, num_perm, size = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise ValueError("not a signature: bad magic")
        if version != SCHEME_VERSION:
            raise ValueError(f"signature scheme {version}, this code reads {SCHEME_VERSION}")
        if len(data) != _HEADER.size + 4 * num_perm:
            raise ValueError("not a signature: wrong length")
        values = np.frombuffer(data, dtype="<u4", offset=_HEADER.size).astype(np.uint32)
        return cls(values=values, size=size, k=k)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signature):
            return NotImplemented
        return (self.size, self.k) == (other.size, other.k) and np.array_equal(
            self.values, other.values
        )

    __hash__ = None  # type: ignore[assignment]


def minhash(text: str, num_perm: int = NUM_PERM, seed: int = SEED, k: int = SHINGLE_K) -> Signature:
    """The MinHash signature of ``text``.

    Vectorised: 1.1-1.4 ms for 3,000 Chinese characters, 0.4 ms for 3,000
    characters of English (``benchmarks/near_duplicates.py``).
    """
    sh = shingles(text, k)
    if sh.size == 0:
        return Signature(values=np.full(num_perm, _EMPTY, dtype=np.uint32), size=0, k=k)
    coeff = _COEFF_CACHE.get((num_perm, seed))
    if coeff is None:
        coeff = _COEFF_CACHE.setdefault((num_perm, seed), _coefficients(num_perm, seed))
    a, b = coeff
    # One (num_perm × chunk) buffer, updated in place: fresh multi-megabyte
    # temporaries per operation cost more (page faults) than the arithmetic.
    chunk = min(sh.size, _CHUNK)
    buffer = np.empty((num_perm, chunk), dtype=np.uint64)
    out = np.full(num_perm, 0xFFFFFFFF, dtype=np.uint64)
    for start in range(0, sh.size, chunk):
        part = sh[start : start + chunk]
        view = buffer[:, : part.size]
        np.multiply(a, part, out=view)
        view += b
        view >>= np.uint64(32)
        np.minimum(out, view.min(axis=1), out=out)
    return Signature(values=out.astype(np.uint32), size=int(sh.size), k=k)


def band_keys(signature: Signature, bands: int = BANDS, rows: int = ROWS) -> list[int]:
    """One key per band, each in [0, 2**63): fits a signed BIGINT on SQLite and PostgreSQL.

    The band number, scheme and k are hashed in, so one indexed column can hold
    every band and keys from different schemes never meet.  Texts under
    :data:`MIN_SHINGLES` get no keys.
    """
    if bands * rows > signature.num_perm:
        raise ValueError(
            f"{bands}×{rows} bands need {bands * rows} values, have {signature.num_perm}"
        )
    if signature.size < MIN_SHINGLES:
        return []
    raw = signature.values.astype("<u4").tobytes()
    prefix = struct.pack("<BBHH", SCHEME_VERSION, signature.k, bands, rows)
    keys = []
    for band in range(bands):
        digest = hashlib.blake2b(
            prefix + band.to_bytes(2, "little") + raw[band * rows * 4 : (band + 1) * rows * 4],
            digest_size=8,
        ).digest()
        keys.append(int.from_bytes(digest, "little") & 0x7FFFFFFFFFFFFFFF)
    return keys


def _check(a: Signature, b: Signature) -> None:
    if a.num_perm != b.num_perm or a.k != b.k:
        raise ValueError("signatures of different schemes cannot be compared")


def estimated_similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets (0 for an empty text)."""
    _check(a, b)
    if a.size == 0 or b.size == 0:
        return 0.0
    return float(np.count_nonzero(a.values == b.values)) / a.num_perm


def estimated_containment(a: Signature, b: Signature) -> float:
    """Estimated share of the *smaller* text's shingles found in the larger one.

    From Jaccard J and the set sizes: |A∩B| = J (|A| + |B|) / (1 + J).  Near 1 when
    one text is the other plus furniture or spam, or a truncation of it.
    """
    j = estimated_similarity(a, b)
    if j == 0.0:
        return 0.0
    return min(1.0, j * (a.size + b.size) / ((1.0 + j) * min(a.size, b.size)))


def is_near_duplicate(
    a: Signature, b: Signature, threshold: float = THRESHOLD, min_jaccard: float = MIN_JACCARD
) -> bool:
    """True when one text is (mostly) a copy of the other.

    The smaller must be at least ``threshold`` contained in the larger, the two
    must share at least ``min_jaccard``, and both need :data:`MIN_SHINGLES`
    shingles.  Catches copies with furniture or spam added, truncations, edited
    sentences and new headlines (see ``benchmarks/near_duplicates.py``).
    """
    if min(a.size, b.size) < MIN_SHINGLES:
        return False
    if estimated_similarity(a, b) < min_jaccard:
        return False
    return estimated_containment(a, b) >= threshold
