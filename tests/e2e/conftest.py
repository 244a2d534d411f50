"""Fixtures for browser tests: headless Debian Chromium through its chromedriver."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

# Kept as CI artefacts: every browser test's pictures, in one folder.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # Without these Chromium floods the closed network with refused connections at start.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1280,900",
]


@pytest.fixture
def browser():
    """A fresh headless Chromium (own profile directory), closed after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lanebridge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshot(browser):
    """Save a screenshot of the current page as var/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return take


def whole_page_screenshot(browser, name: str) -> Path:
    """Save the whole page (cards and forms run below the fold on a phone) as var/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(browser.get_window_size()["width"], max(height + 120, 900))
    path = SCREENSHOTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def switch_language(browser, language: str) -> None:
    """Pick the language in the page header, as a user does, and wait for the page to come back in it."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # Found and clicked again if the page was still settling and swapped the button out meanwhile.
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: b.find_element(By.CSS_SELECTOR, f'button[name="language"][value="{language}"]').click() or True)
    # Asked of the page by script: an element found mid-reload would go stale.
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return document.documentElement.lang") == language)
