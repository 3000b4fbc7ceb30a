"""storage.similarity: deterministic MinHash signatures, LSH band keys, copy detection."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from storage import similarity as sim
from storage.similarity import (
    BANDS,
    MIN_SHINGLES,
    NUM_PERM,
    Signature,
    band_keys,
    estimated_containment,
    estimated_similarity,
    is_near_duplicate,
    minhash,
    shingles,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _seed_body(outlet: str) -> str:
    """The readable text of a seed: tags, markdown images/links and CSS removed."""
    (path,) = sorted((FIXTURES / outlet).glob("*.txt"))
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<!--.*?-->", "", raw, flags=re.S)
    raw = re.sub(r"<[^>]+>", "\n", raw)
    raw = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", raw)
    raw = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", raw)
    lines = [line.strip() for line in raw.splitlines()]
    return "\n".join(line for line in lines if line and "{" not in line)


SEEDS = {outlet: _seed_body(outlet) for outlet in ("wechat", "portal", "ecns", "rfi", "bbc")}
ZH = SEEDS["rfi"]  # RFI: Zhang Youxia meets Putin (2023-11-08)
EN = SEEDS["ecns"]  # ECNS/China Daily: China-Russia mutual trust improving

SPAM = "主站蜘蛛池模板: " + " | ".join(
    ["一级毛片成人免费看", "亚洲欧美综合精品成人导航", "一二三区免费视频", "在线观看永久免费视频网站",
     "亚洲欧洲在线观看", "黄色免费在线网站", "久久99免费视频", "亚洲小视频在线观看"] * 3
)
RELATED_ZH = "相关阅读\n麦迪观战中国女篮\n全国田径大奖赛肇庆鸣枪 广东军团首日获两银一铜\n藏族青年：咖啡里的藏式风情"
FOOTER_ZH = "版权声明：本文来源于网络，版权归原作者所有，如有侵权请联系删除。责任编辑：王晓明"
RELATED_EN = ("Related stories\nMagic Johnson watches China's women's basketball team\n"
              "Sign up for our newsletter\n© 2024 Example Media Group. All rights reserved.")


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？.!?])\s*", text) if s.strip()]


def _edit(text: str) -> str:
    """Remove one sentence, change another, add a third."""
    sents = _sentences(text)
    del sents[2]
    sents[4] = sents[4][: len(sents[4]) // 2] + "据悉，this changed."
    sents.insert(6, "此外，双方还讨论了其他议题。")
    return "".join(sents)


def _reflow(text: str) -> str:
    half = text.translate(str.maketrans("，。！？；：“”（）", ",.!?;:\"\"()"))
    return re.sub(r"\s+", "  ", half).upper()


COPIES = {
    "identical": lambda t: t,
    "spam appended": lambda t: t + "\n" + SPAM,
    "related list prepended": lambda t: RELATED_ZH + "\n" + t,
    "related list and footer appended": lambda t: t + "\n" + RELATED_EN + "\n" + FOOTER_ZH,
    "new headline": lambda t: "独家｜普京：俄中军事合作越来越重要\n" + t,
    "sentences edited, added, removed": _edit,
    "first 70 %": lambda t: t[: int(len(t) * 0.7)],
    "whitespace, punctuation, case reflow": _reflow,
}


# ------------------------------------------------------------------------ shingles


def test_shingles_ignore_whitespace_punctuation_width_and_case() -> None:
    base = shingles("Putin met Zhang Youxia in Moscow. 普京在莫斯科会见张又侠，双方会谈。")
    for variant in (
        "putin  met\nzhang youxia in moscow 普京 在 莫斯科 会见 张又侠 双方会谈",
        "PUTIN MET ZHANG YOUXIA IN MOSCOW！普京在莫斯科会见张又侠,双方会谈.",
        "Ｐｕｔｉｎ met Zhang Youxia in Moscow… «普京»在莫斯科会见——张又侠；双方会谈",
    ):
        assert np.array_equal(shingles(variant), base)
    assert not np.array_equal(
        shingles("Putin met Zhang in Moscow"), shingles("Putin met Li in Moscow")
    )


def test_shingles_are_sorted_distinct_uint64() -> None:
    sh = shingles(ZH)
    assert sh.dtype == np.uint64
    assert np.all(sh[1:] > sh[:-1])
    assert shingles("").size == 0
    assert shingles(" ，。!? ").size == 0
    assert shingles("短文", 5).size == 1  # fewer units than k: one shingle
    # Chinese: one shingle per character position; English: per word position.
    assert shingles("一二三四五六七", 5).size == 3
    assert shingles("one two three four five six seven", 5).size == 3


# ------------------------------------------------------------------- determinism


def test_same_bytes_in_another_process() -> None:
    """No salted hash(): a fresh interpreter with another PYTHONHASHSEED agrees."""
    texts = [ZH, EN, SEEDS["wechat"], "short text"]
    code = (
        "import sys, json; from storage.similarity import minhash, band_keys; "
        "texts = json.load(sys.stdin); "
        "print(json.dumps([[minhash(t).to_bytes().hex(), band_keys(minhash(t))] for t in texts]))"
    )
    import json

    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts),
                            capture_output=True, text=True, env=env, timeout=120, check=True)
    theirs = json.loads(result.stdout)
    ours = [[minhash(t).to_bytes().hex(), band_keys(minhash(t))] for t in texts]
    assert theirs == ours


def test_known_signature_values_do_not_drift() -> None:
    """Stored signatures stay comparable: changing the scheme must bump SCHEME_VERSION."""
    sig = minhash("中俄两军高层十天内两次会谈，释放出什么信号？")
    assert sig.size == 16  # 20 characters, 5 per shingle
    assert sig.to_bytes()[:12].hex() == "4e574d48" "01" "05" "8000" "10000000"
    assert sig.values[:4].tolist() == [772869259, 353381792, 4300236, 42048930]
    # Recompute from first principles with the module's own pieces.
    sh = shingles("中俄两军高层十天内两次会谈，释放出什么信号？")
    a, b = sim._coefficients(NUM_PERM, sim.SEED)
    expected = (((a * sh + b) >> np.uint64(32)).min(axis=1)).astype(np.uint32)
    assert np.array_equal(sig.values, expected)


# ------------------------------------------------------------------------ storage


def test_bytes_round_trip() -> None:
    for text in (ZH, EN, "", "短"):
        sig = minhash(text)
        data = sig.to_bytes()
        assert isinstance(data, bytes) and len(data) == 12 + 4 * NUM_PERM
        back = Signature.from_bytes(data)
        assert back == sig
        assert back.values.dtype == np.uint32 and back.size == sig.size and back.k == sig.k
        assert Signature.from_bytes(memoryview(data).tobytes()) == sig


@pytest.mark.parametrize("bad", [b"", b"XXXX" + bytes(8 + 4 * NUM_PERM), b"NWMH\x01"])
def test_from_bytes_rejects_garbage(bad: bytes) -> None:
    with pytest.raises(ValueError):
        Signature.from_bytes(bad)


def test_from_bytes_rejects_other_scheme_version_and_truncation() -> None:
    data = bytearray(minhash(ZH).to_bytes())
    with pytest.raises(ValueError):
        Signature.from_bytes(bytes(data[:-4]))
    data[4] = sim.SCHEME_VERSION + 1
    with pytest.raises(ValueError, match="scheme"):
        Signature.from_bytes(bytes(data))


def test_band_keys_fit_a_signed_bigint() -> None:
    for text in (ZH, EN, *SEEDS.values()):
        keys = band_keys(minhash(text))
        assert len(keys) == BANDS
        assert len(set(keys)) == BANDS
        for key in keys:
            assert type(key) is int
            assert 0 <= key < 2**63  # fits BIGINT (signed 64-bit) on SQLite and PostgreSQL
            assert -(2**63) <= key <= 2**63 - 1


def test_band_keys_need_enough_text_and_enough_values() -> None:
    assert band_keys(minhash("")) == []
    assert band_keys(minhash("太短的文字")) == []
    short = minhash("one two three four five six seven eight nine ten")
    assert short.size < MIN_SHINGLES and band_keys(short) == []
    with pytest.raises(ValueError):
        band_keys(minhash(ZH), bands=100, rows=2)
    # Another banding gives other keys (so mixed configurations never collide).
    assert set(band_keys(minhash(ZH), 32, 4)).isdisjoint(band_keys(minhash(ZH), 42, 3))


# --------------------------------------------------------------------- detection


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("kind", list(COPIES))
def test_copies_are_found(language: str, kind: str) -> None:
    text = ZH if language == "zh" else EN
    original, copy = minhash(text), minhash(COPIES[kind](text))
    assert is_near_duplicate(original, copy), (
        kind, estimated_similarity(original, copy), estimated_containment(original, copy))
    assert is_near_duplicate(copy, original)
    # ... and the storage layer would find it: at least one shared band key.
    assert set(band_keys(original)) & set(band_keys(copy))


def test_different_articles_on_the_same_story_are_not_merged() -> None:
    """All five seeds are about China–Russia military contacts; portal 001 and
    RFI 003 even report the same meeting.  None is a copy of another."""
    sigs = {outlet: minhash(text) for outlet, text in SEEDS.items()}
    for a, b in combinations(sigs, 2):
        assert not is_near_duplicate(sigs[a], sigs[b]), (a, b)
        assert estimated_similarity(sigs[a], sigs[b]) < 0.1
    assert not set(band_keys(sigs["portal"])) & set(band_keys(sigs["rfi"]))


def test_copies_of_different_articles_are_not_merged() -> None:
    """The same furniture added to two different articles does not make them copies."""
    for kind, make in COPIES.items():
        assert not is_near_duplicate(minhash(make(ZH)), minhash(make(SEEDS["portal"]))), kind
        assert not is_near_duplicate(minhash(make(EN)), minhash(make(SEEDS["bbc"]))), kind


def test_a_short_brief_inside_a_long_feature_is_not_a_copy() -> None:
    brief = _sentences(ZH)[:3]
    long_piece = "".join(brief) + SEEDS["portal"] * 2
    a, b = minhash("".join(brief)), minhash(long_piece)
    assert estimated_containment(a, b) > 0.6
    assert not is_near_duplicate(a, b)  # MIN_JACCARD: the feature is mostly other text


def test_similarity_edge_cases() -> None:
    sig = minhash(ZH)
    assert estimated_similarity(sig, sig) == 1.0
    assert estimated_containment(sig, sig) == 1.0
    empty = minhash("")
    assert estimated_similarity(empty, empty) == 0.0
    assert not is_near_duplicate(empty, empty)
    assert minhash("lone \ud800 surrogate and text").size > 0  # no UnicodeEncodeError
    with pytest.raises(ValueError):
        sig.values[0] = 1  # read-only: a stored signature cannot be changed in place
    tiny = minhash("新华社北京电")
    assert not is_near_duplicate(tiny, tiny)  # under MIN_SHINGLES: too little to judge
    with pytest.raises(ValueError):
        estimated_similarity(minhash(ZH), minhash(ZH, num_perm=64))
    with pytest.raises(ValueError):
        estimated_similarity(minhash(ZH), minhash(ZH, k=3))


def test_estimate_tracks_exact_jaccard() -> None:
    a_text, b_text = ZH, COPIES["first 70 %"](ZH) + "\n" + SPAM
    a, b = set(shingles(a_text).tolist()), set(shingles(b_text).tolist())
    exact = len(a & b) / len(a | b)
    assert abs(estimated_similarity(minhash(a_text), minhash(b_text)) - exact) < 0.15


# ------------------------------------------------------- edges (mutation testing)


def test_known_band_keys_do_not_drift() -> None:
    """Band keys are stored and looked up by value: a change would hide every old copy."""
    assert band_keys(minhash(ZH))[:3] == [395009567890553670, 4440820878265671338, 1726950340492489460]
    assert band_keys(minhash(EN))[-2:] == [1529754122525787908, 332594490146153495]


def _words(first: int, last: int) -> str:
    return " ".join(f"w{i}" for i in range(first, last))


def test_min_shingles_is_the_smallest_text_judged() -> None:
    at, under = minhash(_words(0, 29)), minhash(_words(0, 28))  # 25 and 24 five-word shingles
    assert (at.size, under.size) == (MIN_SHINGLES, MIN_SHINGLES - 1)
    assert len(band_keys(at)) == BANDS and is_near_duplicate(at, at)
    assert band_keys(under) == [] and not is_near_duplicate(under, under)


def test_containment_of_a_half_overlap_tracks_the_exact_value() -> None:
    # 96 shingles each, 46 shared: Jaccard 46/146, containment 46/96.
    a, b = minhash(_words(0, 100)), minhash(_words(50, 150))
    assert abs(estimated_similarity(a, b) - 46 / 146) < 0.1
    assert abs(estimated_containment(a, b) - 46 / 96) < 0.1
    assert estimated_containment(minhash(ZH), minhash(EN)) == 0.0  # nothing shared
    for make in COPIES.values():
        assert estimated_containment(minhash(ZH), minhash(make(ZH))) <= 1.0


def test_thresholds_are_inclusive() -> None:
    """A pair exactly at NEWSWATCH_NEAR_DUPLICATE_THRESHOLD (or at MIN_JACCARD) is a copy."""
    a, b = minhash(ZH), minhash(COPIES["first 70 %"](ZH))
    c, j = estimated_containment(a, b), estimated_similarity(a, b)
    assert is_near_duplicate(a, b, threshold=c, min_jaccard=j)
    assert not is_near_duplicate(a, b, threshold=c + 1e-9, min_jaccard=j)
    assert not is_near_duplicate(a, b, threshold=c, min_jaccard=j + 1e-9)


def test_a_one_shingle_text_equals_itself() -> None:
    one = minhash("Putin meets")  # two words: one shingle
    assert one.size == 1 and estimated_similarity(one, one) == 1.0
    assert estimated_similarity(one, minhash("")) == 0.0


def test_signatures_with_the_same_size_but_other_values_differ() -> None:
    a, b = minhash(_words(0, 40)), minhash(_words(100, 140))
    assert a.size == b.size and a != b
    assert a == Signature.from_bytes(a.to_bytes())


def test_signature_values_must_be_a_non_empty_flat_uint32_array() -> None:
    assert Signature(values=np.zeros(1, dtype=np.uint32), size=1).num_perm == 1
    for bad in (np.zeros(0, dtype=np.uint32), np.zeros(4, dtype=np.float32), np.zeros((2, 2), dtype=np.uint32)):
        with pytest.raises(ValueError, match="^Signature.values must be a non-empty 1-D uint32 array$"):
            Signature(values=bad, size=1)


def test_bytes_keep_k_and_clamp_a_huge_size() -> None:
    sig = minhash(ZH, k=3)
    assert Signature.from_bytes(sig.to_bytes()).k == 3
    huge = Signature(values=sig.values.copy(), size=2**32 + 5, k=3)
    assert Signature.from_bytes(huge.to_bytes()).size == 2**32 - 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"NWMH", "not a signature: too short"),
        (b"XXXX" + bytes(8 + 4 * NUM_PERM), "not a signature: bad magic"),
        (minhash(ZH).to_bytes()[:-1], "not a signature: wrong length"),
    ],
)
def test_damaged_signature_bytes_are_named(data: bytes, message: str) -> None:
    # What a damaged row in article_signatures reports.
    with pytest.raises(ValueError, match=f"^{message}$"):
        Signature.from_bytes(data)


def test_scheme_mismatches_are_named() -> None:
    with pytest.raises(ValueError, match="^signatures of different schemes cannot be compared$"):
        estimated_similarity(minhash(ZH), minhash(ZH, k=3))
    with pytest.raises(ValueError, match=r"^42×4 bands need 168 values, have 128$"):
        band_keys(minhash(ZH), bands=42, rows=4)
