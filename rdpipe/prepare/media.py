"""Reference media: the content entry each source becomes, after checking local files.

The API takes images as https or ``data:`` URLs (or ``asset://`` URIs), videos and audio as
http(s) URLs only. URLs are sent as written. A local image is read, checked (format, 300-6000 px
a side as displayed, aspect 0.4-2.5, under 30 MB) and turned into the bytes sent: the file
byte for byte, or converted when it is MPO, HEIC, AVIF, CMYK or EXIF-rotated
(``rdpipe.prepare.images`` says why). It then goes inline as a data URL (a :class:`Media`), or,
hosted or as a portrait, becomes a :class:`LocalFile` the session uploads. A local video or
audio file is read with PyAV and checked (``rdpipe.prepare.av_files``) and is always a
:class:`LocalFile`: the API takes no inline video or audio. A local file's md5 and sha256 are
computed in one streamed pass. Local paths must stay inside the pipeline's directory unless the
user allows otherwise, so a pipeline from someone else cannot upload their private files.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from rdpipe.load.loader import LoadedPipeline
from rdpipe.load.yaml_source import DataPath
from rdpipe.prepare.av_files import (
    AUDIO_CONTAINERS,
    VIDEO_CONTAINERS,
    UnreadableAvFile,
    av_problem,
    read_av_file,
)
from rdpipe.prepare.images import (
    API_FORMATS,
    CONVERTED_FORMATS,
    Picture,
    UnreadableImage,
    read_picture,
)
from rdpipe.render import REFERENCE_ROLES, SendAs
from rdpipe.request import ContentEntry, LocalFile, Media, Role
from rdpipe.templates import MediaKind, Problem

MAX_IMAGE_BYTES = 30 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 300, 6000
MIN_ASPECT, MAX_ASPECT = 0.4, 2.5
WEB_SCHEMES = ("http", "https")


#: An image's extension when hosted, by its MIME type ("jpg": the name upload hosts know best).
_IMAGE_EXTENSIONS = {"image/jpeg": "jpg", "image/tiff": "tiff"}
_READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class LocalImage:
    """A checked local image: where it is, its size in bytes, and the bytes sent as a data URL
    of type ``mime`` (one string, shared by every request carrying the image)."""

    path: Path
    size: int
    mime: str
    data_url: str


@dataclass
class LocalMedia:
    """The media resolver for one pipeline: checks sources, reads each local file once.

    ``problems`` collects what is wrong, each once; :meth:`uses` says where each local file
    entry was asked for.
    """

    loaded: LoadedPipeline
    allow_outside: bool = False
    problems: list[Problem] = field(default_factory=list)
    _images: dict[Path, LocalImage | None] = field(default_factory=dict)
    _files: dict[tuple[Path, MediaKind], LocalFile | None] = field(default_factory=dict)
    _uses: dict[tuple[DataPath, LocalFile], None] = field(default_factory=dict)

    def entry_for(
        self, source: str, kind: MediaKind, role: Role, where: DataPath, *, send_as: SendAs
    ) -> ContentEntry:
        """The content entry for ``source`` written at ``where``; a problem (and the source as
        written) when it cannot be sent. ``send_as`` applies to local images only."""
        form = source_form(source)
        if form == "url":
            return Media(kind, source, role)
        if form == "data":
            if kind != "image":
                self._problem(
                    where,
                    f"a data URL cannot carry {kind}: the API takes {kind} only by URL; "
                    "write the path of a local file or an http(s) URL",
                )
            elif not source.startswith("data:image/"):
                self._problem(where, "a data URL here must be an image (data:image/...)")
            return Media(kind, source, role)
        if form == "other":
            self._problem(where, f"{source!r}: only http(s) and data: URLs or local files")
            return Media(kind, source, role)
        entry = self._local_entry(source, kind, role, where, send_as)
        if isinstance(entry, LocalFile):
            self._uses.setdefault((where, entry), None)
        return entry

    def uses(self) -> list[tuple[DataPath, LocalFile]]:
        """Each place a local file entry was asked for, with the entry, once per place, in the
        order first asked for: a reference's definition (however many shots cite it), a
        shot's ``first_frame``/``last_frame``."""
        return list(self._uses)

    def _local_entry(
        self, source: str, kind: MediaKind, role: Role, where: DataPath, send_as: SendAs
    ) -> ContentEntry:
        path = self._path(source, where)
        if path is None:
            return Media(kind, source, role)
        if kind != "image":
            if (path, kind) not in self._files:
                self._files[path, kind] = self._check_av(path, source, kind, where)
            file = self._files[path, kind]
            return Media(kind, source, role) if file is None else file
        if path not in self._images:
            self._images[path] = self._check_image(path, source, where)
        image = self._images[path]
        if image is None:
            return Media(kind, source, role)
        if send_as == "inline":
            return Media(kind, image.data_url, role)
        return self._image_file(image, source, role, send_as)

    def _image_file(self, image: LocalImage, source: str, role: Role, send_as: SendAs) -> LocalFile:
        key: tuple[Path, MediaKind] = (image.path, "image")
        file = self._files.get(key)
        if file is None:
            data = base64.b64decode(image.data_url.partition(",")[2])
            md5, sha256 = hashlib.md5(data, usedforsecurity=False), hashlib.sha256(data)
            subtype = image.mime.removeprefix("image/")
            file = LocalFile(
                kind="image",
                role=role,
                path=image.path,
                shown=source,
                size=len(data),
                md5=md5.hexdigest(),
                sha256=sha256.hexdigest(),
                extension=_IMAGE_EXTENSIONS.get(image.mime, subtype),
                content_type=image.mime,
                send_as=_hosting(send_as),
                data_url=image.data_url,
            )
            self._files[key] = file
        return replace(file, role=role, shown=source, send_as=_hosting(send_as))

    def _path(self, source: str, where: DataPath) -> Path | None:
        """The resolved path of a local file written at ``where``, if it may be read."""
        if "\0" in source:
            self._problem(where, f"{source!r} is not a valid file path")
            return None
        path = (self.loaded.base_dir(where) / source).resolve()
        root = self.loaded.root.resolve()
        if not self.allow_outside and not path.is_relative_to(root):
            self._problem(
                where,
                f"{source!r} is outside the pipeline's folder {root}; move it inside "
                "or pass --allow-outside-files if you trust this pipeline",
            )
            return None
        return path

    def _size(self, path: Path, source: str, kind: MediaKind, where: DataPath) -> int | None:
        """The size in bytes of the file at ``path``; a problem and ``None`` when it is missing,
        a folder or unreadable."""
        try:
            if path.is_dir():
                self._problem(where, f"{source!r} is a folder, not a file")
                return None
            size = path.stat().st_size if path.is_file() else None
        except OSError as error:
            self._problem(where, f"{source!r} cannot be read: {error.strerror}")
            return None
        if size is None:
            self._problem(where, f"{kind} file {source!r} not found (looked at {path})")
        return size

    def _check_av(
        self, path: Path, source: str, kind: MediaKind, where: DataPath
    ) -> LocalFile | None:
        """A local video or audio file, read and checked, as the entry the session hosts."""
        if kind == "image" or self._size(path, source, kind, where) is None:
            return None
        try:
            facts = read_av_file(path)
        except UnreadableAvFile as error:
            self._problem(where, f"{source!r} {error.detail}")
            return None
        problem = av_problem(facts, kind, source)
        if problem is not None:
            self._problem(where, problem)
            return None
        extension, content_type = {**VIDEO_CONTAINERS, **AUDIO_CONTAINERS}[facts.container]
        try:
            size, md5, sha256 = file_digests(path)
        except OSError as error:
            self._problem(where, f"{source!r} cannot be read: {error.strerror}")
            return None
        return LocalFile(
            kind=kind,
            role=REFERENCE_ROLES[kind],
            path=path,
            shown=source,
            size=size,
            md5=md5,
            sha256=sha256,
            extension=extension,
            content_type=content_type,
            send_as="hosted",
            duration=facts.duration,
        )

    def _check_image(self, path: Path, source: str, where: DataPath) -> LocalImage | None:
        size = self._size(path, source, "image", where)
        if size is None:
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
        return LocalImage(path, size, mime, f"data:{mime};base64,{encoded}")

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


def source_form(source: str) -> Literal["url", "data", "local", "other"]:
    """What a media source written in the file is: an http(s) URL, a ``data:`` URL, a local
    path (a Windows drive letter included), or a URL of another scheme (refused)."""
    scheme = urlsplit(source).scheme.lower()
    if scheme in WEB_SCHEMES:
        return "url"
    if scheme == "data":
        return "data"
    return "local" if len(scheme) <= 1 else "other"


def file_digests(path: Path) -> tuple[int, str, str]:
    """A file's size, md5 and sha256 (hex), read once in 1 MiB chunks: memory stays flat.

    Raises ``OSError`` when the file cannot be read.
    """
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(_READ_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return size, md5.hexdigest(), sha256.hexdigest()


def _hosting(send_as: SendAs) -> Literal["hosted", "asset"]:
    return "asset" if send_as == "asset" else "hosted"
