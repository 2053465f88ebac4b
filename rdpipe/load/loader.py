"""Pipeline file to validated model: the only layer that knows file names and line numbers.

``load_pipeline`` reads the file and its includes, applies ``--set`` variables, validates the
result against the pydantic model and turns every validation error into a :class:`Diagnostic`
naming file, line, column and field, so that all problems are reported at once.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic_core import ErrorDetails

from rdpipe.errors import Diagnostic, PipelineInvalid, UsageError
from rdpipe.load.includes import Document, load_document, shown_name
from rdpipe.load.yaml_source import DataPath, Position, SourceMap, YamlError, display_path
from rdpipe.model import Pipeline


@dataclass(frozen=True)
class LoadedPipeline:
    """A validated pipeline and what is needed to point back into its files."""

    pipeline: Pipeline
    path: Path
    shown_as: str
    sources: SourceMap
    files: Mapping[str, Path]
    cli_vars: Mapping[str, Any]

    @property
    def root(self) -> Path:
        """The directory of the pipeline file: local paths stay inside it."""
        return self.path.parent

    def position(self, path: DataPath, *, key: bool = False) -> Position:
        found = self.sources.find(path, key=key)
        return found if found is not None else Position(self.shown_as, 0, 0)

    def base_dir(self, path: DataPath) -> Path:
        """The directory a relative path written at ``path`` is relative to (its own file's)."""
        file = self.files.get(self.position(path).file, self.path)
        return file.parent

    def diagnostic(
        self, path: DataPath, message: str, *, severity: str = "error", key: bool = False
    ) -> Diagnostic:
        where = self.position(path, key=key)
        return Diagnostic(
            where.file, where.line, where.column, display_path(path), message, severity
        )


def parse_set_options(options: list[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` options; values are read as YAML scalars (5, true, text)."""
    result: dict[str, Any] = {}
    for option in options:
        name, sep, raw = option.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(
                f"--set {option!r} is not of the form name=value",
                hint="For example: --set keeper='an old sailor'",
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        result[name] = value if isinstance(value, (str, int, float, bool)) else raw
    return result


def load_pipeline(
    path: Path, *, cli_vars: Mapping[str, Any] | None = None, cwd: Path | None = None
) -> LoadedPipeline:
    """Read, merge and validate a pipeline file; raise PipelineInvalid listing every problem."""
    cwd = cwd or Path.cwd()
    if not path.is_file():
        raise UsageError(f"{path}: no such pipeline file")
    try:
        document = load_document(path, cwd=cwd)
    except YamlError as error:
        raise PipelineInvalid(error.diagnostics) from None
    shown = shown_name(path, cwd)
    try:
        pipeline = Pipeline.model_validate(document.data)
    except pydantic.ValidationError as error:
        raise PipelineInvalid(
            diagnostics_from_validation(error.errors(), document, shown)
        ) from None
    return LoadedPipeline(
        pipeline=pipeline,
        path=path.resolve(),
        shown_as=shown,
        sources=document.sources,
        files=document.files,
        cli_vars=dict(cli_vars or {}),
    )


def diagnostics_from_validation(
    errors: list[ErrorDetails], document: Document, shown: str
) -> list[Diagnostic]:
    """Turn pydantic errors into located diagnostics, the most specific per union branch."""
    located: list[tuple[DataPath, bool, Diagnostic]] = []
    for error in errors:
        path, tagged = _data_path(error["loc"], document.data, error["type"])
        is_key = error["type"] == "extra_forbidden"
        lookup = path if error["type"] != "missing" else path[:-1]
        where = document.sources.find(lookup, key=is_key) or Position(shown, 0, 0)
        message = _message(error, path)
        located.append(
            (
                path,
                tagged,
                Diagnostic(where.file, where.line, where.column, display_path(path), message),
            )
        )
    kept = [
        diagnostic
        for path, tagged, diagnostic in located
        if not (
            tagged and any(len(p) > len(path) and p[: len(path)] == path for p, _, _ in located)
        )
    ]
    unique = list(dict.fromkeys(kept))
    return sorted(unique, key=lambda d: (d.file != shown, d.file, d.line, d.column))


def _data_path(loc: tuple[int | str, ...], data: Any, kind: str) -> tuple[DataPath, bool]:
    """Drop pydantic's union-branch tags from ``loc`` by walking the data itself."""
    path: list[str | int] = []
    tagged = False
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if _has(node, part):
            node = node[part]
            path.append(part)
        elif last and kind == "missing":
            path.append(part)
        else:
            tagged = True
    return tuple(path), tagged


def _has(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _message(error: ErrorDetails, path: DataPath) -> str:
    kind = error["type"]
    value = error.get("input")
    context = error.get("ctx") or {}
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return _unknown_key(path)
    if kind == "literal_error":
        return f"{value!r} is not allowed; use one of {context.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        return (
            f"{value!r} is not a valid name: use letters, digits, '-' and '_' "
            "(at most 64; it names files and is used in templates)"
        )
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"{value!r} is not a whole number"
    if kind in {"bool_parsing", "bool_type"}:
        return f"{value!r} is not true or false"
    if kind in {"string_type"}:
        return f"expected text, got {_kind_of(value)}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"expected a mapping of keys, got {_kind_of(value)}"
    if kind == "list_type":
        return f"expected a list, got {_kind_of(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind in {"greater_than_equal", "greater_than"}:
        return f"{value!r} is below the minimum of {context.get('ge', context.get('gt'))}"
    if kind in {"less_than_equal", "less_than"}:
        return f"{value!r} is above the maximum of {context.get('le', context.get('lt'))}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    return f"{value!r}"


def _unknown_key(path: DataPath) -> str:
    key = str(path[-1])
    allowed = _allowed_keys(path[:-1])
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    if allowed:
        return f"{message}; allowed here: {', '.join(sorted(allowed))}"
    return message


def _allowed_keys(path: DataPath) -> list[str]:
    """The field names of the model found at ``path``, walking Pipeline's annotations."""
    annotation: Any = Pipeline
    for part in path:
        model = _model_class(annotation)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            continue
        annotation = _element_type(annotation)
        if annotation is None:
            return []
    model = _model_class(annotation)
    return list(model.model_fields) if model is not None else []


def _model_class(annotation: Any) -> type[pydantic.BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for argument in _union_members(annotation):
        if isinstance(argument, type) and issubclass(argument, pydantic.BaseModel):
            return argument
    return None


def _element_type(annotation: Any) -> Any:
    for candidate in [annotation, *_union_members(annotation)]:
        origin = typing.get_origin(candidate)
        if origin in (list, dict):
            return typing.get_args(candidate)[-1]
    return None


def _union_members(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        return typing.get_args(annotation)
    return ()
