"""The lock file committed beside the pipeline: which clips it produced, like ``dvc.lock``.

``<name>.rdpipe.lock`` sits next to ``<name>.yaml``. Shots keep pipeline order, mapping keys are
sorted and empty fields omitted, so rewriting unchanged results gives identical bytes and git
shows no diff. It holds no secrets: no API key, no download URLs. Its entries are in
:mod:`._lock_entries`; :func:`parse_lock` (:mod:`._lock_reader`) reads it back, refusing what
rdpipe would not have written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from rdpipe.files import write_atomically

from ._errors import LockFileInvalid
from ._lock_entries import ShotLock, TakeCost, TakeLock
from ._lock_reader import parse_lock
from ._records import ClipRecord, ShotState

_HEADER = "# Written by rdpipe: the clips this pipeline produced. Commit it; do not edit it.\n"


def lock_shot(
    shot_id: str,
    states: Sequence[ShotState],
    *,
    rendition: str = "",
    from_draft: int | None = None,
) -> ShotLock | None:
    """The lock entry of a shot's rendition (:class:`ShotLock`) from the state of each of its
    takes (newest clip per take).

    Returns ``None`` when no take has a clip yet. The model is the one of the clip's task.
    """
    takes: list[TakeLock] = []
    model: str | None = None
    for state in states:
        clip = state.clip
        if clip is None:
            continue
        takes.append(_take_from_clip(clip, None if state.key == states[0].key else state.key))
        tasks = [task for task in state.succeeded if task.task_id == clip.task_id]
        model = model or (tasks[0].model if tasks else None)
    if not takes:
        return None
    return ShotLock(shot_id, states[0].key, model, tuple(takes), rendition, from_draft)


def kept_takes(
    entry: ShotLock | None, before: ShotLock | None, keys: Sequence[str]
) -> ShotLock | None:
    """``entry`` with the takes of ``before`` (the lock file's entry for the same shot) that it
    lacks and whose request is unchanged: ``keys`` are the shot's take keys now, take 1 first.

    A take whose clip this machine does not hold (it was not obtained in this run) is not a
    changed take: the lock file keeps it.
    """
    if before is None or not keys:
        return entry
    current = {number: key for number, key in enumerate(keys, start=1)}
    have = {take.take for take in entry.takes} if entry is not None else set()
    kept = [
        replace(take, key=None if current[take.take] == keys[0] else current[take.take])
        for take in before.takes
        if take.take not in have
        and take.take in current
        and (take.key or before.key) == current[take.take]
    ]
    if not kept:
        return entry
    takes = tuple(sorted((*(entry.takes if entry else ()), *kept), key=lambda take: take.take))
    return replace(entry if entry is not None else before, key=keys[0], takes=takes)


def _take_from_clip(clip: ClipRecord, key: str | None) -> TakeLock:
    return TakeLock(
        take=clip.take,
        task_id=clip.task_id,
        clip=clip.path,
        sha256=clip.sha256,
        seed=clip.seed,
        duration=clip.duration,
        key=key,
    )


def render_lock(shots: Sequence[ShotLock]) -> str:
    """The lock file text for ``shots``, in the given (pipeline) order.

    Version 1 when no take has a cost (what rdpipe wrote before costs, byte for byte), 2 when
    one has, 3 when an entry is a rendition or a final from a draft (:attr:`ShotLock.version`).
    Written by hand when every value is one whose YAML PyYAML would write plainly or in single
    quotes (ids, paths, hashes, numbers: every lock file rdpipe writes), else by PyYAML; the two
    give the same bytes (``tests/state/test_lock_file.py``). PyYAML's
    pure-Python emitter took a third of a no-op rerun of 100 shots (issue 12, start-up).
    libyaml's (``yaml.CSafeDumper``) is not used: it escapes what PyYAML writes as it is
    (characters past U+FFFF, NEL), so such a lock file would change bytes; and for 100 shots it
    takes 10 ms to the hand path's 1.4 ms.
    """
    version = max((shot.version for shot in shots), default=1)
    entries = [_shot_to_data(shot) for shot in shots]
    fast = _written_by_hand(entries, version)
    if fast is not None:
        return _HEADER + fast
    return _HEADER + _dump({"version": version}) + _dump({"shots": entries})


def _written_by_hand(entries: list[dict[str, Any]], version: int) -> str | None:
    """The YAML PyYAML would write for these entries, or ``None`` for a value it must write."""
    lines = [f"version: {version}", "shots:" if entries else "shots: []"]
    for entry in entries:
        prefix = "- "
        for name in sorted(entry):
            if name == "takes":
                lines.append("  takes:")
                for take in entry[name]:
                    if not _mapping_by_hand(take, "  - ", "    ", lines):
                        return None
                continue
            scalar = _scalar(entry[name])
            if scalar is None:
                return None
            lines.append(f"{prefix}{name}: {scalar}")
            prefix = "  "
    return "\n".join(lines) + "\n"


def _mapping_by_hand(mapping: dict[str, Any], first: str, indent: str, lines: list[str]) -> bool:
    """Append ``mapping``'s lines as PyYAML writes them (the first after ``first``, the others
    after ``indent``; a nested mapping two spaces further); ``False`` for a value it must write."""
    prefix = first
    for field in sorted(mapping):
        value = mapping[field]
        if isinstance(value, dict):
            if not value:
                return False
            lines.append(f"{prefix}{field}:")
            if not _mapping_by_hand(value, indent + "  ", indent + "  ", lines):
                return False
        else:
            scalar = _scalar(value)
            if scalar is None:
                return False
            lines.append(f"{prefix}{field}: {scalar}")
        prefix = indent
    return True


#: Text PyYAML writes plainly: a letter or underscore, then letters, digits and ``_./-``;
#: an entry's rendition after a colon (``kite:draft``).
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*(?::[A-Za-z_][A-Za-z0-9_-]*)?")
#: Text :func:`_represent_str` single-quotes (number-like) that needs no escaping inside.
_QUOTED = re.compile(r"[0-9A-Za-z_./+-]+(?::[A-Za-z_][A-Za-z0-9_-]*)?")
#: Plain words YAML 1.1 reads as booleans or null (PyYAML's resolver): these are quoted.
_WORDS = frozenset(
    spelling
    for word in ("yes", "no", "true", "false", "on", "off", "null")
    for spelling in (word, word.capitalize(), word.upper())
)


def _scalar(value: object) -> str | None:
    """``value`` as PyYAML writes it in a block mapping here, or ``None`` if not simply."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if "." in text and "e" not in text and "n" not in text else None
    if not isinstance(value, str):
        return None
    if _single_quoted(value):
        return f"'{value}'" if _QUOTED.fullmatch(value) else None
    return value if _PLAIN.fullmatch(value) and value not in _WORDS else None


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
    )


