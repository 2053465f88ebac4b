"""In-place editing of a pipeline file's ``pick:`` keys, leaving every other byte as it was.

ruamel.yaml's round-trip composer locates the shot and its keys (line, column, offset); the
edit is then a splice of the original text, so comments, key order, quoting, indentation and
line endings survive exactly, in block style (``- id: a``) and flow style (``- {id: a}``)
alike. Re-dumping the document would re-flow long lines and respace flow mappings. Every
edit is checked by loading the result: if anything but the pick changed, nothing is written.

Aliases are kept where they are written: ruamel's composer gives an alias (``*p``) as the node
it names, positioned at its anchor elsewhere in the file, so the composer here wraps each one
in an :class:`_AliasNode` that keeps the alias's own position. A shot that other shots merge
(``- &wide {...}`` then ``- <<: *wide``) is not edited when that would change their pick too.
A shot that merges a ``pick:`` gets one of its own (explicit keys win over merged ones); to
clear it, ``pick: null`` is written, as removing nothing would leave the merged pick.

A shot that comes from an included file (``include:``) is edited in that file: the loader's
source map says which file each shot was written in. A pipeline file that is a symbolic link is
edited where it points (the link stays a link).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.files import write_atomically
from rdpipe.hints import Suggestion
from rdpipe.load.includes import load_document
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
        message = f"{file}: no shot with id {shot_id!r} in this file"
        if includes:  # set_pick looks in them too
            message += f" nor in the files it includes ({', '.join(includes)})"
        super().__init__(message, suggestion=Suggestion.of("status", "Check the id with `{0}`."))


class PipelineFileMissing(PickNotSet):
    """The pipeline file given does not exist."""

    def __init__(self, file: str) -> None:
        self.file = file
        super().__init__(
            f"{file}: no such file: cannot set a pick in a file that does not exist",
            hint="Check the path of the pipeline file (it is relative to the current folder).",
        )


class TakeOutOfRange(PickNotSet):
    """The take asked for is not one of the shot's takes (``drafted``: its draft takes)."""

    def __init__(
        self, file: str, shot_id: str, take: int, takes: int | None, *, drafted: bool = False
    ) -> None:
        self.file, self.shot_id, self.take, self.takes = file, shot_id, take, takes
        noun = "draft take" if drafted else "take"
        if takes is None:
            allowed = f"a {noun} is 1 or more"
        elif takes == 1:
            allowed = f"it has one {noun}, so the only {noun} is 1"
        else:
            allowed = f"a {noun} is between 1 and {takes}"
        message = f"{file}: shot {shot_id!r} has no {noun} {take}; {allowed}"
        if drafted:  # clearing would not pick a draft: it leaves the shot awaiting a pick
            review = Suggestion.of("review", "`{0}` shows the draft takes to choose from.")
            super().__init__(message, suggestion=review)
            return
        super().__init__(message, hint="Use --clear to go back to the first take that succeeded.")


class PipelineNotEditable(PickNotSet):
    """The file cannot be read or edited safely (bad YAML, unexpected shape, odd layout)."""

    def __init__(self, file: str, reason: str, *, line: int = 0, column: int = 0) -> None:
        self.file, self.reason, self.line, self.column = file, reason, line, column
        where = file + (f":{line}:{column}" if line else "")
        super().__init__(
            f"{where}: cannot edit pick: {reason}",
            suggestion=Suggestion.of(
                "validate", "Fix the file (`{0}` lists problems) or set pick: by hand."
            ),
        )


class AnchorShared(PickNotSet):
    """The edit would change what an anchor stands for elsewhere (a merged shot, say)."""

    def __init__(self, file: str, reason: str, hint: str, *, line: int, column: int) -> None:
        self.file, self.reason, self.line, self.column = file, reason, line, column
        super().__init__(f"{file}:{line}:{column}: cannot edit pick: {reason}", hint=hint)


@dataclass(frozen=True)
class PickChange:
    """What :func:`set_pick` did: the shot's pick before and after (``None``: not set).

    ``drafted``: the shot has drafts (issue 17: ``draft:`` on it, else on the main file's
    ``defaults``), so the pick names a draft take and the next run renders its final.
    """

    shot_id: str
    before: int | None
    after: int | None
    drafted: bool = False
    #: The file edited (or that would have been): the pipeline file, or the included file the
    #: shot is written in; as given (not resolved through symbolic links).
    file: Path | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def set_pick(pipeline_file: Path, shot_id: str, take: int | None) -> PickChange:
    """Set (or, with ``take=None``, remove) ``pick:`` on one shot, atomically, in the file it is
    written in: ``pipeline_file``, or the included file that holds it (``PickChange.file``).

    A symbolic link is edited where it points. Raises :class:`PipelineFileMissing`,
    :class:`ShotNotInFile`, :class:`TakeOutOfRange`, :class:`PipelineNotEditable`,
    :class:`AnchorShared` (all :class:`PickNotSet`); the files are then unchanged.
    """
    raw = _read(pipeline_file)
    try:
        change = _set_pick_in(pipeline_file, raw, shot_id, take, None)
    except ShotNotInFile as missing:
        included = _included_file(pipeline_file, shot_id)
        if included is None:
            raise missing from None
        merged = load_document(pipeline_file, cwd=Path.cwd()).data
        merged = {key: value for key, value in merged.items() if key != "include"}
        change = _set_pick_in(included, _read(included), shot_id, take, merged)
    return change


