"""Which of the files given to ``validate`` are fragments: files another pipeline includes.

``rdpipe validate pipelines/*/*.yaml`` names the shared files pipelines include (a brand kit of
vars and references) beside the pipelines. Such a file is no pipeline of its own (it lacks
``version``, ``name`` and ``shots``), so it is checked as a fragment
(:func:`~rdpipe.load.loader.fragment_diagnostics`). The rule cannot mistake a broken pipeline
for a fragment: a file is a fragment only when a pipeline among those given, or one in its own
folder, includes it (directly or through another include), whatever the file holds.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from rdpipe.load.yaml_source import YamlError, read_yaml

#: The names of the files in a fragment's folder that may include it.
_PIPELINE_SUFFIXES = (".yaml", ".yml")
#: A file larger than this (bytes) is not read for its includes: no storyboard is that long.
_LARGEST = 4_000_000


def find_fragments(files: Sequence[Path]) -> dict[Path, list[Path]]:
    """The given files that another file includes: each (resolved) with every file found
    including it (directly or not), the given ones first in the order given, then those in the
    fragment's folder by name."""
    given = [file.resolve() for file in files]
    candidates = list(dict.fromkeys([*given, *_neighbours(given)]))
    fragments: dict[Path, list[Path]] = {}
    for includer in candidates:
        for included in _included_by(includer):
            if included in given and included != includer:
                fragments.setdefault(included, []).append(includer)
    return fragments


def _neighbours(files: Sequence[Path]) -> Iterator[Path]:
    for folder in dict.fromkeys(file.parent for file in files):
        try:
            names = sorted(folder.iterdir())
        except OSError:
            continue
        yield from (path for path in names if path.suffix in _PIPELINE_SUFFIXES)


def _included_by(path: Path) -> list[Path]:
    """Every file ``path`` includes, through nested includes too (a file that cannot be read
    or parsed includes nothing here: loading it reports why)."""
    found: list[Path] = []
    pending = [path]
    while pending:
        current = pending.pop()
        for target in _includes(current):
            if target not in found and target != path:
                found.append(target)
                pending.append(target)
    return found


def _includes(path: Path) -> list[Path]:
    try:
        found = path.stat()
        # Only a regular file is opened: a FIFO, socket or device named *.yaml would block.
        if not stat.S_ISREG(found.st_mode) or found.st_size > _LARGEST:
            return []
        data, _sources = read_yaml(path, str(path))  # the loader's own reading: same rules
    except (OSError, YamlError):
        return []
    raw = data.get("include") if isinstance(data, dict) else None
    items = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [(path.parent / item).resolve() for item in items if isinstance(item, str)]
