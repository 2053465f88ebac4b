"""In-place editing of a pipeline file's ``pick:`` keys, leaving every other byte as it was.

ruamel.yaml's round-trip composer locates the shot and its keys (line, column, offset); the
edit is then a splice of the original text, so comments, key order, quoting, indentation and
line endings survive exactly, in block style (``- id: a``) and flow style (``- {id: a}``)
alike. Re-dumping the document would re-flow long lines and respace flow mappings. Every
edit is checked by loading the result: if anything but the pick changed, nothing is written.

Only the main file is edited: a shot that comes from an included file is reported, not
searched for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.files import write_atomically
from rdpipe.load.yaml_source import YamlError, parse_yaml

_BOM = "\ufeff"


class PickNotSet(RdpipeError):
    """The pick could not be written; the pipeline file is unchanged."""

    exit_code = ExitCode.INVALID_INPUT


class ShotNotInFile(PickNotSet):
    """No shot with this id is written in the main pipeline file."""

    def __init__(self, file: str, shot_id: str, includes: Sequence[str] = ()) -> None:
        self.file = file
        self.shot_id = shot_id
        hint = "Check the id with `rdpipe status FILE`."
        if includes:
            hint = (
                f"If it comes from an included file ({', '.join(includes)}), "
                "write pick: in that file by hand."
            )
        super().__init__(f"{file}: no shot with id {shot_id!r} in this file", hint=hint)


class TakeOutOfRange(PickNotSet):
    """The take asked for is not one of the shot's takes."""

    def __init__(self, file: str, shot_id: str, take: int, takes: int | None) -> None:
        self.file, self.shot_id, self.take, self.takes = file, shot_id, take, takes
        allowed = "1 or more" if takes is None else f"between 1 and {takes}"
        super().__init__(
            f"{file}: shot {shot_id!r} has no take {take}; a take is {allowed}",
            hint="Use --clear to go back to the first take that succeeded.",
        )


class PipelineNotEditable(PickNotSet):
    """The file cannot be read or edited safely (bad YAML, unexpected shape, odd layout)."""

    def __init__(self, file: str, reason: str, *, line: int = 0, column: int = 0) -> None:
        self.file, self.reason, self.line, self.column = file, reason, line, column
        where = file + (f":{line}:{column}" if line else "")
        super().__init__(
            f"{where}: cannot edit pick: {reason}",
            hint="Fix the file (`rdpipe validate FILE` lists problems) or set pick: by hand.",
        )


@dataclass(frozen=True)
class PickChange:
    """What :func:`set_pick` did: the shot's pick before and after (``None``: not set)."""

    shot_id: str
    before: int | None
    after: int | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def set_pick(pipeline_file: Path, shot_id: str, take: int | None) -> PickChange:
    """Set (or, with ``take=None``, remove) ``pick:`` on one shot of the file, atomically."""
    shown = str(pipeline_file)
    raw = _read(pipeline_file)
    bom = _BOM if raw.startswith(_BOM) else ""
    text = raw[len(bom) :]
    edited, change = edit_pick(text, shot_id, take, shown_as=shown)
    if change.changed:
        write_atomically(pipeline_file, (bom + edited).encode("utf-8"))
    return change


def read_picks(pipeline_file: Path) -> dict[str, int | None]:
    """Each shot id written in the main file mapped to its ``pick:`` (``None`` when absent)."""
    shown = str(pipeline_file)
    data = _load(_read(pipeline_file).removeprefix(_BOM), shown)
    shots = data.get("shots") if isinstance(data, dict) else None
    picks: dict[str, int | None] = {}
    for shot in shots if isinstance(shots, list) else []:
        if isinstance(shot, dict) and isinstance(shot.get("id"), str):
            pick = shot.get("pick")
            picks[shot["id"]] = pick if _is_int(pick) else None
    return picks


def edit_pick(
    text: str, shot_id: str, take: int | None, *, shown_as: str = "pipeline"
) -> tuple[str, PickChange]:
    """The file's text with the shot's pick set to ``take`` (removed if ``None``). Pure."""
    root = _compose(text, shown_as)
    data = _load(text, shown_as)
    shot_node, shot_data = _find_shot(root, data, shot_id, shown_as)
    before = shot_data.get("pick")
    before = before if _is_int(before) else None
    if take is not None:
        takes = _take_count(shot_data, data.get("defaults"))
        if take < 1 or (takes is not None and take > takes):
            raise TakeOutOfRange(shown_as, shot_id, take, takes)
    entries = shot_node.value
    found = next((i for i, (key, _) in enumerate(entries) if _key_is(key, "pick")), None)
    newline = "\r\n" if "\r\n" in text else "\n"
    if found is None and take is None:
        return text, PickChange(shot_id, before, None)
    if found is None:
        assert take is not None
        edited = _insert(text, shot_node, f"pick: {take}", newline)
    elif take is None:
        edited = _remove(text, shot_node, found)
    else:
        edited = _replace(text, entries[found][1], str(take))
    _verify(edited, data, shot_id, take, shown_as)
    return edited, PickChange(shot_id, before, take)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PipelineNotEditable(str(path), "no such file") from None
    except OSError as error:
        raise PipelineNotEditable(str(path), error.strerror or str(error)) from None
    except UnicodeDecodeError:
        raise PipelineNotEditable(str(path), "the file is not UTF-8 text") from None


