"""The status page in a real browser (headless Chromium driven by Selenium): it shows the reading, and dragging a
rectangle on the snapshot moves the app's region and writes it to the config file. The screenshot goes to
$WEB_PAGE_SCREENSHOT when set (docs/web_page.png was made so), else into the test's temp folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from edge_app.config import tomllib
from tests.test_http import LEFT, RIGHT, api, start_app, stop


def chromium():
    """A headless Chromium through the system chromedriver (no download); fails with what to install."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail("no Chromium or chromedriver here: scripts/test.sh installs them (apt-get install -y chromium "
                    "chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1120,820"):
        options.add_argument(arg)
    try:
        return webdriver.Chrome(options=options, service=Service(driver))
    except WebDriverException as err:
        pytest.fail(f"Chromium could not start: {' '.join(str(err).split())[:500]}")


def test_the_page_shows_the_reading_and_draws_the_region(svhn, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    proc, base, config, (left, right) = start_app(svhn, tmp_path, "--jsonl", tmp_path / "readings.jsonl",
                                                  "--save-dir", tmp_path / "saved")
    browser = chromium()
    try:
        browser.get(base + "/")
        wait = WebDriverWait(browser, 30, poll_frequency=0.1)
        wait.until(lambda b: b.find_element(By.ID, "reading").text == left)
        snapshot = browser.find_element(By.ID, "snapshot")
        wait.until(lambda b: b.execute_script("return arguments[0].naturalWidth", snapshot) == 320)
        scale = snapshot.size["width"] / 320  # screen pixels per frame pixel
        x, y, w, h = RIGHT

        def offset(fx, fy):  # Selenium 4 offsets are from the element's centre
            return round((fx - 160) * scale), round((fy - 120) * scale)

        ActionChains(browser).move_to_element_with_offset(snapshot, *offset(x, y)).click_and_hold() \
            .move_to_element_with_offset(snapshot, *offset(x + w / 2, y + h / 2)) \
            .move_to_element_with_offset(snapshot, *offset(x + w, y + h)).release().perform()
        wait.until(lambda b: "saved to" in b.find_element(By.ID, "message").text)
        wait.until(lambda b: b.find_element(By.ID, "reading").text == right)  # the app now reads the other number
        roi = api(base, "/api/status")[1]["roi"]
        assert all(abs(a - b) <= 2 for a, b in zip(roi, RIGHT)), roi  # what was drawn, to a screen pixel
        saved = [float(v) for v in tomllib.loads(config.read_text())["roi"].split(",")]
        assert saved == roi and roi != list(LEFT)
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#recent tbody tr")) >= 2)
        # the history of the last 24 h (from the JSONL) as bars, and the app's log tail
        browser.execute_script("return loadHistory()")
        wait.until(lambda b: b.find_element(By.ID, "history").get_attribute("data-total") not in ("-", "0", "none"))
        assert int(browser.find_element(By.ID, "history").get_attribute("data-total")) >= 2
        assert "http: status page at" in browser.find_element(By.ID, "log").text
        # settings: the gate changed in the form applies at once and is saved
        gate = browser.find_element(By.CSS_SELECTOR, "#settings input[name=threshold]")
        gate.clear()
        gate.send_keys("0.42")
        browser.find_element(By.CSS_SELECTOR, "#settings button").click()
        wait.until(lambda b: b.find_element(By.ID, "settings-message").text.startswith("saved"))
        assert api(base, "/api/status")[1]["threshold"] == 0.42
        assert tomllib.loads(config.read_text())["threshold"] == 0.42
        # a hard frame saved with the number seen: a labelled picture in --save-dir
        browser.find_element(By.CSS_SELECTOR, "#save-frame input[name=number]").send_keys(right)
        browser.find_element(By.CSS_SELECTOR, "#save-frame button").click()
        wait.until(lambda b: b.find_element(By.ID, "save-message").text == f"saved 1.png ({right})")
        assert (tmp_path / "saved" / "1.png").is_file() and (tmp_path / "saved" / "digitStruct.csv").is_file()
        wait.until(lambda b: b.execute_script("return arguments[0].complete && arguments[0].naturalWidth", snapshot))
        shot = Path(os.environ.get("WEB_PAGE_SCREENSHOT") or tmp_path / "web_page.png")
        assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        browser.quit()
        stop(proc)
