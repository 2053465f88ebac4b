"""Small generated clips for the assembly tests, made once per session with the bundled ffmpeg."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rdpipe.ffmpeg_path import find_ffmpeg
from tests.assemble.clips import MIXED, ClipRecipe, make_clip


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """Path of the bundled ffmpeg."""
    return find_ffmpeg(os.environ)


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory shared by the session's generated clips."""
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def mixed_clips(ffmpeg: str, clip_dir: Path) -> list[Path]:
    """Clips that differ in size, rate, codec, container, orientation and audio."""
    return [make_clip(ffmpeg, recipe, clip_dir) for recipe in MIXED]


@pytest.fixture(scope="session")
def matching_clips(ffmpeg: str, clip_dir: Path) -> list[Path]:
    """Four clips with identical stream parameters (320x180, 25 fps, AAC stereo)."""
    return [
        make_clip(ffmpeg, ClipRecipe(f"same{i}", 320, 180, "25", hue=i * 60), clip_dir)
        for i in range(4)
    ]
