"""`plumbing app` in a real headless browser on 127.0.0.1: the page loads, the panels render, and moving a
lever (the purchase pace), Reset and Step change the run shown.

Needs the `app` extra, Selenium (the `test` extra) and a Chromium with its driver (Debian's `chromium`
and `chromium-driver`; `PLUMBING_CHROMIUM` and `PLUMBING_CHROMEDRIVER` name others); skipped, with the
reason, when any is missing. Selenium is always given the driver's path, so it never downloads one.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_START_S = 90
PAGE_WAIT_S = 90


def _executable(variable: str, *names: str) -> str | None:
    given = os.environ.get(variable)
    if given:
        return given if Path(given).is_file() else None
    return next((found for name in names if (found := shutil.which(name))), None)


CHROMIUM = _executable("PLUMBING_CHROMIUM", "chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = _executable("PLUMBING_CHROMEDRIVER", "chromedriver")
MISSING = [
    *(f"the Python package {m} (pip install -c requirements.lock -e '.[app,test]')" for m in
      ("solara", "solara_assets", "selenium") if importlib.util.find_spec(m) is None),
    *(["a Chromium browser (apt-get install chromium)"] if CHROMIUM is None else []),
    *(["chromedriver (apt-get install chromium-driver)"] if CHROMEDRIVER is None else []),
]  # fmt: skip
pytestmark = pytest.mark.skipif(bool(MISSING), reason="the browser test of the app needs " + "; ".join(MISSING))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`plumbing app --port 0` (a free port of 127.0.0.1, which it prints), until the module's tests are done."""
    log = tmp_path_factory.mktemp("app") / "server.log"
    with log.open("w") as output:
        # In a session of its own, so the server it starts goes with it at the end.
        process = subprocess.Popen([sys.executable, "-m", "sim.cli", "app", "--port", "0"], stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + SERVER_START_S
        while not (served := re.search(r"serving on (http://127\.0\.0\.1:\d+)", log.read_text())):
            assert process.poll() is None, f"plumbing app exited {process.returncode}: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"plumbing app printed no address: {log.read_text()[-2000:]}"
            time.sleep(0.1)
        url = served.group(1) + "/"
        while True:
            assert process.poll() is None, f"plumbing app exited {process.returncode}: {log.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, f"no page at {url} after {SERVER_START_S}s: {log.read_text()[-2000:]}"
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1200"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_page_loads_and_a_moved_lever_changes_the_run(server, browser):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    started = time.monotonic()
    # The page redraws while a wait polls it: an element gone meanwhile is polled again.
    wait = WebDriverWait(browser, PAGE_WAIT_S, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,))

    def cell(key: str, side: str) -> str:
        """The readout's cell, read in one script call: the table is redrawn as the run steps, so an
        element found first and read after may be gone (a stale element)."""
        return browser.execute_script(
            "const c = document.querySelector(arguments[0]); return c ? c.innerText.trim() : ''",
            f"td[data-key='{key}'][data-side='{side}']",
        )

    def button(label: str):
        return browser.find_element(By.XPATH, f"//button[normalize-space(.)='{label}']")

    def panels() -> list[str]:
        """The drawn figures: images the browser has decoded (the panels arrive as PNG blobs)."""
        return browser.execute_script(
            "return Array.from(document.images).filter(i => i.complete && i.naturalWidth > 100 && "
            "i.src.startsWith('blob:')).map(i => i.src)"
        )

    browser.get(server)
    # The page: Mesa's controls, the levers, the readout of both markets and the five panels.
    wait.until(lambda b: cell("purchases_to_date_bn", "changed") == "n/a")
    assert "no change" in browser.find_element(By.TAG_NAME, "body").text
    wait.until(lambda b: len(panels()) >= 5)
    before = panels()

    # Move the purchase pace to $40bn/month with the keyboard, as a user can, then rebuild and step.
    pace = browser.find_element(By.CSS_SELECTOR, "div[role='slider'][aria-label^='Fed purchases']")
    browser.execute_script("arguments[0].focus()", pace)
    for _ in range(4):
        pace.send_keys(Keys.ARROW_RIGHT)
    wait.until(lambda b: pace.get_attribute("aria-valuenow") == "40")
    time.sleep(0.5)  # let the new value reach the server before Reset reads it
    button("Reset").click()
    wait.until(lambda b: "40bn/month of bills purchases" in b.find_element(By.TAG_NAME, "body").text)
    button("Step").click()

    # The run shown has changed: days recorded, purchases in the changed market only, reserves above the twin's.
    wait.until(lambda b: cell("purchases_to_date_bn", "changed") not in ("", "n/a"))
    bought, twin_bought = float(cell("purchases_to_date_bn", "changed")), float(cell("purchases_to_date_bn", "twin"))
    assert bought > 0 and twin_bought == 0
    assert float(cell("reserves_last_bn", "difference").replace(",", "")) > 0
    assert "day 0 of" not in browser.find_element(By.TAG_NAME, "body").text
    # The panels were redrawn with the days simulated.
    wait.until(lambda b: len(panels()) >= 5 and not set(panels()) & set(before))
    print(f"browser test: {time.monotonic() - started:.1f} s from page load to the changed run")
