"""Articles for the search-filter tests (tests/storage, tests/web): several outlets (one with a
dash, one in Chinese), languages and published days (with offsets, and none), and edits
that move an article to another language and day."""

from __future__ import annotations

import random
from datetime import date

from crawler.items import Article
from storage.db import Database
from storage.repository import Store
from tests.support.factories import make_article

OUTLETS = ["rfi", "bbc", "rfi-zh", "央视"]  # a dash and Chinese: values are hex-encoded in FTS5
LANGUAGES = ["zh", "en", "zh-Hant"]
WORDS = ["中国", "普京", "合作", "军事 -台湾", '"met the"', "侠"]
SENTENCES = ["中国和俄罗斯举行了军事演习。", "普京今天在莫斯科会见了代表团。", "双方同意继续合作。",
             "台湾的记者报导了这件事。", "Putin met the Chinese general.", "张又侠出席了会议。"]
DAYS = [date(2023, 12, 31), date(2024, 1, 1), date(2024, 2, 29), date(2024, 3, 9), date(2024, 3, 10), date(2025, 1, 1)]


def _article(i: int) -> Article:
    rng = random.Random(i)
    own = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(60))  # no two articles alike
    body = "\n".join([own, *rng.sample(SENTENCES, rng.randint(1, 4))])
    outlet = OUTLETS[i % len(OUTLETS)]
    day = DAYS[i % len(DAYS)]
    # Some dates with an offset (the day is the page's own, as written), some none at all.
    published = None if i % 9 == 4 else f"{day.isoformat()}T23:30:00{'+08:00' if i % 2 else 'Z'}"
    article = make_article(f"https://{outlet}.example/{i}", outlet=outlet, title=f"标题 {i}", body=body,
                           published_at=published)
    return article.replace(language=LANGUAGES[i % len(LANGUAGES)])


def seed(db: Database, n: int = 30) -> None:
    store = Store(db)
    for i in range(n):
        store.record(_article(i), None)
    # Edits that move an article to another language and day (FTS5 must delete the old
    # filter tokens exactly), and one that drops its date.
    for i, language, published in ((3, "en", "2025-01-01T01:00:00Z"), (7, "zh", None), (11, "en", "2024-03-09")):
        edited = _article(i)
        store.record(edited.replace(language=language, published_at=published, body=edited.body + "\n再次编辑。"), None)
