"""The model ids a fragment writes, checked as far as a fragment alone allows (issue 16 §4).

A fragment (a file pipelines include: a brand kit's ``defaults``, a shared ``draft:``) has no
shots of its own, so which shots use its ids is its includers' business; but an id it writes
can still be checked against rdpipe's catalog (a warning with a did-you-mean) and, with
``validate --online``, against the server's list (an error). Ids written with a template
(``{{ model }}``) are left to the pipelines that render them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdpipe.load.includes import load_document
from rdpipe.load.yaml_source import DataPath, SourceMap, YamlError
from rdpipe.prepare.model_ids import ModelUse


def fragment_model_uses(path: Path, *, cwd: Path) -> list[ModelUse]:
    """Each distinct model id the fragment ``path`` (with its own includes) writes as a
    ``model:`` key anywhere (top level, ``defaults``, ``draft``, a shot), in file order, with
    every place; ``shots`` of each use is empty. Nothing when the file does not load (its
    problems are reported by :func:`rdpipe.load.loader.fragment_diagnostics`)."""
    try:
        document = load_document(path, cwd=cwd)
    except YamlError:
        return []
    places: dict[str, list[tuple[str, int, int, DataPath]]] = {}
    for model, at in _models(document.data, (), document.sources):
        places.setdefault(model, []).append(at)
    return [ModelUse(model, tuple(found), ()) for model, found in places.items()]


def _models(
    data: Any, path: DataPath, sources: SourceMap
) -> list[tuple[str, tuple[str, int, int, DataPath]]]:
    found: list[tuple[str, tuple[str, int, int, DataPath]]] = []
    items: list[tuple[str | int, Any]] = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))
    for key, value in items:
        here = (*path, key)
        if key == "model" and isinstance(value, str) and "{{" not in value and "{%" not in value:
            at = sources.find(here)
            found.append((value, (at.file, at.line, at.column, here) if at else ("", 0, 0, here)))
        elif isinstance(value, dict | list):
            found += _models(value, here, sources)
    return found