def _set_pick_in(file: Path, raw: str, shot_id: str, take: int | None, merged: Any) -> PickChange:
    bom = _BOM if raw.startswith(_BOM) else ""
    text = raw[len(bom) :]
    edited, change = edit_pick(text, shot_id, take, shown_as=str(file), merged=merged)
    if change.changed:
        # Through a symbolic link, the file it points to is replaced, never the link.
        write_atomically(Path(os.path.realpath(file)), (bom + edited).encode("utf-8"))
    return replace(change, file=file)


def _included_file(pipeline_file: Path, shot_id: str) -> Path | None:
    """The included file ``shot_id`` is written in (as a path beside ``pipeline_file``'s
    folder), or ``None``: not in an included file, or the files do not read."""
    try:
        document = load_document(pipeline_file, cwd=Path.cwd())
    except (YamlError, OSError):
        return None
    shots = document.data.get("shots")
    for index, shot in enumerate(shots if isinstance(shots, list) else []):
        written = document.sources.texts.get(("shots", index, "id"))
        if not isinstance(shot, dict) or shot_id not in (shot.get("id"), written):
            continue
        position = document.sources.find(("shots", index))
        found = document.files.get(position.file) if position else None
        if found is None or found == pipeline_file.resolve():
            return None
        folder = pipeline_file.parent
        return folder / os.path.relpath(found, os.path.realpath(folder))
    return None


def read_picks(pipeline_file: Path) -> dict[str, int | None]:
    """Each shot id mapped to its ``pick:`` (``None`` when absent): the shots written in the
    file and in the files it includes (only the file's own when an include does not read)."""
    shown = str(pipeline_file)
    data = _load(_read(pipeline_file).removeprefix(_BOM), shown)
    picks: dict[str, int | None] = {}
    if isinstance(data, dict) and data.get("include"):
        try:
            document = load_document(pipeline_file, cwd=Path.cwd())
        except (YamlError, OSError):
            pass
        else:
            picks.update(_picks_of(document.data, document.sources.texts))
    picks.update(_picks_of(data, {}))
    return picks


def _picks_of(data: Any, texts: Mapping[Any, str]) -> dict[str, int | None]:
    shots = data.get("shots") if isinstance(data, dict) else None
    picks: dict[str, int | None] = {}
    for index, shot in enumerate(shots if isinstance(shots, list) else []):
        if not isinstance(shot, dict):
            continue
        shot_id = texts.get(("shots", index, "id"), shot.get("id"))
        if isinstance(shot_id, str):
            pick = shot.get("pick")
            picks[shot_id] = pick if _is_int(pick) else None
    return picks


def edit_pick(
    text: str,
    shot_id: str,
    take: int | None,
    *,
    shown_as: str = "pipeline",
    merged: Any = None,
) -> tuple[str, PickChange]:
    """The file's text with the shot's pick set to ``take`` (removed if ``None``). Pure.

    ``merged``: the whole pipeline's data (its includes merged) when ``text`` is an included
    file: its ``defaults`` (takes, draft) apply to the shot.
    """
    root = _compose(text, shown_as)
    data = _load(text, shown_as)
    shot_node, shot_data = _find_shot(root, data, shot_id, shown_as)
    before = shot_data.get("pick")
    before = before if _is_int(before) else None
    context = data if merged is None else merged
    drafted = _drafted(shot_data, context)
    if take is not None:
        takes = _take_count(shot_data, context)
        if take < 1 or (takes is not None and take > takes):
            raise TakeOutOfRange(shown_as, shot_id, take, takes, drafted=drafted)
    entries = shot_node.value
    found = next((i for i, (key, _) in enumerate(entries) if _key_is(key, "pick")), None)
    newline = "\r\n" if "\r\n" in text else "\n"
    if take is None and shot_data.get("pick") is None:
        return text, PickChange(shot_id, before, None, drafted)
    if found is not None:
        _refuse_shared_value(root, entries[found][1], shot_id, shown_as)
    wanted: dict[str, Any] = {}
    if take is not None:
        wanted = {"pick": take}
        if found is None:
            edited = _insert(text, shot_node, f"pick: {take}", newline)
        else:
            edited = _replace(text, entries[found][1], str(take))
    else:
        edited = text if found is None else _remove(text, shot_node, found)
        if found is None or _pick_in(edited, shot_id, shown_as) is not None:
            # A pick merged in (<<: *anchor) would still apply: an explicit null wins over it.
            wanted = {"pick": None}
            if found is None:
                edited = _insert(text, shot_node, "pick: null", newline)
            else:
                edited = _replace(text, entries[found][1], "null")
    _verify(edited, data, shot_id, wanted, shown_as, root, shot_node)
    return edited, PickChange(shot_id, before, take, drafted)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PipelineFileMissing(str(path)) from None
    except OSError as error:
        raise PipelineNotEditable(str(path), error.strerror or str(error)) from None
    except UnicodeDecodeError:
        raise PipelineNotEditable(str(path), "the file is not UTF-8 text") from None


