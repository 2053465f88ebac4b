"""The music rule of ``validate``: ``output.music.source`` is a file with sound ffmpeg can read.

A music bed is mixed in at the very end of the assembly, after every clip was paid for; a
missing, empty or soundless file (a text file named ``.mp3``, a video without an audio track)
would only fail there, as an ffmpeg error dump (issue 11). The file is opened with PyAV,
imported only when a pipeline has music, so ``validate`` and ``plan`` stay fast without it.
A URL is not fetched here.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from rdpipe.load.loader import LoadedPipeline
from rdpipe.load.yaml_source import DataPath
from rdpipe.templates import Problem

_WHERE: DataPath = ("output", "music", "source")


def check_music(loaded: LoadedPipeline, *, allow_outside: bool = False) -> list[Problem]:
    """The problem with the pipeline's music file, if it has one."""
    music = loaded.pipeline.output.music
    if music is None or urlsplit(music.source).scheme.lower() in ("http", "https"):
        return []
    source = music.source
    path = (loaded.base_dir(_WHERE) / source).resolve()
    root = loaded.root.resolve()
    if not allow_outside and not path.is_relative_to(root):
        message = (f"{source!r} is outside the pipeline's folder {root}; move it inside or "
                   "pass --allow-outside-files if you trust this pipeline")  # fmt: skip
        return [Problem(_WHERE, message)]
    problem = music_file_problem(path)
    return [] if problem is None else [Problem(_WHERE, f"music file {source!r} {problem}")]


def music_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a music bed (``"is empty"``…), or ``None`` when its sound decodes.

    Worded to follow the file's name. The first audio frame is decoded, not just the header
    read: a file that merely looks like audio fails there.
    """
    try:
        if not path.is_file():
            return f"not found (looked at {path})"
        if path.stat().st_size == 0:
            return "is empty (0 bytes)"
    except OSError as error:
        return f"cannot be read: {error.strerror}"
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return "has no audio track; use a sound file (mp3, m4a, wav, flac, ogg)"
            for _frame in container.decode(container.streams.audio[0]):
                return None
    except av.FFmpegError as error:
        return f"is not a sound file rdpipe can read ({error.strerror or 'unreadable'})"
    return "has an audio track with no sound in it"
