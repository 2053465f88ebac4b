"""The index entry: what the store knows of the clip a request key and take produced.

Stored as ``index/<key>/<take>.json``, a small JSON object with sorted keys and a ``version``,
so a teammate's rdpipe finds the clip by the shot that made it, without the lock file. Its
``cost`` (issue 15; absent when not known) is the lock file's: a teammate who pulls the clip
writes the same lock entry as the machine that paid for it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard

from rdpipe.state import TakeCost

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
    cost: TakeCost | None = None  # what the clip cost, as its lock entry says

    def to_json(self) -> bytes:
        """The stored form: UTF-8 JSON, sorted keys, with the format's version (``cost`` and
        its unknown figures left out when not known)."""
        document = {"version": ENTRY_VERSION, **asdict(self)}
        cost = document.pop("cost")
        if cost is not None:
            document["cost"] = {name: value for name, value in cost.items() if value is not None}
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
    cost = _cost(document.get("cost"))
    return IndexEntry(key, take, sha256, size, task_id, seed, seconds, model, shot_id, cost)


def _cost(value: object) -> TakeCost | None:
    """A stored cost; ``None`` when absent or not one rdpipe writes (the clip still counts)."""
    if not isinstance(value, dict):
        return None
    currency, quota = value.get("currency"), value.get("quota")
    settled, per_unit = value.get("settled"), value.get("quota_per_unit")
    expected, rate = value.get("expected"), value.get("rate")
    if not (isinstance(currency, str) and _is_number(per_unit) and per_unit > 0):
        return None
    if (quota is None) != (settled is None):  # both stated, or neither (not stated)
        return None
    if quota is not None and not (_is_int(quota) and quota >= 0):
        return None
    if settled is not None and not (_is_number(settled) and settled >= 0):
        return None
    if not all(v is None or (_is_number(v) and v >= 0) for v in (expected, rate)):
        return None
    return TakeCost(
        currency=currency,
        settled=None if settled is None else float(settled),
        quota=quota,
        quota_per_unit=float(per_unit),
        expected=None if expected is None else float(expected),
        rate=None if rate is None else float(rate),
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
