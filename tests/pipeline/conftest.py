"""Fixtures for pipeline-file tests: a storyboard tree built from a dict, a CLI runner, and
reference video and audio files."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from PIL import Image
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.ffmpeg_path import find_ffmpeg
from tests.pipeline.media_files import make_media

#: Writes files under tmp_path: text for str values, an image for ("image", (w, h)) tuples.
TreeMaker = Callable[[dict[str, object]], Path]


@pytest.fixture
def make_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TreeMaker:
    """Build a storyboard folder from a mapping of relative paths to contents; cwd is its root."""
    monkeypatch.chdir(tmp_path)

    def make(files: dict[str, object]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, tuple) and content[0] == "image":
                width, height = content[1]
                fmt = content[2] if len(content) > 2 else "PNG"
                Image.new("RGB", (width, height), (90, 120, 200)).save(path, format=fmt)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(str(content), encoding="utf-8")
        return tmp_path

    return make


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Invoke the rdpipe CLI in-process and return click's result (stdout and stderr apart).

    RelayDance is a closed port on this machine unless the test sets another address: ``plan``
    asks for the public price list, and a test must never reach the real relay.
    """
    monkeypatch.setenv("RELAYDANCE_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def _closed_port() -> int:
    """A port nothing listens on (it was free a moment ago): connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Reference video and audio files by name (see ``tests.pipeline.media_files``), made once."""
    ffmpeg = find_ffmpeg(os.environ)
    return make_media(ffmpeg, tmp_path_factory.mktemp("reference-media"))
