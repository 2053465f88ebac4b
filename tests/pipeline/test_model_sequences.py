"""Every field of the pipeline model that holds several values takes them as a YAML list.

The models validate strictly, and strict validation takes no list for a tuple (or a frozenset):
``output.captions.sidecars`` could not be set at all. The fields are found by walking the model,
so a sequence field added later is tried here too.
"""

from __future__ import annotations

import collections.abc
import copy
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from click.testing import Result

from rdpipe.load.loader import load_pipeline
from rdpipe.model import Pipeline

#: A pipeline that sets every nested block, so each sequence field has a place to go.
BASE: dict[str, Any] = {
    "version": 1,
    "name": "t",
    "model": "doubao-seedance-2-0-480p",
    "defaults": {"seconds": 4},
    "references": {"keeper": {"image": "https://example.com/keeper.png"}},
    "shots": [{"id": "a", "prompt": "hi", "trim": {"start": 0.5}, "first_frame": {"shot": "a"}}],
    "output": {
        "path": "out/t.mp4",
        "transition": {"kind": "cut"},
        "title_card": {"text": "T"},
        "end_card": {"text": "E"},
        "music": {"source": "https://example.com/m.mp3"},
        "captions": {"burn_in": False},
    },
    "concurrency": {"tasks": 2},
}
#: Text that is a valid name and, for `include:`, a file the test writes.
SAMPLE_TEXT = "part"
DataPath = tuple[str | int, ...]


def _members(annotation: Any) -> list[Any]:
    """The types ``annotation`` may be (a union's members; ``None`` left out)."""
    is_union = typing.get_origin(annotation) is typing.Union
    if is_union or isinstance(annotation, types.UnionType):
        return [member for member in typing.get_args(annotation) if member is not type(None)]
    return [annotation]


def _model(annotation: Any) -> type[pydantic.BaseModel] | None:
    is_model = isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)
    return annotation if is_model else None


def _sequence_fields(
    model: type[pydantic.BaseModel], at: DataPath
) -> Iterator[tuple[DataPath, Any]]:
    """``(path, item type)`` of each field under ``model`` that holds a sequence of values
    (a list, tuple, set, frozenset...; a list of models is walked into instead)."""
    for name, field in model.model_fields.items():
        for member in _members(field.annotation):
            origin, args = typing.get_origin(member), typing.get_args(member)
            if _model(member):
                yield from _sequence_fields(member, (*at, name))
            elif origin is dict and _model(args[1]):
                key = next(iter(_get(BASE, (*at, name))))
                yield from _sequence_fields(args[1], (*at, name, key))
            elif origin is not None and origin is not dict and _is_sequence(origin):
                item = args[0]
                if _model(item):
                    yield from _sequence_fields(item, (*at, name, 0))
                else:
                    yield (*at, name), item


def _is_sequence(origin: Any) -> bool:
    return isinstance(origin, type) and issubclass(origin, collections.abc.Collection)


def _get(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _sample(item: Any) -> object:
    """One valid value of ``item`` (a scalar type, a Literal, or an Annotated one)."""
    origin = typing.get_origin(item)
    if origin is typing.Literal:
        return typing.get_args(item)[0]
    if origin is typing.Annotated:
        return _sample(typing.get_args(item)[0])
    samples: dict[Any, object] = {str: SAMPLE_TEXT, int: 1, float: 1.5, bool: True}
    if item in samples:
        return samples[item]
    raise AssertionError(f"no sample value for {item!r}: add one to _sample")


SEQUENCE_FIELDS = sorted(_sequence_fields(Pipeline, ()), key=lambda found: str(found[0]))


def test_the_walk_finds_the_sequence_fields() -> None:
    """Not an empty parametrization: the tuple and the list fields known today are found."""
    paths = {path for path, _ in SEQUENCE_FIELDS}
    assert {("output", "captions", "sidecars"), ("shots", 0, "references")} <= paths
    assert ("include",) in paths


@pytest.mark.parametrize(
    ("path", "item"), SEQUENCE_FIELDS, ids=[".".join(map(str, p)) for p, _ in SEQUENCE_FIELDS]
)
def test_a_yaml_list_fills_every_sequence_field(tmp_path: Path, path: DataPath, item: Any) -> None:
    """The field, written as a block list of one valid value, loads as that value."""
    data = copy.deepcopy(BASE)
    if path[0] == "outputs":  # the list of deliverables replaces the one output: block
        data["outputs"] = [{"name": "master", **data.pop("output")}]
    _get(data, path[:-1])[path[-1]] = [_sample(item)]
    (tmp_path / SAMPLE_TEXT).write_text("vars: {}\n", encoding="utf-8")
    file = tmp_path / "t.yaml"
    file.write_text(yaml.safe_dump(data, default_flow_style=False), encoding="utf-8")

    loaded = load_pipeline(file, cwd=tmp_path)

    value: Any = loaded.pipeline.model_dump()
    for part in path:
        value = value[part]
    assert list(value) == [_sample(item)]


def test_sidecars_as_the_tester_wrote_them_validate(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """The report's file: ``output.captions.sidecars: [srt]`` in block style, exit 0."""
    text = (
        "version: 1\nname: t\nmodel: doubao-seedance-2-0-480p\nshots:\n  - id: a\n    prompt: "
        "hi\noutput:\n  path: out/t.mp4\n  captions:\n    sidecars:\n      - srt\n"
    )
    file = tmp_path / "cap.yaml"
    file.write_text(text, encoding="utf-8")
    result = cli("validate", str(file))
    assert (result.exit_code, result.stdout) == (0, f"{file}: OK (1 shot)\n"), result.stderr


def test_a_scalar_where_a_list_goes_is_said_as_for_a_list(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """``sidecars: srt`` is "expected a list", as ``references: keeper`` is (not "tuple")."""
    file = tmp_path / "cap.yaml"
    file.write_text(
        "version: 1\nname: t\nshots:\n  - {id: a, prompt: hi}\n"
        "output: {captions: {sidecars: srt}}\n",
        encoding="utf-8",
    )
    result = cli("validate", str(file))
    assert result.exit_code == 2
    assert "output.captions.sidecars: expected a list, got 'srt'" in result.stderr
