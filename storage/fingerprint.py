"""An article's near-duplicate fingerprint: body hash and MinHash signature, as plain data.

Kept apart from ``storage.dedup`` (which queries the database) so that a parse worker
process can compute it next to the parser, importing neither SQLAlchemy nor the models,
and hand it to ``Store.record`` as bytes and ints.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from storage import similarity


@dataclass(frozen=True, slots=True)
class Fingerprint:
    body_hash: str
    signature_bytes: bytes | None
    band_keys: tuple[int, ...]
    #: ``text_digest`` of the exact body it was made from: how ``Store.record`` tells,
    #: cheaply, that a fingerprint handed to it belongs to the article it stores.
    text_digest: str


_WHITESPACE = re.compile(r"\s+")


def body_hash(body: str) -> str:
    """Equal for the same text whatever its whitespace or Unicode composition."""
    normalised = _WHITESPACE.sub("", unicodedata.normalize("NFKC", body))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def text_digest(body: str) -> str:
    """A digest of exactly this text (no normalising): a tenth of ``body_hash``'s cost."""
    return hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def fingerprint(body: str) -> Fingerprint:
    signature = similarity.minhash(body)
    # Too short a text gets no band keys (similarity.MIN_SHINGLES): only exact copies match.
    keys = tuple(similarity.band_keys(signature))
    return Fingerprint(body_hash(body), signature.to_bytes() if keys else None, keys, text_digest(body))
