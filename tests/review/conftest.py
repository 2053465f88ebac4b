"""Fixtures for the review page: a run on disk (``run_tree``) built from one session clip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.review.browser import WINDOW, console_errors, requested_urls, start_chromium
from tests.review.review_tree import RunTree, build_tree, make_clip


@pytest.fixture(scope="session")
def session_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real 1-second mp4, made once and copied wherever a clip is needed."""
    path = tmp_path_factory.mktemp("review-clip") / "clip.mp4"
    make_clip(path)
    return path


@pytest.fixture
def run_tree(tmp_path: Path, session_clip: Path) -> RunTree:
    """A pipeline file and its finished run (three shots, seven takes) under tmp_path."""
    return build_tree(tmp_path / "film", session_clip)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium (fresh profile) for the module's tests."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def driver(browser: Any) -> Any:
    """The module's browser at its normal size, on a blank page, with its logs drained."""
    browser.set_window_size(*WINDOW)
    browser.get("about:blank")
    console_errors(browser)
    requested_urls(browser)
    return browser