class _AliasNode(Node):
    """An alias (``*name``) where it is written; ``target`` is the anchored node it names."""

    __slots__ = ("target",)
    id = "alias"

    def __init__(self, target: Node, start_mark: Any, end_mark: Any) -> None:
        super().__init__(target.ctag, target.value, start_mark, end_mark)
        self.target = target


class _AliasKeepingComposer(Composer):
    """ruamel's composer, but an alias is an :class:`_AliasNode` at the alias's position."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if not self.parser.check_event(AliasEvent):
            return super().compose_node(parent, index)
        event = self.parser.peek_event()
        target = super().compose_node(parent, index)
        return _AliasNode(target, event.start_mark, event.end_mark)


def _target(node: Node) -> Node:
    """The node an alias stands for; any other node itself."""
    return node.target if isinstance(node, _AliasNode) else node


def _compose(text: str, shown_as: str) -> Node:
    yaml = YAML(typ="rt")
    yaml.Composer = _AliasKeepingComposer
    try:
        node = yaml.compose(text)
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
    shots_node = next((_target(v) for k, v in root.value if _key_is(k, "shots")), None)
    shots_data = data.get("shots") if isinstance(data, dict) else None
    if isinstance(shots_node, SequenceNode) and isinstance(shots_data, list):
        for item, shot in zip(shots_node.value, shots_data, strict=True):
            node = _target(item)
            if not (isinstance(node, MappingNode) and isinstance(shot, dict)):
                continue
            if shot.get("id") == shot_id:
                return node, shot
    raise ShotNotInFile(shown_as, shot_id, includes)


def _take_count(shot: Mapping[str, Any], data: Any) -> int | None:
    """Takes the shot has, counted as a run counts them (:meth:`rdpipe.render` ``_takes``):
    its takes:, then defaults' takes:, then its seeds:, else 1. ``None`` (not known here) when
    the main file says none of these and includes other files, whose defaults may."""
    defaults = data.get("defaults") if isinstance(data, dict) else None
    if _is_int(shot.get("takes")):
        return int(shot["takes"])
    if isinstance(defaults, dict) and _is_int(defaults.get("takes")):
        return int(defaults["takes"])
    seeds = shot.get("seeds")
    if isinstance(seeds, list) and seeds:
        return len(seeds)
    if isinstance(data, dict) and data.get("include"):
        return None
    return 1


def _drafted(shot: Mapping[str, Any], data: Any) -> bool:
    """Whether the shot has drafts: its ``draft:``, else the defaults' (``rdpipe.model.drafts``:
    absent, null or false is none)."""
    defaults = data.get("defaults") if isinstance(data, dict) else None
    draft = shot.get("draft")
    if draft is None and isinstance(defaults, dict):
        draft = defaults.get("draft")
    return draft is not None and draft is not False


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _key_is(node: Node, name: str) -> bool:
    node = _target(node)
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


def _verify(
    edited: str,
    data: Any,
    shot_id: str,
    pick: Mapping[str, Any],
    shown_as: str,
    root: Node,
    shot_node: MappingNode,
) -> None:
    """Refuse ``edited`` unless it reads as ``data`` with the shot's pick: replaced by ``pick``."""
    expected = _with_pick(data, shot_id, pick)
    try:
        actual = _load(edited, shown_as)
    except PipelineNotEditable:
        actual = None
    if actual == expected:
        return
    uses = [alias for alias in _aliases(root) if alias.target is shot_node]
    if uses and actual is not None:
        raise _shared_shot(shown_as, shot_id, shot_node, pick.get("pick"), uses, actual, expected)
    raise PipelineNotEditable(
        shown_as, f"the layout around shot {shot_id!r} is too unusual to edit safely"
    )


