"""Uploads and the asset library: the values the client hands out, and reading the answers.

The media host (relaydance-api.md §9, §10) answers with the object itself (``{"exists": ...}``)
or, on some deployments, with the same object wrapped as ``{"success": true, "data": {...}}``;
both are read alike. A ``{"success": false, "message": ...}`` body is a refusal whatever its
status (new-api answers some with 200). Keys are read in snake case, and in camel case too
(``uploadUrl``), since the shape is not documented. The storage behind an upload URL refuses in
S3's XML (``<Error><Code>…</Code><Message>…</Message></Error>``). Pure functions, no I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdpipe.client.errors import MalformedResponse

_MD5 = re.compile(r"[0-9a-f]{32}")
_EXTENSION = re.compile(r"[a-z0-9]{1,16}")
_XML_CODE = re.compile(r"<Code>(.*?)</Code>", re.DOTALL)
_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)
_MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class UploadSlot:
    """Where one file's bytes go and where they are fetched from afterwards.

    ``exists``: the media host has these bytes already (the caller may skip the ``PUT``).
    ``upload_url``: presigned for one ``PUT``; its query string is a credential for the
    object, so the repr leaves it out. ``source_url``: the URL a request sends once the bytes
    are there. ``content_type``: the one header the ``PUT`` must carry, exactly.
    """

    exists: bool
    upload_url: str = field(repr=False)
    source_url: str
    content_type: str


@dataclass(frozen=True)
class UploadSource:
    """The bytes a ``PUT`` sends: a file (read in chunks, memory flat) or bytes in memory.

    Exactly one of ``path`` and ``data``; ``size`` is the byte count the ``PUT`` announces
    (for ``data``, its length). ``md5`` (32 lower-case hex digits) is the md5 the bytes were
    checked with: the ``PUT`` is broken off before its last byte when the bytes read differ.
    ``shown`` names the file in messages as the user wrote it (default: the file's name).
    Raises ``ValueError`` for a source that breaks these rules.
    """

    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)
    size: int = 0
    md5: str | None = None
    shown: str = ""

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("an UploadSource has exactly one of path and data")
        if self.size < 0:
            raise ValueError(f"an upload's size cannot be negative ({self.size})")
        if self.data is not None and len(self.data) != self.size:
            raise ValueError(f"size {self.size} is not the length of data ({len(self.data)})")
        if self.md5 is not None:
            check_md5(self.md5)

    @property
    def name(self) -> str:
        """How messages name the source: ``shown``, else the file's name."""
        if self.shown:
            return self.shown
        return self.path.name if self.path is not None else "the bytes to upload"


@dataclass(frozen=True)
class AssetState:
    """One reading of a portrait registered in the asset library.

    ``status`` as the library spells it (``Processing``, ``Active``, ``Failed``); ``uri`` the
    ``asset://`` reference, once known; ``reason`` why the audit refused it (only when failed).
    """

    id: str
    status: str
    uri: str | None = None
    reason: str | None = None

    @property
    def active(self) -> bool:
        """The portrait passed its audit: ``uri`` may be sent."""
        return self.status.lower() == "active"

    @property
    def failed(self) -> bool:
        """The audit refused the portrait; ``reason`` says why."""
        return self.status.lower() == "failed"


@dataclass(frozen=True)
class Refusal:
    """A media-host answer saying no (``success: false``), with its reason (maybe empty)."""

    message: str


def unwrap(payload: object, operation: str) -> Mapping[str, Any] | Refusal:
    """The object of a media-host answer, flat or inside ``data``; a :class:`Refusal` for
    ``success: false`` or an ``error`` body. Raises :class:`MalformedResponse` for no object."""
    if not isinstance(payload, Mapping):
        raise MalformedResponse(operation, "the answer is not a JSON object")
    error = payload.get("error")
    if payload.get("success") is False or isinstance(error, Mapping | str):
        return Refusal(refusal_message(payload))
    data = payload.get("data")
    return data if isinstance(data, Mapping) else payload


def refusal_message(payload: Mapping[str, Any]) -> str:
    """The reason a refusal body gives: ``message``, else ``error.message``, else ``error``."""
    error = payload.get("error")
    for candidate in (
        payload.get("message"),
        error.get("message") if isinstance(error, Mapping) else error,
    ):
        if isinstance(candidate, str) and candidate.strip():
            return shorten(candidate)
    return ""


def parse_upload_slot(data: Mapping[str, Any], operation: str) -> UploadSlot:
    """Read ``{"exists", "upload_url", "source_url", "content_type"}``.

    ``upload_url`` and ``content_type`` may be missing when ``exists`` is true (nothing is
    sent). Raises :class:`MalformedResponse` when a field needed is missing.
    """
    exists = _flag(_field(data, "exists"))
    source_url = _text(_field(data, "source_url"))
    upload_url = _text(_field(data, "upload_url")) or ""
    content_type = _text(_field(data, "content_type")) or ""
    if source_url is None:
        raise MalformedResponse(operation, "the answer has no source_url")
    if not exists and not (upload_url and content_type):
        missing = "upload_url" if not upload_url else "content_type"
        raise MalformedResponse(operation, f"the answer has no {missing} for a file to upload")
    return UploadSlot(exists, upload_url, source_url, content_type)


def parse_asset_state(
    data: Mapping[str, Any], operation: str, asset_id: str | None = None
) -> AssetState:
    """Read ``{"id", "status", "uri", "reason"}``; ``asset_id`` fills a missing id.

    Raises :class:`MalformedResponse` without an id or a status.
    """
    found_id = _text(_field(data, "id")) or _text(_field(data, "asset_id")) or asset_id
    status = _text(_field(data, "status"))
    if found_id is None:
        raise MalformedResponse(operation, "the answer has no asset id")
    if status is None:
        raise MalformedResponse(operation, "the answer has no status")
    reason = _text(_field(data, "reason")) or _text(_field(data, "fail_reason"))
    return AssetState(found_id, status, _text(_field(data, "uri")), reason)


def storage_error(text: str) -> tuple[str | None, str]:
    """``(Code, Message)`` of an S3-style XML error body; ``(None, text)`` for any other."""
    code, message = _XML_CODE.search(text), _XML_MESSAGE.search(text)
    if code is None and message is None:
        return None, shorten(text)
    code_text = html.unescape(code.group(1)).strip() if code else ""
    return code_text or None, shorten(html.unescape(message.group(1))) if message else ""


def check_md5(md5: str) -> str:
    """``md5`` if it is 32 lower-case hex digits; ``ValueError`` otherwise (a caller's bug)."""
    if not _MD5.fullmatch(md5):
        raise ValueError(f"an md5 is 32 lower-case hex digits, not {md5!r}")
    return md5


def normalise_extension(extension: str) -> str:
    """A file extension as the media host takes it: lower case, no dot; ``ValueError`` for
    anything but 1 to 16 letters and digits."""
    normal = extension.strip().removeprefix(".").lower()
    if not _EXTENSION.fullmatch(normal):
        raise ValueError(f"{extension!r} is not a file extension")
    return normal


def shorten(text: str) -> str:
    """``text`` on one line, at most 500 characters."""
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _field(data: Mapping[str, Any], name: str) -> object:
    """``data[name]``, also spelled in camel case (``upload_url`` → ``uploadUrl``)."""
    if name in data:
        return data[name]
    first, *rest = name.split("_")
    return data.get(first + "".join(part.title() for part in rest))


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _flag(value: object) -> bool:
    """A JSON boolean, also given as 0/1 or "true"/"false"; missing is false."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) if isinstance(value, bool | int) else False
