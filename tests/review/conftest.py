"""Fixtures for the review page: a run on disk (``run_tree``) built from one session clip."""

from __future__ import annotations

from pathlib import Path

import pytest

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