def _with_pick(data: dict[str, Any], shot_id: str, pick: Mapping[str, Any]) -> dict[str, Any]:
    shots = []
    for shot in data["shots"]:
        if isinstance(shot, dict) and shot.get("id") == shot_id:
            shot = {k: v for k, v in shot.items() if k != "pick"} | dict(pick)
        shots.append(shot)
    return {**data, "shots": shots}


def _pick_in(text: str, shot_id: str, shown_as: str) -> Any:
    """The shot's pick: as ``text`` reads (``None`` also if it does not read)."""
    try:
        data = _load(text, shown_as)
    except PipelineNotEditable:
        return None
    shots = data.get("shots") if isinstance(data, dict) else None
    for shot in shots if isinstance(shots, list) else []:
        if isinstance(shot, dict) and shot.get("id") == shot_id:
            return shot.get("pick")
    return None


def _aliases(root: Node) -> list[_AliasNode]:
    """Every alias written in the document, in the order they appear."""
    found: list[_AliasNode] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, _AliasNode):
            found.append(node)
        elif isinstance(node, MappingNode):
            stack.extend(item for entry in node.value for item in entry)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return sorted(found, key=lambda alias: int(alias.start_mark.index))


def _refuse_shared_value(root: Node, value: Node, shot_id: str, shown_as: str) -> None:
    """A pick: value that is anchored (``pick: &p 2``) and used elsewhere is not edited."""
    if isinstance(value, _AliasNode) or value.anchor is None:
        return
    uses = [alias for alias in _aliases(root) if alias.target is value]
    if uses:
        raise AnchorShared(
            shown_as,
            f"the pick: of shot {shot_id!r} is anchored (&{value.anchor}) and used again at "
            f"{_lines(uses)} (*{value.anchor}): changing it would change that too",
            f"Edit the file by hand, keeping &{value.anchor} for what uses it.",
            line=value.start_mark.line + 1,
            column=value.start_mark.column + 1,
        )


def _shared_shot(
    shown_as: str,
    shot_id: str,
    shot_node: MappingNode,
    take: int | None,
    uses: Sequence[_AliasNode],
    actual: Any,
    expected: dict[str, Any],
) -> AnchorShared:
    """Why a shot other nodes alias (``<<: *wide``) was not edited, and what to do instead."""
    anchor = shot_node.anchor
    line, column = shot_node.start_mark.line + 1, shot_node.start_mark.column + 1
    changed = _changed_shots(actual, expected, shot_id)
    if not changed:
        return AnchorShared(
            shown_as,
            f"shot {shot_id!r} is anchored (&{anchor}) and used again at {_lines(uses)} "
            f"(*{anchor}): changing its pick: would change that too",
            "Write pick: by hand.",
            line=line,
            column=column,
        )
    names = _and(changed)
    reason = (
        f"shot {shot_id!r} is anchored (&{anchor}) and merged into "
        f"{'shot' if len(changed) == 1 else 'shots'} {names} (<<: *{anchor}): "
        f"changing its pick: would change the pick of {names} too"
    )
    if len(changed) == 1:
        alone = (
            f"To choose a take for {changed[0]!r} alone, run "
            f"`rdpipe pick {shlex.quote(shown_as)} {shlex.quote(changed[0])} K` "
            f"or write pick: in {changed[0]!r} by hand"
        )
        who = repr(changed[0])
    else:
        alone = (
            f"To choose a take for one of them alone, run `rdpipe pick {shlex.quote(shown_as)} "
            "SHOT K` or write pick: in that shot by hand"
        )
        who = "all of them"
    if take is None:
        wanted = (
            f"if {who} should go back to the first take that succeeded too, "
            f"remove pick: from {shot_id!r} by hand"
        )
    else:
        wanted = f"if {who} should use take {take} too, write pick: {take} in {shot_id!r} by hand"
    hint = f"{alone} (its own keys win over merged ones); {wanted}."
    return AnchorShared(shown_as, reason, hint, line=line, column=column)


def _changed_shots(actual: Any, expected: dict[str, Any], shot_id: str) -> list[str]:
    """Ids of the shots other than ``shot_id`` that read differently in ``actual``."""
    shots = actual.get("shots") if isinstance(actual, dict) else None
    if not isinstance(shots, list) or len(shots) != len(expected["shots"]):
        return []
    return [
        str(shot.get("id"))
        for shot, wanted in zip(shots, expected["shots"], strict=True)
        if shot != wanted and isinstance(shot, dict) and shot.get("id") != shot_id
    ]


def _lines(aliases: Sequence[_AliasNode]) -> str:
    numbers = sorted({int(alias.start_mark.line) + 1 for alias in aliases})
    return ("line " if len(numbers) == 1 else "lines ") + _and([str(n) for n in numbers], "")


def _and(items: Sequence[str], quote: str = "'") -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``."""
    shown = [f"{quote}{item}{quote}" for item in items]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