def _compose(text: str, shown_as: str) -> Node:
    try:
        node = YAML(typ="rt").compose(text)
    except MarkedYAMLError as error:
        raise _yaml_problem(error, shown_as) from None
    except YAMLError as error:
        raise PipelineNotEditable(shown_as, str(error)) from None
    if not isinstance(node, MappingNode):
        raise PipelineNotEditable(shown_as, "the file is not a mapping of keys")
    return node


def _load(text: str, shown_as: str) -> Any:
    """The file's data read exactly as ``rdpipe run`` reads it (``id: 007`` is ``"007"``)."""
    try:
        data, sources = parse_yaml(text, shown_as)
    except YamlError as error:
        first = error.diagnostics[0]
        raise PipelineNotEditable(
            shown_as, first.message, line=first.line, column=first.column
        ) from None
    shots = data.get("shots") if isinstance(data, dict) else None
    for index, shot in enumerate(shots if isinstance(shots, list) else []):
        written = sources.texts.get(("shots", index, "id"))
        if isinstance(shot, dict) and written is not None:
            shot["id"] = written
    return data


def _yaml_problem(error: MarkedYAMLError, shown_as: str) -> PipelineNotEditable:
    mark = error.problem_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    return PipelineNotEditable(shown_as, error.problem or "invalid YAML", line=line, column=column)


def _find_shot(
    root: Node, data: Any, shot_id: str, shown_as: str
) -> tuple[MappingNode, dict[str, Any]]:
    includes = data.get("include") if isinstance(data, dict) else None
    includes = [str(item) for item in includes] if isinstance(includes, list) else []
    shots_node = next((v for k, v in root.value if _key_is(k, "shots")), None)
    shots_data = data.get("shots") if isinstance(data, dict) else None
    if isinstance(shots_node, SequenceNode) and isinstance(shots_data, list):
        for node, shot in zip(shots_node.value, shots_data, strict=True):
            found = isinstance(node, MappingNode) and isinstance(shot, dict)
            if found and shot.get("id") == shot_id:
                return node, shot
    raise ShotNotInFile(shown_as, shot_id, includes)


def _take_count(shot: Mapping[str, Any], defaults: Any) -> int | None:
    """Takes the file declares for the shot: its takes:, its seeds:, then defaults' takes:."""
    if _is_int(shot.get("takes")):
        return int(shot["takes"])
    seeds = shot.get("seeds")
    if isinstance(seeds, list) and seeds:
        return len(seeds)
    if isinstance(defaults, dict) and _is_int(defaults.get("takes")):
        return int(defaults["takes"])
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _key_is(node: Node, name: str) -> bool:
    return isinstance(node, ScalarNode) and node.value == name


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _next_line_start(text: str, index: int) -> int:
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def _insert(text: str, shot: MappingNode, entry: str, newline: str) -> str:
    last_value: Node = shot.value[-1][1]
    end: int = last_value.end_mark.index
    if shot.flow_style:
        return text[:end] + ", " + entry + text[end:]
    indent = " " * int(shot.value[0][0].start_mark.column)
    if text[_line_start(text, end) : end].strip() == "":
        at = _line_start(text, end)  # the value's own line break ended it (block scalars)
    else:
        at = _next_line_start(text, end)
    prefix = "" if at == 0 or text[at - 1] == "\n" else newline
    return text[:at] + prefix + indent + entry + newline + text[at:]


def _remove(text: str, shot: MappingNode, position: int) -> str:
    key, value = shot.value[position]
    start, end = key.start_mark.index, value.end_mark.index
    own_line = text[_line_start(text, start) : start].strip() == ""
    if not shot.flow_style and own_line and key.start_mark.line == value.end_mark.line:
        return text[: _line_start(text, start)] + text[_next_line_start(text, end) :]
    if position + 1 < len(shot.value):
        following = shot.value[position + 1][0].start_mark.index
        return text[:start] + text[following:]
    previous_end = shot.value[position - 1][1].end_mark.index
    return text[:previous_end] + text[end:]


def _replace(text: str, value: Node, replacement: str) -> str:
    start, end = value.start_mark.index, value.end_mark.index
    if start == end:  # an empty value (``pick:``) has no text of its own
        replacement = " " + replacement
    return text[:start] + replacement + text[end:]


def _verify(edited: str, data: Any, shot_id: str, take: int | None, shown_as: str) -> None:
    expected = _with_pick(data, shot_id, take)
    try:
        actual = _load(edited, shown_as)
    except PipelineNotEditable:
        actual = None
    if actual != expected:
        raise PipelineNotEditable(
            shown_as, f"the layout around shot {shot_id!r} is too unusual to edit safely"
        )


def _with_pick(data: dict[str, Any], shot_id: str, take: int | None) -> dict[str, Any]:
    shots = []
    for shot in data["shots"]:
        if isinstance(shot, dict) and shot.get("id") == shot_id:
            shot = {k: v for k, v in shot.items() if k != "pick"}
            if take is not None:
                shot["pick"] = take
        shots.append(shot)
    return {**data, "shots": shots}
