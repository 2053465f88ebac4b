"""Reference media: checks local images against the API's limits and inlines them as data URLs.

The API takes images as https or ``data:`` URLs, videos and audio as http(s) URLs only. A
local image is read, checked (format, 300-6000 px a side as displayed, aspect 0.4-2.5, under
30 MB) and sent as a base64 data URL: byte for byte, or converted when it is MPO, HEIC, AVIF,
CMYK or EXIF-rotated (``rdpipe.prepare.images`` says why). Local paths must stay inside the
pipeline's directory unless the user allows otherwise, so a pipeline from someone else cannot
upload their private files.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from rdpipe.load.loader import LoadedPipeline
from rdpipe.load.yaml_source import DataPath
from rdpipe.prepare.images import (
    API_FORMATS,
    CONVERTED_FORMATS,
    Picture,
    UnreadableImage,
    read_picture,
)
from rdpipe.templates import MediaKind, Problem

MAX_IMAGE_BYTES = 30 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 300, 6000
MIN_ASPECT, MAX_ASPECT = 0.4, 2.5
WEB_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class LocalImage:
    """A checked local image: where it is, its size in bytes and its data URL."""

    path: Path
    size: int
    data_url: str


@dataclass
class LocalMedia:
    """The media resolver for one pipeline: checks sources, reads each local file once."""

    loaded: LoadedPipeline
    allow_outside: bool = False
    problems: list[Problem] = field(default_factory=list)
    _images: dict[Path, LocalImage | None] = field(default_factory=dict)

    def url_for(self, source: str, kind: MediaKind, where: DataPath) -> str:
        scheme = urlsplit(source).scheme.lower()
        if scheme in WEB_SCHEMES:
            return source
        if scheme == "data" and kind == "image":
            if not source.startswith("data:image/"):
                self._problem(where, "a data URL here must be an image (data:image/...)")
            return source
        if kind != "image":
            self._problem(
                where,
                f"{source!r}: {kind} references must be http(s) URLs "
                "(the API does not accept local or data-URL video and audio)",
            )
            return source
        if len(scheme) > 1:  # one letter is a Windows drive, anything else a URL scheme
            self._problem(where, f"{source!r}: only http(s) and data: URLs or local files")
            return source
        image = self._local_image(source, where)
        return image.data_url if image is not None else source

    def _local_image(self, source: str, where: DataPath) -> LocalImage | None:
        if "\0" in source:
            self._problem(where, f"{source!r} is not a valid file path")
            return None
        base = self.loaded.base_dir(where)
        path = (base / source).resolve()
        if path in self._images:
            return self._images[path]
        image = self._check(path, source, where)
        self._images[path] = image
        return image

    def _check(self, path: Path, source: str, where: DataPath) -> LocalImage | None:
        root = self.loaded.root.resolve()
        if not self.allow_outside and not path.is_relative_to(root):
            self._problem(
                where,
                f"{source!r} is outside the pipeline's folder {root}; move it inside "
                "or pass --allow-outside-files if you trust this pipeline",
            )
            return None
        try:
            size = path.stat().st_size if path.is_file() else None
        except OSError as error:
            self._problem(where, f"{source!r} cannot be read: {error.strerror}")
            return None
        if size is None:
            self._problem(where, f"image file {source!r} not found (looked at {path})")
            return None
        if size >= MAX_IMAGE_BYTES:
            self._problem(where, f"{source!r} is {size / 2**20:.1f} MB; images must be under 30 MB")
            return None
        try:
            picture = read_picture(path.read_bytes())
            if not self._inspect(picture, source, where):
                return None
            data, mime = picture.for_api()
        except UnreadableImage as error:
            self._problem(where, f"{source!r} {error.detail}")
            return None
        if len(data) >= MAX_IMAGE_BYTES:
            self._problem(
                where,
                f"{source!r} is {len(data) / 2**20:.1f} MB once converted to "
                f"{mime.removeprefix('image/').upper()}; images must be under 30 MB",
            )
            return None
        encoded = base64.b64encode(data).decode("ascii")
        return LocalImage(path, size, f"data:{mime};base64,{encoded}")

    def _inspect(self, picture: Picture, source: str, where: DataPath) -> bool:
        kind, (width, height) = picture.format, picture.size
        if kind not in API_FORMATS and kind not in CONVERTED_FORMATS:
            allowed = ", ".join(name.lower() for name in API_FORMATS)
            self._problem(where, f"{source!r} is {kind or 'an unknown format'}; use {allowed}")
            return False
        problems = []
        for side, value in (("width", width), ("height", height)):
            if not MIN_SIDE <= value <= MAX_SIDE:
                problems.append(f"{side} {value} px is outside {MIN_SIDE}-{MAX_SIDE} px")
        aspect = width / height if height else 0.0
        if not MIN_ASPECT <= aspect <= MAX_ASPECT:
            problems.append(f"aspect ratio {aspect:.2f} is outside {MIN_ASPECT}-{MAX_ASPECT}")
        if problems:
            self._problem(where, f"{source!r} ({picture.describe_size()}): " + "; ".join(problems))
            return False
        return True

    def _problem(self, where: DataPath, message: str) -> None:
        problem = Problem(where, message)
        if problem not in self.problems:
            self.problems.append(problem)