class LockFile:
    """Reads and atomically writes one pipeline's lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> tuple[ShotLock, ...]:
        """The recorded shots, or none if the file does not exist yet.

        Raises :class:`LockFileInvalid` when the file is not a lock file rdpipe wrote
        (:func:`parse_lock`), UTF-8 text included.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return ()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            problem = f"not UTF-8 text (byte 0x{data[error.start]:02X} cannot be read)"
            raise LockFileInvalid(self.path, problem, line) from error
        return parse_lock(text, self.path)

    def write(self, shots: Sequence[ShotLock]) -> bool:
        """Write ``shots`` (temp file, fsync, rename, fsync dir); ``False`` if nothing changed."""
        return write_atomically(self.path, render_lock(shots).encode("utf-8"))


class _Quoted(str):
    """A hash, always single-quoted so every YAML reader sees a string (``'0123…'``)."""


class _Dumper(yaml.SafeDumper):
    """Quotes hashes, and strings starting like a number that YAML 1.2 would read as one."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "'" if _single_quoted(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=style)


def _single_quoted(value: str) -> bool:
    """Whether the lock file quotes ``value``: a hash, or text starting like a number."""
    return isinstance(value, _Quoted) or value[:1] in tuple("0123456789+-.")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Quoted, _represent_str)


def _shot_to_data(shot: ShotLock) -> dict[str, Any]:
    takes = [_take_to_data(take) for take in sorted(shot.takes, key=lambda t: t.take)]
    entry = {
        "id": shot.name,
        "key": _Quoted(shot.key),
        "model": shot.model,
        "takes": takes,
        "from_draft": shot.from_draft,
    }
    return _without_none(entry)


def _take_to_data(take: TakeLock) -> dict[str, Any]:
    key = None if take.key is None else _Quoted(take.key)
    cost = None if take.cost is None else _without_none(_cost_to_data(take.cost))
    return _without_none({**vars(take), "sha256": _Quoted(take.sha256), "key": key, "cost": cost})


def _cost_to_data(cost: TakeCost) -> dict[str, Any]:
    """A cost's figures, each whole one as an integer (``500000``, not ``500000.0``), so that
    what is read back (floats) is written again as the same bytes."""
    return {name: _figure(value) for name, value in vars(cost).items()}


def _figure(value: object) -> object:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in data.items() if value is not None}
