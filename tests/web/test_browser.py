"""The pages in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium).

Served by a real uvicorn on 127.0.0.1.  Checks what only a browser can: nothing scraped
runs (no alert, no changed title, no <img> from the text), no console error on any page
(a CSP violation is one), and no sideways scrolling at 375 px.  With
NEWSWATCH_SCREENSHOTS=1 the main pages are saved to docs/screenshots/ (the README's).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from newswatch.web.app import create_app
from storage.db import Database
from tests.web.conftest import HOSTILE_TITLE, Seeded, chromium_paths

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(
    chromium_paths() is None and not os.environ.get("CI"),
    reason="Debian chromium and chromium-driver are not installed (.ci/run installs them)",
)


@pytest.fixture(scope="module")
def server(readonly_db: Database) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(readonly_db), log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    assert paths is not None, "chromium / chromedriver missing"
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download anything
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps",
                 # Anything not on loopback goes to a closed port: the test never reaches the internet.
                 "--proxy-server=http://127.0.0.1:9", "--lang=en-US"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(paths[1]))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _console_errors(driver) -> list[str]:  # type: ignore[no-untyped-def]
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def _open(driver, url: str) -> None:  # type: ignore[no-untyped-def]
    driver.get_log("browser")  # drain
    driver.get(url)


def _search(driver, base: str, words: str) -> list[str]:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _open(driver, base + "/")
    box = driver.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.clear()
    box.send_keys(words)
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    button = driver.find_element(By.CSS_SELECTOR, "form.search button")
    button.click()
    # The click returns before the results page replaces this one (the form's page has
    # hits of its own): read the results only once the old page is gone.
    wait = WebDriverWait(driver, 60, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(expected_conditions.staleness_of(button))
    return wait.until(lambda d: [h.text for h in d.find_elements(By.CSS_SELECTOR, ".hit h3")] or None)


def test_search_for_putin_finds_the_rfi_and_bbc_seeds(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    titles = _search(browser, server, "普京")
    assert "张又侠今见普京" in titles
    assert "中俄元首视频对话：普京邀习近平国事访问　寻求“深化军事合作”" in titles
    marks = browser.find_elements(By.CSS_SELECTOR, ".snippet mark")
    assert marks and all(m.text == "普京" for m in marks)
    assert _console_errors(browser) == []


def test_traditional_search_finds_simplified_text(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    titles = _search(browser, server, "軍事")
    assert "张又侠今见普京" in titles


def test_diff_page_shows_the_one_edited_sentence(server: str, browser, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _open(browser, f"{server}/articles/{seeded.edited_id}/diff/1..2")
    changed = browser.find_elements(By.CSS_SELECTOR, "table.sbs tr.replace")
    assert len(changed) == 1
    old, new = changed[0].find_elements(By.TAG_NAME, "td")
    assert old.text == "普京表示双方合作顺利。"
    assert new.text == "普京表示双方合作非常顺利并将继续。"
    assert [e.text for e in new.find_elements(By.TAG_NAME, "ins")] == ["非常", "并将继续"]
    assert "普京谈合作（更新）" in browser.find_element(By.ID, "fields").text
    assert _console_errors(browser) == []


def test_hostile_article_renders_as_text_and_runs_nothing(server: str, browser, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    for path in (f"/articles/{seeded.hostile_id}", "/search?q=第一段", f"/stories?article={seeded.hostile_id}"):
        _open(browser, server + path)
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018  (reading it is the check)
        assert "pwned" not in browser.title
        assert browser.find_elements(By.CSS_SELECTOR, "main img, main script") == []
        for link in browser.find_elements(By.TAG_NAME, "a"):
            href = link.get_attribute("href") or ""
            assert href.startswith(("http://", "https://")), href
        assert _console_errors(browser) == [], path
    _open(browser, f"{server}/articles/{seeded.hostile_id}")
    assert browser.find_element(By.ID, "title").text == HOSTILE_TITLE
    body = browser.find_element(By.ID, "body").text
    assert "<script>document.title='pwned'</script>" in body and "[link=javascript:alert(4)]rich[/link]" in body


def test_no_console_errors_and_readable_at_375px(server: str, browser, seeded: Seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pages = {
        "search": "/search?q=普京",
        "article": f"/articles/{seeded.edited_id}",
        "history": f"/articles/{seeded.edited_id}/history",
        "diff": f"/articles/{seeded.edited_id}/diff/1..2",
        "diff-inline": f"/articles/{seeded.edited_id}/diff/1..2?mode=word",
        "stories": "/stories?q=普京",
        "runs": "/runs",
        "outlets": "/outlets",
        "home": "/",
        "not-found": "/articles/999999",
    }
    shots = tmp_path / "shots"
    shots.mkdir()
    try:
        for width, height in ((1280, 900), (375, 800)):
            browser.set_window_size(width, height)
            for name, path in pages.items():
                _open(browser, server + path)
                errors = _console_errors(browser)
                if name == "not-found":  # the 404 status itself is logged by Chromium
                    errors = [e for e in errors if "404" not in e]
                assert errors == [], (path, errors)
                overflow = browser.execute_script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
                if name != "not-found":
                    suffix = "" if width > 400 else "-375px"
                    assert browser.save_screenshot(str(shots / f"{name}{suffix}.png"))
    finally:
        browser.set_window_size(1280, 900)
    # The console channel itself works: an error logged by the page is seen.
    browser.execute_script("console.error('probe-7391')")
    assert any("probe-7391" in e for e in _console_errors(browser))
    if os.environ.get("NEWSWATCH_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name in ("search", "article", "diff", "stories", "runs", "outlets", "search-375px", "diff-375px"):
            shutil.copy(shots / f"{name}.png", SCREENSHOTS / f"{name}.png")
