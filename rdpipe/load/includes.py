"""``include:``: merge other YAML files into a pipeline, keeping every value's position.

Included files are merged first, in the order given, and the including file wins: mappings
merge key by key, ``shots`` lists are concatenated (included shots first), any other value is
replaced. Include paths are relative to the including file; so are local media paths written in
an included file (the source map remembers which file each value came from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdpipe.errors import Diagnostic
from rdpipe.load.yaml_source import DataPath, SourceMap, YamlError, read_yaml

#: Included files may nest this deep; deeper is almost certainly a mistake.
MAX_DEPTH = 16
CONCATENATED = frozenset({"shots"})


@dataclass
class Document:
    """Merged data of a file and its includes, the source map, and the files that took part."""

    data: dict[str, Any]
    sources: SourceMap
    files: dict[str, Path] = field(default_factory=dict)


def shown_name(path: Path, cwd: Path) -> str:
    """The name a file is shown under: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def load_document(path: Path, *, cwd: Path) -> Document:
    """Read ``path`` and, recursively, everything it includes; raise YamlError on any problem."""
    return _load(path.resolve(), cwd=cwd, chain=())


def _load(path: Path, *, cwd: Path, chain: tuple[Path, ...]) -> Document:
    shown = shown_name(path, cwd)
    data, sources = read_yaml(path, shown)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        position = sources.find(())
        line = position.line if position else 0
        raise YamlError(
            [Diagnostic(shown, line, 1, "", "the file must be a mapping of keys (version:, ...)")]
        )
    merged = Document({}, SourceMap(), {shown: path})
    for index, target, where in _include_targets(data, sources, path, shown):
        target_path = (path.parent / target).resolve()
        if target_path in chain or target_path == path:
            raise YamlError(
                [Diagnostic(shown, where[0], where[1], f"include[{index}]", "includes itself")]
            )
        if len(chain) >= MAX_DEPTH:
            raise YamlError(
                [
                    Diagnostic(
                        shown, where[0], where[1], f"include[{index}]", "includes nest too deep"
                    )
                ]
            )
        if not _is_file(target_path):
            raise YamlError(
                [
                    Diagnostic(
                        shown,
                        where[0],
                        where[1],
                        f"include[{index}]",
                        f"included file {target!r} not found (paths are relative to {shown})",
                    )
                ]
            )
        included = _load(target_path, cwd=cwd, chain=(*chain, path))
        included.data.pop("include", None)
        _merge_into(merged, included)
    _merge_into(merged, Document(data, sources, {}))
    return merged


def _include_targets(
    data: dict[str, Any], sources: SourceMap, path: Path, shown: str
) -> list[tuple[int, str, tuple[int, int]]]:
    raw = data.get("include", [])
    if isinstance(raw, str):
        raw = data["include"] = [raw]  # one file may be written without a list
    valid = isinstance(raw, list) and all(isinstance(i, str) and "\0" not in i for i in raw)
    if not valid:
        position = sources.find(("include",))
        line, column = (position.line, position.column) if position else (0, 0)
        raise YamlError(
            [Diagnostic(shown, line, column, "include", "must be a list of file paths")]
        )
    targets = []
    for index, item in enumerate(raw):
        position = sources.find(("include", index))
        where = (position.line, position.column) if position else (0, 0)
        targets.append((index, item, where))
    return targets


def _merge_into(target: Document, source: Document) -> None:
    target.files.update(source.files)
    _merge_mapping(target.data, target.sources, source.data, source.sources, ())


def _merge_mapping(
    into: dict[str, Any],
    into_sources: SourceMap,
    data: dict[str, Any],
    sources: SourceMap,
    path: DataPath,
) -> None:
    if path in sources.values:
        into_sources.values.setdefault(path, sources.values[path])
    for key, value in data.items():
        here = (*path, key)
        existing = into.get(key)
        if isinstance(existing, dict) and isinstance(value, dict):
            if here in sources.keys:
                into_sources.keys[here] = sources.keys[here]
            _merge_mapping(existing, into_sources, value, sources, here)
        elif key in CONCATENATED and not path and isinstance(existing, list):
            if isinstance(value, list):
                offset = len(existing)
                existing.extend(value)
                _copy_sources(into_sources, sources, here, offset)
            else:
                into[key] = value
                _replace_sources(into_sources, sources, here)
        else:
            into[key] = value
            _replace_sources(into_sources, sources, here)


def _replace_sources(into: SourceMap, sources: SourceMap, path: DataPath) -> None:
    for table, source_table in zip(into.tables(), sources.tables(), strict=True):
        for stale in [p for p in table if p[: len(path)] == path]:
            del table[stale]
        for p, position in source_table.items():
            if p[: len(path)] == path:
                table[p] = position


def _copy_sources(into: SourceMap, sources: SourceMap, path: DataPath, offset: int) -> None:
    depth = len(path)
    for table, source_table in zip(into.tables(), sources.tables(), strict=True):
        for p, position in source_table.items():
            index = p[depth] if p[:depth] == path and len(p) > depth else None
            if isinstance(index, int):
                table[(*path, index + offset, *p[depth + 1 :])] = position


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long, say: as good as missing
        return False
