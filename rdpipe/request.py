"""The body of ``POST /v1/video/generations`` as a typed, immutable value, built in steps.

The renderer builds a request one step at a time, each step returning a new value: the prompt
and the settings (the constructor, :meth:`GenerationRequest.with_settings`), a ``callback_url``
written in the file (:meth:`~GenerationRequest.with_callback`), the vendor fields the file
writes under ``metadata:`` (:meth:`~GenerationRequest.with_extra`), the content
(:meth:`~GenerationRequest.with_content`) and a take's seed (:meth:`~GenerationRequest.with_seed`).
Three steps need the run:

- the run's webhook (``rdpipe run --listen``) is a callback URL with a per-run secret: the
  session applies it to each job (:meth:`rdpipe.plan.Job.with_webhook`, the same
  :meth:`~GenerationRequest.with_callback` step, applied last). So when both are set, the run's
  webhook is the ``callback_url`` sent, and the file's is the one the journal records;
- the first frame of a shot that continues another is known once that shot's clip exists: the
  scheduler hands its last frame's PNG bytes to
  :meth:`~GenerationRequest.with_first_frame_png`, which inlines them as a data URL;
- a local file sent by URL (a :class:`LocalFile`: a hosted image, a portrait, every local
  video and audio file) has its URL once the session has uploaded (or registered) it:
  :meth:`~GenerationRequest.with_hosted` puts each URL in its place. Until then the entry
  reads as a content key (an image's data URL, the sha256 of a video or audio file), so the
  cache key never depends on where a file is hosted.

A request is serialised once, to :attr:`GenerationRequest.body`: canonical JSON (keys sorted,
no spaces, text as UTF-8). The cache key is the SHA-256 of the rendered request's body, the
journal records the (redacted) body of the request submitted, and the client POSTs the body
of the request as sent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

if TYPE_CHECKING:
    from rdpipe.templates import MediaKind

Role = Literal["reference_image", "reference_video", "reference_audio", "first_frame", "last_frame"]

#: A JSON value in frozen form: objects are :class:`Fields`, arrays tuples.
JsonValue: TypeAlias = "str | int | float | bool | tuple[JsonValue, ...] | Fields | None"


def canonical_json(value: Any) -> bytes:
    """The one byte form of a request: keys sorted, no spaces, text as UTF-8 (not escaped).

    Cache keys of existing run state were computed from this form: changing it would make
    every saved clip look like another request's and pay for it again.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Fields:
    """A JSON object frozen in the order it was written: fields with no typed slot.

    The vendor parameters a file writes under ``metadata:`` (``camera_fixed``, ``watermark``,
    a ``seed`` for take 1, anything new) are carried here as written, so the body sends exactly
    what the file says.
    """

    items: tuple[tuple[str, JsonValue], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[str, object]) -> Fields:
        """Freeze a mapping of JSON values; raises ``TypeError`` for anything JSON cannot carry."""
        return cls(tuple((_name(name), freeze(value)) for name, value in mapping.items()))

    def to_json(self) -> dict[str, Any]:
        """The fields as a plain JSON object (dicts and lists)."""
        return {name: thaw(value) for name, value in self.items}


