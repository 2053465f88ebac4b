"""The index entry: what the store knows of the clip a request key and take produced.

Stored as ``index/<key>/<take>.json``, a small JSON object with sorted keys and a ``version``,
so a teammate's rdpipe finds the clip by the shot that made it, without the lock file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard

ENTRY_VERSION = 1


@dataclass(frozen=True)
class IndexEntry:
    """One request key's take -> its clip in the store.

    ``key`` is the request's cache key and ``take`` its take (1-based), which place the entry
    at ``index/<key>/<take>.json``; ``sha256`` names the clip (64 lowercase hex digits),
    ``size`` is in bytes, ``duration`` in seconds (``None``: not measured); ``task_id``,
    ``seed`` and ``model`` are the generation's, ``shot_id`` the shot of the pipeline that made
    it (for people reading the store).
    """

    key: str
    take: int
    sha256: str
    size: int
    task_id: str
    seed: int | None
    duration: float | None
    model: str | None
    shot_id: str

    def to_json(self) -> bytes:
        """The stored form: UTF-8 JSON, sorted keys, with the format's version."""
        document = {"version": ENTRY_VERSION, **asdict(self)}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> IndexEntry | None:
        """The entry stored as ``data``; ``None`` when it is not one this rdpipe can read."""
        try:
            document = json.loads(data)
        except ValueError:
            return None
        if not isinstance(document, dict) or document.get("version") != ENTRY_VERSION:
            return None
        return _entry(document)


def _entry(document: dict[str, Any]) -> IndexEntry | None:
    key, take = document.get("key"), document.get("take")
    if not (isinstance(key, str) and _is_int(take)):
        return None
    sha256, size, task_id = document.get("sha256"), document.get("size"), document.get("task_id")
    seed, duration = document.get("seed"), document.get("duration")
    model, shot_id = document.get("model"), document.get("shot_id")
    if not (isinstance(sha256, str) and isinstance(task_id, str) and isinstance(shot_id, str)):
        return None
    if not _is_int(size) or not (seed is None or _is_int(seed)):
        return None
    if not (duration is None or _is_number(duration)):
        return None
    if not (model is None or isinstance(model, str)):
        return None
    seconds = None if duration is None else float(duration)
    return IndexEntry(key, take, sha256, size, task_id, seed, seconds, model, shot_id)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
