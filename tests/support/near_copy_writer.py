"""A child process recording one copy of each of N stories, in step with another writer.

    python -m tests.support.near_copy_writer DB_URL WORKER_ID STEP_DIR PAIRS

Before story ``i`` each writer leaves ``<worker>-<i>`` in STEP_DIR and waits for the other
writer's file: both copies of a story are recorded at the same moment.  Prints one line
``<i> <status>`` per story.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from storage.db import open_database
from storage.repository import Store
from tests.support.factories import make_article
from tests.workers.newsroom import story


def main() -> None:
    db_url, worker, step_dir, pairs = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    other = "b" if worker == "a" else "a"
    store = Store(open_database(db_url))
    run_id = store.start_run(spiders=["ecns"], outlets=[f"copies-{worker}"], mode="live")
    for i in range(pairs):
        paragraphs = story(f"pair/{i}", paragraphs=8)
        paragraphs[-1] = f"Reposted by writer {worker}."
        article = make_article(
            f"https://{worker}.example/story/{i}", title=f"Story {i}", body="\n".join(paragraphs),
            outlet=f"copies-{worker}",
        )
        (step_dir / f"{worker}-{i}").touch()
        deadline = time.monotonic() + 30
        while not (step_dir / f"{other}-{i}").exists() and time.monotonic() < deadline:
            time.sleep(0.001)
        outcome = store.record(article, run_id)
        print(i, outcome.status, flush=True)
    store.finish_run(run_id, status="finished")


if __name__ == "__main__":
    main()
