"""Measure near-duplicate detection (storage.similarity) on copies of real pages.

    .venv/bin/python benchmarks/near_duplicates.py            # the chosen defaults
    .venv/bin/python benchmarks/near_duplicates.py --explore  # also sweep k and banding

Test set
    Originals: body text (``trafilatura.extract(html, deduplicate=False)``, title
    from its metadata) of every page under /work/shared/corpus/pages/ and
    /work/shared/corpus/benchmark/ (Chinese portals, WeChat, English news), plus
    the five seeds in fixtures/*/ (all about China–Russia military contacts:
    same story, different articles).  Byte-identical pages are kept once.
    Copies of every original with at least 50 units of text (see VARIANTS): the
    same article with furniture prepended/appended (navigation, related-story
    lists, a "主站蜘蛛池模板" spam block, a copyright footer), a different
    headline, 1 or 3 sentences edited/added/removed, the first 70 %, reflowed
    whitespace and punctuation, and a reprint combining several of these.

Counted over ALL pairs of documents
    positives: the same article (original–copy, copy–copy, natural duplicates);
    negatives: everything else (different articles, including same-story pages).
    "missed" = a positive not flagged; "false merges" = a negative flagged.
    LSH recall = share of original–copy pairs that share ≥ 1 band key (the only
    way the storage layer finds a candidate); candidate rate = share of negative
    pairs that share a band key (wasted look-ups).

Result behind the defaults in storage/similarity.py (364 originals, 3,640
copies, 8.0 M different-article pairs; this 2-core machine, 30-60 s):

    k=5 units, 128 perms, LSH 42×3, containment ≥ 0.6 and Jaccard ≥ 0.2
    missed original–copy pairs   19 / 3,682 (13 of them short articles buried
                                 under a spam block; 0 for headline, edits,
                                 truncation, reflow, footer, navigation)
    false merges                 0 / 7,993,744 (same-story seeds: max J 0.031)
    LSH recall (orig–copy)       0.995; candidate rate 1.4e-5 of different pairs
    minhash()                    1.1-1.4 ms for 3,000 Chinese characters, 0.4 ms English

Why: Jaccard alone needs ≤ 0.3 to keep copies with furniture or truncation
(0.7 median J for both) and containment alone merges tiny texts with long ones
on one or two equal minima; together they separate cleanly.  k=3/4 let shared
furniture (spam vocabulary, footers) merge different articles; 32×4 banding
loses 1.7 % of copies, 64×2 multiplies candidates by 30.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage import similarity as sim  # noqa: E402

CORPUS = Path("/work/shared/corpus")
FIXTURES = ROOT / "fixtures"
MIN_UNITS_FOR_COPIES = 50

# Pairs of corpus pages that are the same article (checked by reading them):
# the BBC 2012 page saved by two projects.
KNOWN_SAME = [("newspaper4k_bbczhongwen_2012", "goose3_bbczhongwen_2012")]
# WeChat pages that are not articles (the parser rejects them): what trafilatura
# finds there is WeChat's own page chrome, the same on all of them.
NOT_ARTICLES = {
    "wae_deleted_01", "wae_violation_01", "wae_unavailable_01", "wechatsogou_expired_link",
    "wae_image_share_01", "wae_text_share_01",
}


@dataclass
class Doc:
    name: str
    family: int
    variant: str  # "original" or the copy kind
    lang: str
    title: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}" if self.title else self.body


# ----------------------------------------------------------------------------- corpus


def _extract(path: str) -> tuple[str, str, str, str]:
    import trafilatura

    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    digest = hashlib.sha256(data).hexdigest()
    out = trafilatura.extract(data, deduplicate=False, output_format="json", with_metadata=True)
    if not out:
        return path, digest, "", ""
    parsed = json.loads(out)
    return path, digest, parsed.get("title") or "", parsed.get("text") or ""


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _seed_text(path: Path) -> tuple[str, str]:
    """Title and body of a seed (markdown or an HTML fragment)."""
    import trafilatura

    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<!--.*?-->", "", raw, flags=re.S)
    title = ""
    first = _MD_LINK.match(raw.strip())
    if first:
        title = first.group(1)
    if "<p" in raw or "<div" in raw:
        body = trafilatura.extract(f"<html><body>{raw}</body></html>", deduplicate=False) or ""
    else:
        body = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", raw))
        body = "\n".join(line.strip() for line in body.splitlines() if line.strip())
    return title, body


def _lang(text: str) -> str:
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return "zh" if cjk > 0.2 * max(1, len(text.strip())) else "en"


def load_originals() -> list[Doc]:
    paths = sorted(
        str(p)
        for pattern in ("pages/*/*.html", "benchmark/magic_html/htmls/*.html",
                        "benchmark/scrapinghub_aeb/html/*.html.gz")
        for p in CORPUS.glob(pattern)
        if ".expected" not in p.name
    )
    with ProcessPoolExecutor(max_workers=2) as pool:
        extracted = list(pool.map(_extract, paths, chunksize=8))
    docs: list[Doc] = []
    seen: set[str] = set()
    for path, digest, title, body in extracted:
        name = Path(path).name.split(".")[0]
        if not body.strip() or name in NOT_ARTICLES:
            continue
        if digest in seen:  # the same bytes saved twice (pages/ and benchmark/)
            continue
        seen.add(digest)
        docs.append(Doc(name, len(docs), "original", _lang(body), title, body))
    for path in sorted(FIXTURES.glob("*/*.txt")):
        title, body = _seed_text(path)
        docs.append(Doc(f"seed:{path.parent.name}/{path.stem}", len(docs), "original",
                        _lang(body), title, body))
    # The same article saved twice with different bytes (same extracted text) is
    # one article: a true duplicate pair, not a false merge.
    first_with_body: dict[str, int] = {}
    for d in docs:
        d.family = first_with_body.setdefault(re.sub(r"\s+", "", d.body), d.family)
    by_name = {d.name: d for d in docs}
    for a, b in KNOWN_SAME:
        if a in by_name and b in by_name:
            by_name[b].family = by_name[a].family
    return docs


# ----------------------------------------------------------------------------- copies

_ZH_SENT = re.compile(r"(?<=[。！？；!?])")
_EN_SENT = re.compile(r"(?<=[.!?])\s+")


def _sentences(body: str, lang: str) -> list[str]:
    out = []
    for para in body.split("\n"):
        parts = _ZH_SENT.split(para) if lang == "zh" else _EN_SENT.split(para)
        out.extend(p for p in parts if p.strip())
    return out


def _join(sentences: list[str], lang: str) -> str:
    return ("" if lang == "zh" else " ").join(sentences)


ZH_NAV = ["首页 > 新闻中心 > 国际新闻", "当前位置：首页 > 资讯 > 正文", "分享到：微信 微博 QQ空间",
          "字号：大 中 小", "打印本页 关闭窗口", "扫一扫在手机打开当前页"]
EN_NAV = ["Home > News > World", "Share on Facebook Share on Twitter Email", "Text size: A A A",
          "Print this page", "Sign up for our newsletter", "Advertisement"]
ZH_FOOTER = ["版权声明：本文来源于网络，版权归原作者所有，如有侵权请联系我们删除。转载请注明出处。",
             "责任编辑：王晓明  校对：李娜", "免责声明：本站转载文章仅为传播更多信息之目的，不代表本站观点。",
             "Copyright © 2024 某某网 All Rights Reserved 京ICP备12345678号"]
EN_FOOTER = ["© 2024 Example Media Group. All rights reserved. This material may not be published, "
             "broadcast, rewritten or redistributed.",
             "Copyright 2019 The Associated Press. All rights reserved.",
             "Sign up for our daily newsletter to get the latest headlines delivered to your "
             "inbox."]
ZH_SPAM_WORDS = ["一级毛片成人免费看", "亚洲欧美综合精品成人导航", "一二三区免费视频", "在线观看永久免费视频网站", "亚洲欧洲在线观看", "黄色免费在线网站", "亚洲四虎永久在线播放", "久久99免费视频", "亚洲小视频在线观看", "免费看片免费播放", "黄色毛片视频免费", "最新精品亚洲成人在线观看", "国产免费一区二区三区免费视频", "亚洲五月综合在线观看", "免费无码网站直播", "狠狠色伊人亚洲综合网站", "乱淫片免费影院观看", "亚洲午夜成人精品电影在线观看", "一个人免费观看视频", "四虎免费影院", "国产99视频精品免费视频", "亚洲综合网", "成在线人永久免费视频播放", "一区二区三区免费精品视频", "免费观看毛片视频", "久久国产福利免费", "亚洲国产日产无码精品", "亚洲成人一区二区", "日本免费网站", "污污污视频在线免费观看"]
EN_SPAM_WORDS = ["casino", "online", "bonus", "free", "spins", "slot", "gacor", "jackpot", "poker", "betting", "odds", "crypto", "airdrop", "viagra", "cheap", "pills", "weight", "loss", "keto", "diet", "payday", "loans", "escort", "dating", "singles", "replica", "watches", "cheap", "flights", "hotels", "deals", "coupon", "promo", "code", "download", "free", "movies", "hd"]


def _related(others: list[Doc], rng: random.Random, n: int, lang: str) -> str:
    head = "相关阅读" if lang == "zh" else "Related stories"
    titles = [d.title for d in rng.sample(others, n) if d.title]
    return "\n".join([head, *titles])


def _spam(rng: random.Random, lang: str) -> str:
    words = ZH_SPAM_WORDS if lang == "zh" else EN_SPAM_WORDS
    n = rng.randint(30, 90) if lang == "zh" else rng.randint(60, 200)
    items = []
    for _ in range(n):
        if lang == "zh":
            items.append(rng.choice(words) + rng.choice(["", "a", "| ", "2024", "在线"]))
        else:
            items.append(" ".join(rng.sample(words, 2)))
    lead = "主站蜘蛛池模板: " if lang == "zh" else "Sponsored links: "
    return lead + " | ".join(items)


def _edit(body: str, lang: str, ops: int, others: list[Doc], rng: random.Random) -> str:
    sents = _sentences(body, lang)
    for _ in range(ops):
        if len(sents) < 3:
            break
        op = rng.choice(["edit", "add", "remove"])
        i = rng.randrange(len(sents))
        if op == "remove":
            del sents[i]
        elif op == "add":
            donor = rng.choice(others)
            added = rng.choice(_sentences(donor.body, lang) or [donor.title])
            # One sentence, not a donor's whole unpunctuated page.
            if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", added):
                added = added[:50]
            sents.insert(i, " ".join(added.split()[:30]))
        else:
            s = sents[i]
            if lang == "zh":
                if len(s) > 8:
                    j = rng.randrange(len(s) - 6)
                    s = s[:j] + rng.choice(["据悉", "此外", "记者了解到", "值得注意的是"]) + s[j + 4 :]
            else:
                words = s.split()
                for _ in range(min(3, len(words))):
                    words[rng.randrange(len(words))] = rng.choice(
                        ["reportedly", "also", "new", "said"])
                s = " ".join(words)
            sents[i] = s
    return _join(sents, lang)


_TO_HALF = str.maketrans("，。！？；：“”‘’（）", ",.!?;:\"\"''()")


def _reflow(body: str, lang: str, rng: random.Random) -> str:
    sents = _sentences(body, lang)
    if lang == "zh":
        text = "\n\n".join(sents).translate(_TO_HALF)
        return re.sub(r"(.)", lambda m: m.group(1) + (" " if rng.random() < 0.05 else ""), text)
    text = "  ".join(sents)
    text = text.replace(", ", " , ").replace("\u2019", "'")
    return text.replace("\u201c", '"').replace("\u201d", '"')


VARIANTS = ["nav_prepended", "related_appended", "spam_appended", "copyright_footer",
            "new_headline", "edit_1", "edit_3", "truncated_70", "reflow", "reprint_combo"]


def make_copies(doc: Doc, pool: list[Doc], rng: random.Random) -> list[Doc]:
    others = [d for d in pool if d.family != doc.family and d.lang == doc.lang] or pool
    lang, title, body = doc.lang, doc.title, doc.body
    nav = ZH_NAV if lang == "zh" else EN_NAV
    footer = ZH_FOOTER if lang == "zh" else EN_FOOTER
    bodies = {
        "nav_prepended": "\n".join([*rng.sample(nav, 3), _related(others, rng, 5, lang), body]),
        "related_appended": body + "\n" + _related(others, rng, 10, lang),
        "spam_appended": body + "\n" + _spam(rng, lang),
        "copyright_footer": body + "\n" + "\n".join(rng.sample(footer, 2)),
        "new_headline": body,
        "edit_1": _edit(body, lang, 1, others, rng),
        "edit_3": _edit(body, lang, 3, others, rng),
        "truncated_70": body[: int(len(body) * 0.7)],
        "reflow": _reflow(body, lang, rng),
        "reprint_combo": "\n".join([
            rng.choice(nav), _edit(body, lang, 1, others, rng),
            _related(others, rng, 6, lang), rng.choice(footer)]),
    }
    titles = {v: title for v in VARIANTS}
    titles["new_headline"] = rng.choice(others).title
    titles["reprint_combo"] = rng.choice(others).title
    return [Doc(doc.name, doc.family, v, lang, titles[v], bodies[v]) for v in VARIANTS]


def build_test_set(originals: list[Doc]) -> list[Doc]:
    docs = list(originals)
    for doc in originals:
        if sim.shingles(doc.text, 1).size < MIN_UNITS_FOR_COPIES:
            continue
        rng = random.Random(f"{doc.name}/{len(doc.body)}")
        docs.extend(make_copies(doc, originals, rng))
    return docs


# ------------------------------------------------------------------------- measuring


@dataclass
class Matrices:
    jac: np.ndarray  # estimated Jaccard, float32 N×N
    con: np.ndarray  # estimated containment of the smaller in the larger
    small: np.ndarray  # bool N×N: either side under MIN_SHINGLES
    same: np.ndarray  # bool N×N: same family
    upper: np.ndarray  # bool N×N: i < j


def signatures(docs: list[Doc], k: int, num_perm: int) -> list[sim.Signature]:
    return [sim.minhash(d.text, num_perm=num_perm, k=k) for d in docs]


def matrices(docs: list[Doc], sigs: list[sim.Signature]) -> Matrices:
    values = np.stack([s.values for s in sigs])
    sizes = np.array([s.size for s in sigs], dtype=np.float64)
    n, p = values.shape
    equal = np.zeros((n, n), dtype=np.uint16)
    for col in range(p):
        v = values[:, col]
        equal += v[:, None] == v[None, :]
    jac = equal.astype(np.float32) / p
    jac[sizes == 0, :] = 0
    jac[:, sizes == 0] = 0
    mins = np.minimum(sizes[:, None], sizes[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        con = jac * (sizes[:, None] + sizes[None, :]) / ((1 + jac) * mins)
    con = np.nan_to_num(np.minimum(con, 1.0)).astype(np.float32)
    fam = np.array([d.family for d in docs])
    small = (sizes[:, None] < sim.MIN_SHINGLES) | (sizes[None, :] < sim.MIN_SHINGLES)
    same = fam[:, None] == fam[None, :]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    return Matrices(jac, con, small, same, upper)


def lsh_pairs(sigs: list[sim.Signature], bands: int, rows: int) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    buckets: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(sigs):
        for key in sim.band_keys(s, bands, rows):
            buckets[key].append(i)
    for members in buckets.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                pairs.add((members[a], members[b]))
    return pairs


FURNITURE = {"nav_prepended", "related_appended", "spam_appended", "copyright_footer",
             "reprint_combo"}


@dataclass
class Masks:
    pos: np.ndarray  # same article, i < j
    oc: np.ndarray  # same article, one side the original
    neg: np.ndarray  # different articles, i < j
    oo: np.ndarray  # different articles, both originals
    shared_furniture: np.ndarray  # both sides got generated furniture


def masks(docs: list[Doc], m: Matrices) -> Masks:
    original = np.array([d.variant == "original" for d in docs])
    furn = np.array([d.variant in FURNITURE for d in docs])
    pos = m.same & m.upper
    neg = ~m.same & m.upper
    return Masks(pos, pos & (original[:, None] | original[None, :]), neg,
                 neg & original[:, None] & original[None, :], furn[:, None] & furn[None, :])


def flagged(m: Matrices, score: str, threshold: float, min_jaccard: float = 0.0,
            cand: np.ndarray | None = None) -> np.ndarray:
    if score == "jaccard":
        out = (m.jac >= threshold) & ~m.small
    else:
        out = (m.con >= threshold) & (m.jac >= min_jaccard) & ~m.small
    return out & cand if cand is not None else out


def counts(mk: Masks, fl: np.ndarray) -> str:
    return (f"{int((mk.oc & ~fl).sum()):>5} {int((mk.pos & ~fl).sum()):>6} "
            f"{int((mk.neg & fl).sum()):>6} {int((mk.neg & fl & ~mk.shared_furniture).sum()):>6} "
            f"{int((mk.oo & fl).sum()):>6}")


def candidate_matrix(n: int, pairs: set[tuple[int, int]]) -> np.ndarray:
    cand = np.zeros((n, n), dtype=bool)
    if pairs:
        idx = np.array(sorted(pairs))
        cand[idx[:, 0], idx[:, 1]] = True
        cand[idx[:, 1], idx[:, 0]] = True
    return cand


def report_k(docs: list[Doc], k: int, banding: list[tuple[int, int]], full: bool):
    sigs = signatures(docs, k, sim.NUM_PERM)
    m = matrices(docs, sigs)
    mk = masks(docs, m)
    default_k = k == sim.SHINGLE_K
    print(f"\n=== k={k} units, num_perm={sim.NUM_PERM}, MIN_SHINGLES={sim.MIN_SHINGLES}: "
          f"{int(mk.oc.sum())} original-copy pairs, {int(mk.pos.sum())} same-article pairs, "
          f"{int(mk.neg.sum())} different-article pairs ({int(mk.oo.sum())} original-original)")
    print("Decision alone (every pair compared, no LSH):")
    header = ("  rule                          missed: orig-copy  all   false merges: all"
              "  no-shared-furniture  orig-orig")
    print(header)
    rules = [("jaccard", t, 0.0) for t in ((0.3, 0.4, 0.5, 0.6, 0.7) if full else (0.4, 0.5, 0.6))]
    rules += [("containment", t, 0.0) for t in ((0.5, 0.6, 0.7) if full else (0.6,))]
    rules += [("containment", t, sim.MIN_JACCARD) for t in (0.5, 0.6, 0.7, 0.8)]
    for score, thr, jmin in rules:
        label = f"{score} >= {thr:.1f}" + (f" & J >= {jmin:.1f}" if jmin else "")
        mark = "  <= default" if (default_k and score == "containment" and thr == sim.THRESHOLD
                                  and jmin == sim.MIN_JACCARD) else ""
        print(f"  {label:<30}{' ' * 9}{counts(mk, flagged(m, score, thr, jmin))}{mark}")
    print("LSH (candidates = share ≥ 1 band key), then the default decision:")
    print("  bands×rows  recall orig-copy  cand. rate orig-orig  cand. rate all-neg"
          "   missed: orig-copy  all   false: all  no-shared-furn  orig-orig")
    chosen = None
    for bands, rows in banding:
        cand = candidate_matrix(len(docs), lsh_pairs(sigs, bands, rows))
        oc = mk.oc & ~m.small
        recall = (cand & oc).sum() / oc.sum()
        rate_oo = (cand & mk.oo).sum() / mk.oo.sum()
        rate_all = (cand & mk.neg).sum() / mk.neg.sum()
        fl = flagged(m, "containment", sim.THRESHOLD, sim.MIN_JACCARD, cand)
        mark = "  <= default" if default_k and (bands, rows) == (sim.BANDS, sim.ROWS) else ""
        print(f"  {bands:>4}×{rows:<3} {recall:>14.4f} {rate_oo:>18.6f} {rate_all:>19.6f}"
              f"   {' ' * 6}{counts(mk, fl)}{mark}")
        if mark:
            chosen = (m, mk, fl)
    return chosen


def report_default(docs: list[Doc], m: Matrices, mk: Masks, fl: np.ndarray) -> None:
    print(f"\nMissed original–copy pairs by kind (defaults: k={sim.SHINGLE_K}, "
          f"LSH {sim.BANDS}×{sim.ROWS}, containment ≥ {sim.THRESHOLD}, J ≥ {sim.MIN_JACCARD}):")
    index = {(d.family, d.name, d.variant): i for i, d in enumerate(docs)}
    for variant in VARIANTS:
        total = missed = 0
        jac = []
        for d in docs:
            if d.variant != variant:
                continue
            i, o = index[(d.family, d.name, d.variant)], index[(d.family, d.name, "original")]
            total += 1
            missed += not (fl[i, o] or fl[o, i])
            jac.append(m.jac[i, o])
        print(f"  {variant:<18} {missed:>3} / {total}   median J {np.median(jac):.2f}")
    for i, j in np.argwhere(mk.pos):
        if docs[i].variant == docs[j].variant == "original":
            print(f"  natural duplicate {docs[i].name} ~ {docs[j].name}: J={m.jac[i, j]:.3f} "
                  f"C={m.con[i, j]:.3f} flagged={bool(fl[i, j])}")
    seeds = [i for i, d in enumerate(docs)
             if d.name.startswith("seed:") and d.variant == "original"]
    print("\nSame story, different articles (fixtures/*/ seeds, China–Russia military):")
    for pos_a, i in enumerate(seeds):
        for j in seeds[pos_a + 1:]:
            print(f"  {docs[i].name[5:]:<28} {docs[j].name[5:]:<28} J={m.jac[i, j]:.3f} "
                  f"C={m.con[i, j]:.3f} flagged={bool(fl[i, j])}")
    seed_fams = {docs[i].family for i in seeds}
    cross = [(i, j) for i, j in np.argwhere(mk.neg & fl)
             if docs[i].family in seed_fams and docs[j].family in seed_fams]
    print(f"  flagged pairs among all seed copies of different seeds: {len(cross)}")
    worst = np.argwhere(mk.neg & fl)
    if len(worst):
        print("False merges at the defaults (both sides' variants):")
        kinds: dict[tuple[str, str], int] = defaultdict(int)
        for i, j in worst:
            kinds[tuple(sorted((docs[i].variant, docs[j].variant)))] += 1
        for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:10]:
            print(f"  {n:>3}  {kind[0]} ~ {kind[1]}")


def report_timing(originals: list[Doc]) -> None:
    texts = [d.text for d in originals]
    zh3k = [t[:3000] for t in texts if _lang(t) == "zh" and len(t) >= 3000]
    en3k = [t[:3000] for t in texts if _lang(t) == "en" and len(t) >= 3000]
    print()
    for label, batch in (("all originals", texts), ("zh, first 3,000 chars", zh3k),
                         ("en, first 3,000 chars", en3k)):
        for t in batch:
            sim.minhash(t)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for t in batch:
                sim.minhash(t)
            best = min(best, (time.perf_counter() - start) / max(1, len(batch)) * 1000)
        print(f"minhash() time, {label:<22} ({len(batch):>3} texts): {best:.3f} ms per article")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--explore", action="store_true", help="also sweep k and banding")
    args = parser.parse_args()
    t0 = time.perf_counter()
    originals = load_originals()
    docs = build_test_set(originals)
    n_zh = sum(d.lang == "zh" for d in originals)
    print(f"{len(originals)} originals ({n_zh} zh, {len(originals) - n_zh} en/other), "
          f"{len(docs) - len(originals)} copies, {len(docs)} documents "
          f"(loaded in {time.perf_counter() - t0:.1f}s)")
    if args.explore:
        for k in (3, 4):
            report_k(docs, k, [(32, 4), (42, 3), (64, 2)], full=True)
    banding = [(16, 8), (32, 4), (42, 3), (64, 2)]
    m, mk, fl = report_k(docs, sim.SHINGLE_K, banding, full=args.explore)
    report_default(docs, m, mk, fl)
    report_timing(originals)
    print(f"total runtime {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