def freeze(value: object) -> JsonValue:
    """A JSON value (str, number, bool, None, list, dict with text keys) in frozen form.

    Subclasses of the scalar types become the plain type, which JSON writes the same way.
    Raises ``TypeError`` for anything else.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    if isinstance(value, Mapping):
        return Fields.of(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def thaw(value: JsonValue) -> Any:
    """The plain form of a frozen JSON value: dicts and lists again."""
    if isinstance(value, Fields):
        return value.to_json()
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value


def _name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a JSON object's field names are text, not {type(name).__name__}")
    return str(name)


def _map_fields(fields: Fields, change: Callable[[str], str]) -> Fields:
    """``fields`` with ``change`` applied to every text value inside, names kept."""
    return Fields(tuple((name, _map_value(value, change)) for name, value in fields.items))


def _map_value(value: JsonValue, change: Callable[[str], str]) -> JsonValue:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, tuple):
        return tuple(_map_value(item, change) for item in value)
    if isinstance(value, Fields):
        return _map_fields(value, change)
    return value


@dataclass(frozen=True)
class Media:
    """One entry of ``metadata.content``: reference media or a frame, by URL (or data URL)."""

    kind: MediaKind
    url: str
    role: Role

    def to_json(self) -> dict[str, Any]:
        """``{"type": "image_url", "image_url": {"url": …}, "role": …}``, as the API reads it."""
        payload = f"{self.kind}_url"
        return {"type": payload, payload: {"url": self.url}, "role": self.role}


@dataclass(frozen=True)
class ContinuityFrame:
    """The first frame of a shot that continues ``shot_id``: that shot's last frame.

    Until the run has that clip, the entry reads as a placeholder URL naming the shot; the
    cache key is computed from that form. :meth:`filled` is the entry once the frame exists,
    which :meth:`GenerationRequest.with_first_frame_png` puts in the placeholder's place.
    """

    shot_id: str
    kind: ClassVar[Literal["image"]] = "image"
    role: ClassVar[Literal["first_frame"]] = "first_frame"

    @property
    def url(self) -> str:
        """``<last frame of shot x>``: what the entry reads as until the frame exists."""
        return f"<last frame of shot {self.shot_id}>"

    def to_json(self) -> dict[str, Any]:
        """The entry as the placeholder image it stands for."""
        return Media(self.kind, self.url, self.role).to_json()

    @classmethod
    def filled(cls, png: bytes) -> Media:
        """The first frame itself: ``png`` (a PNG file's bytes) inline as a base64 data URL."""
        return Media(cls.kind, png_data_url(png), cls.role)


def png_data_url(png: bytes) -> str:
    """``data:image/png;base64,…``: a PNG file's bytes as a URL the API reads inline."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@dataclass(frozen=True)
class LocalFile:
    """A local file the request carries by URL once it is hosted: uploaded, or an asset.

    ``size``, ``md5``, ``sha256``, ``extension`` (``"png"``, ``"mp4"``, ``"wav"``...) and
    ``content_type`` describe the bytes sent, which for an image are those of ``data_url`` (its
    inline form; the file at ``path`` when the API takes it as it is, else its conversion, see
    :mod:`rdpipe.prepare.images`). ``shown`` is the path as written in the file; ``duration``
    the length of a video or audio file in seconds. ``send_as`` says what the session does:
    ``hosted``, upload it once and send its URL; ``asset``, also register it in the asset
    library and send its ``asset://`` URI.

    Until the session puts the URL in its place (:meth:`GenerationRequest.with_hosted`), the
    entry reads as its :attr:`key_url`, and so does the cache key: the key depends on the bytes,
    never on where they are hosted.
    """

    kind: MediaKind
    role: Role
    path: Path
    shown: str
    size: int
    md5: str
    sha256: str
    extension: str
    content_type: str
    send_as: Literal["hosted", "asset"]
    data_url: str | None = None
    duration: float | None = None

    @property
    def key_url(self) -> str:
        """What the entry reads as until hosted: an image's data URL, so the request is
        byte for byte the one sent inline (keys made before hosting existed stay valid);
        ``<portrait sha256:HEX>`` for a portrait (an audited asset is another input than the
        picture: marking a refused image ``asset: true`` makes a new request, not one the
        upstream refused); ``<local video sha256:HEX>`` (or audio) otherwise."""
        if self.send_as == "asset":
            return f"<portrait sha256:{self.sha256}>"
        if self.data_url is not None:
            return self.data_url
        return f"<local {self.kind} sha256:{self.sha256}>"

    def to_json(self) -> dict[str, Any]:
        """The entry as the media its :attr:`key_url` stands for."""
        return Media(self.kind, self.key_url, self.role).to_json()


ContentEntry: TypeAlias = Media | ContinuityFrame | LocalFile


def _map_entry(entry: ContentEntry, change: Callable[[str], str]) -> ContentEntry:
    if isinstance(entry, Media):
        return replace(entry, url=change(entry.url))
    if isinstance(entry, LocalFile) and entry.data_url is not None:
        return replace(entry, data_url=change(entry.data_url))
    return entry


@dataclass(frozen=True)
class Metadata:
    """The ``metadata`` object: vendor parameters, copied field by field into the upstream call.

    ``callback_url`` is always here, never at the top level. ``seed`` is a take's own seed
    (from ``seeds:`` or derived); it replaces a ``seed`` written in ``extra``.
    """

    ratio: str | None = None
    resolution: str | None = None
    generate_audio: bool | None = None
    callback_url: str | None = None
    extra: Fields = field(default_factory=Fields)
    content: tuple[ContentEntry, ...] = ()
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The plain object, in the order written: settings, extra fields, content, seed."""
        settings = (
            ("ratio", self.ratio),
            ("resolution", self.resolution),
            ("generate_audio", self.generate_audio),
            ("callback_url", self.callback_url),
        )
        fields: dict[str, Any] = {name: value for name, value in settings if value is not None}
        fields.update(self.extra.to_json())
        if self.content:
            fields["content"] = [entry.to_json() for entry in self.content]
        if self.seed is not None:
            fields["seed"] = self.seed
        return fields


@dataclass(frozen=True)
class GenerationRequest:
    """One ``POST /v1/video/generations`` body; each ``with_*`` step returns a new request.

    ``seconds`` is text (``"5"``): the relay parses it, and rejects a JSON number.
    """

    model: str
    prompt: str
    seconds: str
    metadata: Metadata = field(default_factory=Metadata)

    def with_settings(
        self,
        *,
        ratio: str | None = None,
        resolution: str | None = None,
        generate_audio: bool | None = None,
    ) -> GenerationRequest:
        """The settings step: aspect ratio, resolution and sound (``None``: not sent)."""
        metadata = replace(
            self.metadata, ratio=ratio, resolution=resolution, generate_audio=generate_audio
        )
        return replace(self, metadata=metadata)

    def with_extra(self, fields: Mapping[str, object]) -> GenerationRequest:
        """The vendor fields written under ``metadata:``, carried as written.

        Raises ``TypeError`` for a value JSON cannot carry.
        """
        return replace(self, metadata=replace(self.metadata, extra=Fields.of(fields)))

    def with_content(self, entries: Iterable[ContentEntry]) -> GenerationRequest:
        """The content step: references, then frames, in the order the prompt cites them."""
        return replace(self, metadata=replace(self.metadata, content=tuple(entries)))

    def with_seed(self, seed: int) -> GenerationRequest:
        """The seed step: a take's own seed, replacing any seed written in ``metadata:``."""
        return replace(self, metadata=replace(self.metadata, seed=seed))

    def with_first_frame(self, url: str) -> GenerationRequest:
        """The continuity step: the frame (a URL or data URL) in place of its placeholder.

        Raises ``ValueError`` when the request does not continue another shot.
        """
        return self._with_frame(Media(ContinuityFrame.kind, url, ContinuityFrame.role))

    def with_first_frame_png(self, png: bytes) -> GenerationRequest:
        """The continuity step from the last frame of the shot continued, as PNG bytes.

        The frame goes inline as a data URL (:meth:`ContinuityFrame.filled`). Raises
        ``ValueError`` when the request does not continue another shot.
        """
        return self._with_frame(ContinuityFrame.filled(png))

    def _with_frame(self, frame: Media) -> GenerationRequest:
        if self.continues_from is None:
            raise ValueError("this request does not start from another shot's last frame")
        content = tuple(
            frame if isinstance(entry, ContinuityFrame) else entry
            for entry in self.metadata.content
        )
        return self.with_content(content)

    def with_hosted(self, urls: Mapping[LocalFile, str]) -> GenerationRequest:
        """The hosting step: each local file by the URL (or ``asset://`` URI) that hosts it.

        Raises ``ValueError`` naming a local file ``urls`` has no URL for.
        """
        missing = [entry.shown for entry in self.local_files if entry not in urls]
        if missing:
            raise ValueError(f"no hosted URL for {', '.join(map(repr, missing))}")
        content = tuple(
            Media(entry.kind, urls[entry], entry.role) if isinstance(entry, LocalFile) else entry
            for entry in self.metadata.content
        )
        return self.with_content(content)

    @property
    def local_files(self) -> tuple[LocalFile, ...]:
        """The local files this request carries until they are hosted, in content order."""
        return tuple(e for e in self.metadata.content if isinstance(e, LocalFile))

    def with_callback(self, url: str) -> GenerationRequest:
        """The callback step: the webhook the API POSTs the final task state to.

        It replaces a callback set before: applied for the file's ``callback_url`` when the
        shot is rendered, then for the run's webhook (``--listen``), which so wins.
        """
        return replace(self, metadata=replace(self.metadata, callback_url=url))

    @property
    def continues_from(self) -> str | None:
        """The shot whose last frame starts this one, while that frame is still to come."""
        return next(
            (e.shot_id for e in self.metadata.content if isinstance(e, ContinuityFrame)), None
        )

    def map_text(self, change: Callable[[str], str]) -> GenerationRequest:
        """A copy with ``change`` applied to every text value (never to field names).

        For copies meant for people and the record: the journal and the manifest redact URLs
        with it, ``rdpipe plan`` shortens data URLs. A continuity placeholder stays as it is,
        and so does a local file, except for the inline form of an image (its ``data_url``),
        which is text of the body like any other: a hosted image is redacted and shortened as
        the same image sent inline would be.
        """
        metadata = self.metadata

        def optional(text: str | None) -> str | None:
            return None if text is None else change(text)

        content = tuple(_map_entry(entry, change) for entry in metadata.content)
        return GenerationRequest(
            change(self.model),
            change(self.prompt),
            change(self.seconds),
            replace(
                metadata,
                ratio=optional(metadata.ratio),
                resolution=optional(metadata.resolution),
                callback_url=optional(metadata.callback_url),
                extra=_map_fields(metadata.extra, change),
                content=content,
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The body as a plain JSON object, fields in the order the API documents them."""
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt, "seconds": self.seconds}
        metadata = self.metadata.to_json()
        if metadata:
            body["metadata"] = metadata
        return body

    @cached_property
    def body(self) -> bytes:
        """The body in its one byte form (:func:`canonical_json`), computed once."""
        return canonical_json(self.to_json())
