"""Pipeline file to validated model: the only layer that knows file names and line numbers.

``load_pipeline`` reads the file and its includes, applies ``--set`` variables, validates the
result against the pydantic model and turns every validation error into a :class:`Diagnostic`
naming file, line, column and field, so that all problems are reported at once.
"""

from __future__ import annotations

import difflib
import stat
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from pydantic_core import ErrorDetails

from rdpipe.errors import Diagnostic, PipelineInvalid, UsageError
from rdpipe.load.includes import Document, load_document, shown_name
from rdpipe.load.scalars import YAML11_BOOLEANS, written_value
from rdpipe.load.yaml_source import DataPath, Position, SourceMap, YamlError, display_path
from rdpipe.model import Pipeline
from rdpipe.model.output import SIZE_RULE
from rdpipe.model.pipeline import SHOT_ID_PATTERN


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
        if path[:1] == ("--set",):  # a command-line variable: no place in any file
            return Diagnostic("--set", 0, 0, display_path(path[1:]), message, severity)
        where = self.position(path, key=key)
        return Diagnostic(
            where.file, where.line, where.column, display_path(path), message, severity
        )


#: Top-level keys starting with this are ignored: a place to define ``&anchors``.
EXTENSION = "x-"


def load_pipeline(
    path: Path, *, cli_vars: Mapping[str, Any] | None = None, cwd: Path | None = None
) -> LoadedPipeline:
    """Read, merge and validate a pipeline file; raise PipelineInvalid listing every problem."""
    cwd = cwd or Path.cwd()
    problem = pipeline_file_problem(path)
    if problem is not None:
        raise UsageError(f"{path}: {problem}")
    try:
        document = load_document(path, cwd=cwd)
    except YamlError as error:
        raise PipelineInvalid(error.diagnostics) from None
    shown = shown_name(path, cwd)
    for key in [k for k in document.data if isinstance(k, str) and k.startswith(EXTENSION)]:
        del document.data[key]  # x-…: a place for anchors, ignored (as in Compose files)
    _keep_written_vars(document)
    try:
        pipeline = _validate(document)
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


#: What a path that is no regular file is, by its ``stat`` mode test.
_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def pipeline_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a pipeline file, from its ``stat`` alone (nothing is
    opened, so a FIFO never blocks): ``"no such pipeline file"``, ``"is a folder, not a
    pipeline file"``, ``"is a FIFO, not a pipeline file"`` (a socket, a device such as
    ``/dev/null``), ``"cannot be read: <reason>"``; ``None`` for a regular file (or a link to
    one)."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "no such pipeline file"
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    except ValueError:  # a NUL byte in the name
        return "no such pipeline file"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a pipeline file"
    kind = next((name for test, name in _SPECIAL_FILES if test(mode)), "no regular file")
    return f"is {kind}, not a pipeline file"


def fragment_diagnostics(path: Path, *, cwd: Path) -> list[Diagnostic]:
    """The problems of a file another pipeline includes, checked on its own: its YAML, its
    includes, and each key it sets, as in a pipeline (``version``, ``name`` and ``shots`` may
    be missing: the including file gives them). Files and templates are checked with the
    pipeline that includes it. An empty list when it is fine."""
    try:
        document = load_document(path, cwd=cwd)
    except YamlError as error:
        return error.diagnostics
    for key in [k for k in document.data if isinstance(k, str) and k.startswith(EXTENSION)]:
        del document.data[key]
    _keep_written_vars(document)
    try:
        _validate(document)
    except pydantic.ValidationError as error:
        own = [e for e in error.errors() if not (e["type"] == "missing" and len(e["loc"]) == 1)]
        return diagnostics_from_validation(own, document, shown_name(path, cwd))
    return []


def _validate(document: Document) -> Pipeline:
    """Validate the data; where text is expected but YAML typed a scalar, use its source text.

    ``id: 007``, ``prompt: 1.50`` or ``caption: 12:30:00`` read as written; numbers and
    booleans stay typed where the model expects them (``seconds``, ``generate_audio``).
    """
    for _ in range(_TEXT_PASSES):
        try:
            return Pipeline.model_validate(document.data)
        except pydantic.ValidationError as error:
            changed = False
            for item in error.errors():
                path, _ = _data_path(item["loc"], document.data, item["type"])
                if item["type"] in _CONTAINER_EXPECTED and item["input"] is None and path:
                    changed = _remove(document.data, path) or changed  # ``defaults:``: unset
                    continue
                if item["type"] not in _TEXT_EXPECTED:
                    continue
                text = document.sources.texts.get(path)
                # A null is "no value" even where text is expected: prompt: null is no prompt.
                if text is not None and item["input"] is not None:
                    changed = _replace(document.data, path, text) or changed
            if not changed:
                raise
    return Pipeline.model_validate(document.data)


#: Validation errors that mean "text was expected here".
_TEXT_EXPECTED = frozenset({"string_type", "literal_error", "string_pattern_mismatch"})
#: Validation errors that mean "a mapping or a list was expected here".
_CONTAINER_EXPECTED = frozenset({"dict_type", "model_type", "model_attributes_type", "list_type"})
#: A text replacement may reveal errors under it (a union's other branch): a few passes suffice.
_TEXT_PASSES = 3


def _replace(data: Any, path: DataPath, text: str) -> bool:
    """Put ``text`` at ``path`` unless it is already text; True when something changed."""
    node = data
    for part in path[:-1]:
        node = node[part]
    if not path or isinstance(node[path[-1]], str):
        return False
    node[path[-1]] = text
    return True


