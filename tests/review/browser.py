"""Headless Chromium through selenium, for the review page tests.

Only Debian's ``chromium`` and ``chromium-driver`` are used (``/usr/bin``); without background
networking off, Chromium's own connections are refused on CI machines and it logs errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: The mark of a test module that drives Chromium: skipped where Debian's package is missing.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
)
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1280, 1000)


def start_chromium(profile: Path) -> Any:
    """A headless Chromium with a fresh profile, logging the page's console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--mute-audio",
                 f"--user-data-dir={profile}",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def console_errors(driver: Any) -> list[str]:
    """Severe console entries since the last call (the log is drained by reading it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def resource_urls(driver: Any) -> list[str]:
    """Every URL the page has fetched (media, images, XHR/fetch), per the Performance API."""
    script = "return performance.getEntriesByType('resource').map(e => e.name);"
    return [str(url) for url in driver.execute_script(script)]


def requested_urls(driver: Any) -> list[str]:
    """Every URL Chromium requested since the last call, from its network log (file:// too)."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(str(message["params"]["request"]["url"]))
    return urls


def play_video(driver: Any, selector: str) -> dict[str, Any]:
    """Play the first video matching ``selector`` (muted) until its time advances."""
    script = """
        const [selector, done] = [arguments[0], arguments[arguments.length - 1]];
        const video = document.querySelector(selector);
        video.muted = true;
        video.play().then(() => {
          const started = performance.now();
          (function check() {
            if (video.currentTime > 0.1 || performance.now() - started > 8000) {
              done({paused: video.paused, time: video.currentTime, error: null});
            } else { setTimeout(check, 50); }
          })();
        }, (error) => done({paused: video.paused, time: video.currentTime, error: String(error)}));
    """
    driver.set_script_timeout(15)
    result: dict[str, Any] = driver.execute_async_script(script, selector)
    return result


def wait_for(condition: Callable[[], Any], *, timeout: float = 10.0, what: str = "") -> Any:
    """Poll ``condition`` until it is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
