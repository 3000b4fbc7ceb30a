"""A child process that writes to the store: used by the concurrency and crash tests.

    python -m tests.support.storage_worker DB_URL WORKER_ID START_FILE URLS [--forever]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from storage.db import open_database
from storage.repository import Store
from tests.support.factories import BODY, make_article


def variant(worker: str, i: int) -> str:
    return BODY + f"\n第{i}号补充：由写入者{worker}更新的句子。"


def main() -> None:
    db_url, worker, start_file, urls = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    forever = "--forever" in sys.argv
    store = Store(open_database(db_url))
    run_id = store.start_run(spiders=["rfi"], outlets=["rfi"], mode="live")
    print(run_id, flush=True)
    while not start_file.exists():  # a barrier: both writers start together
        time.sleep(0.005)
    round_ = 0
    while True:
        for i in range(urls):
            url = f"https://www.rfi.fr/cn/race/{i}"
            # Same base text from every writer, then this writer's own edit.
            store.record(make_article(url, body=BODY + f"\n编号{i}。" * 3), run_id)
            store.record(make_article(url, body=variant(f"{worker}-{round_}", i)), run_id)
        round_ += 1
        if not forever:
            break
    store.finish_run(run_id, status="finished")


if __name__ == "__main__":
    main()