def _remove(data: Any, path: DataPath) -> bool:
    """Drop the key at ``path`` (a mapping's key only); True when something changed."""
    node = data
    for part in path[:-1]:
        node = node[part]
    if isinstance(node, dict) and path[-1] in node:
        del node[path[-1]]
        return True
    return False


def _keep_written_vars(document: Document) -> None:
    """Variables keep the text of typed scalars, so ``{{ code }}`` renders ``0755``."""
    data = document.data
    tables: list[DataPath] = [("vars",)]
    shots = data.get("shots")
    if isinstance(shots, list):
        tables += [("shots", index, "vars") for index in range(len(shots))]
    for path in tables:
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            for key in list(node):
                node[key] = _written(node[key], (*path, key), document.sources.texts)


def _written(value: Any, path: DataPath, texts: Mapping[DataPath, str]) -> Any:
    if isinstance(value, dict):
        return {key: _written(item, (*path, key), texts) for key, item in value.items()}
    if isinstance(value, list):
        return [_written(item, (*path, index), texts) for index, item in enumerate(value)]
    text = texts.get(path)
    return value if text is None else written_value(value, text)


def diagnostics_from_validation(
    errors: list[ErrorDetails], document: Document, shown: str
) -> list[Diagnostic]:
    """Turn pydantic errors into located diagnostics, the most specific per union branch."""
    located: list[tuple[DataPath, bool, Diagnostic]] = []
    for error in errors:
        path, tagged = _data_path(error["loc"], document.data, error["type"])
        # A mapping key of the wrong form (``aspect: {9x16: pad}``) is shown at the key.
        is_key = error["type"] == "extra_forbidden" or error["loc"][-1:] == ("[key]",)
        lookup = path if error["type"] != "missing" else path[:-1]
        where = document.sources.find(lookup, key=is_key) or Position(shown, 0, 0)
        message = _message(error, path, document.sources.texts.get(path))
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


def _message(error: ErrorDetails, path: DataPath, written: str | None) -> str:
    """The message for one validation error, quoting the value as the user wrote it."""
    kind = error["type"]
    value: Any = error.get("input")
    if written is not None and value is not None and not isinstance(value, (dict, list)):
        value = _AsWritten(written)
    context = error.get("ctx") or {}
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return _unknown_key(path)
    if kind == "literal_error":
        return f"{value!r} is not allowed; use one of {context.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        return _pattern_message(value, path, str(context.get("pattern", "")))
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"{value!r} is not a whole number"
    if kind in {"float_parsing", "float_type"}:
        return f"{value!r} is not a number (write seconds as 1.5, not 0:01.5)"
    if kind == "finite_number":
        return f"{value!r} is not a finite number"
    if kind in {"bool_parsing", "bool_type"}:
        if isinstance(value, str) and value.lower() in YAML11_BOOLEANS:
            return f"{value!r} is text in YAML 1.2; write true or false"
        return f"{value!r} is not true or false"
    if kind in {"string_type"}:
        return f"expected text, got {_kind_of(value)}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"expected a mapping of keys, got {_kind_of(value)}"
    if kind == "list_type":
        return f"expected a list, got {_kind_of(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "greater_than":  # an exclusive bound: "below the minimum of 0" would be wrong
        return f"{value!r} must be more than {context.get('gt')}"
    if kind == "greater_than_equal":
        return f"{value!r} is below the minimum of {context.get('ge')}"
    if kind in {"less_than_equal", "less_than"}:
        return f"{value!r} is above the maximum of {context.get('le', context.get('lt'))}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _pattern_message(value: Any, path: DataPath, pattern: str) -> str:
    """What a text of the wrong form should look like, by what the field holds: a frame size
    or a name (a shot id may start with a digit, other names with a letter or '_')."""
    if path[-1:] == ("size",):
        return f"{value!r} is not a frame size: {SIZE_RULE}"
    start = "a letter or digit" if pattern == SHOT_ID_PATTERN else "a letter or '_'"
    named = _NAMED.get(_shape(path), "it names files and is used in templates")
    return (
        f"{value!r} is not a valid name: use letters, digits, '-' and '_', starting with "
        f"{start} (at most 64; {named})"
    )


#: What a name names, by where it is written (list indexes and mapping keys as ``*``).
_NAMED: Mapping[DataPath, str] = {
    ("outputs", "*", "name"): "it names the deliverable's file and is used in shots' aspect:",
    ("shots", "*", "aspect", "*"): "a deliverable's name",
}


def _shape(path: DataPath) -> DataPath:
    """``path`` with list indexes, and the key of a mapping of names, as ``*``."""
    shape = ["*" if isinstance(part, int) else part for part in path]
    if shape[:1] == ["shots"] and shape[3:4] and shape[2] == "aspect":
        shape[3] = "*"
    return tuple(shape)


class _AsWritten(str):
    """A value shown in a message exactly as written in the file (``0755``, not ``493``)."""

    def __repr__(self) -> str:
        return str(self)


def _kind_of(value: Any) -> str:
    if isinstance(value, _AsWritten):
        return str(value) or "nothing (null)"
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
    annotation = _unannotated(annotation)
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
    """The members of a union, each unwrapped from ``Annotated`` and flattened (``Draft |
    None`` is bool, DraftSpec and None)."""
    annotation = _unannotated(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Union or isinstance(annotation, types.UnionType):
        members: list[Any] = []
        for member in typing.get_args(annotation):
            member = _unannotated(member)
            members.extend(_union_members(member) or (member,))
        return tuple(members)
    return ()


def _unannotated(annotation: Any) -> Any:
    """``Annotated[X, ...]`` as ``X``; anything else as it is."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation
