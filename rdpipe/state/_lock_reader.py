"""Lock file text to its entries, refusing anything rdpipe would not have written.

The lock file says which paid clip answers which request, so a value rdpipe cannot trust is
refused (:class:`LockFileInvalid`, exit 2) with its file, line and field, never read as
something else: a clip given to the wrong shot, or a shot paid for again. Refused, each at the
line of the bad value:

- git's conflict markers, before parsing, at the first one's line; a shot, or a take of a
  shot, given two entries (a merge that kept both sides): :class:`LockFileConflicted`;
- text that is not YAML, or not a mapping of ``version`` and ``shots``;
- a version other than those of :data:`LOCK_VERSIONS`: a newer one asks for a newer rdpipe
  (:class:`LockFileTooNew`), any other is not a lock file this rdpipe wrote; a take's ``cost``
  in a version 1 file (it came with version 2); a shot's ``from_draft`` before version 3;
- in a version 3 file, an entry name that is not a shot id, or a shot id, a colon and a
  rendition (``kite:draft``, ``kite:vertical``: ``draft`` or a deliverable's name); a rendition
  or a final from a draft given two entries (:class:`LockFileConflicted`);
- a field missing, given twice, or unknown (new fields come with a new version, see
  :mod:`._lock_entries`: the version, not a skipped field, keeps old readers safe);
- a value of the wrong kind: text, a take number from 1, a whole-number seed, a finite number
  of seconds, a hash or key of 64 lowercase hex digits, a clip path inside the output folder,
  a cost's figures finite and not negative (a whole quota, a positive unit and rate).

An optional field set to null reads as absent. Nodes come from PyYAML's composer (libyaml's
when PyYAML has it: a tenth of the pure-Python time, 6 ms for 100 shots, and a run reads the
lock file each time it writes it), which keeps each node's line; scalars are built by PyYAML's
safe constructor, so every value reads as it did with ``yaml.safe_load``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import NoReturn, TypeVar

import yaml
from yaml.constructor import SafeConstructor

from ._errors import LockFileConflicted, LockFileInvalid, LockFileTooNew
from ._lock_entries import (
    COSTS_VERSION,
    LOCK_VERSION,
    LOCK_VERSIONS,
    ShotLock,
    TakeCost,
    TakeLock,
)

_T = TypeVar("_T")
_Seen = TypeVar("_Seen", str, int)  # a shot id, or a take number
_Fields = dict[str, tuple[yaml.Node, yaml.Node]]  # name -> (key node, value node)

#: Git's conflict markers at a line start (diff3's ``|||||||`` too); no lock line starts so.
_CONFLICT = re.compile(r"^(?:<{7}|>{7}|\|{7})(?: |\r?$)|^={7}[ \t]*\r?$", re.MULTILINE)
_HEX64 = re.compile(r"[0-9a-f]{64}")
#: A version 3 entry's name: a shot id (``SHOT_ID_PATTERN``), then maybe ``:`` and a rendition
#: (``draft`` or a deliverable's name, ``rdpipe.model.deliverables``).
_ENTRY_NAME = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]{0,63})(?::([A-Za-z_][A-Za-z0-9_-]{0,63}))?")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL = "tag:yaml.org,2002:null"

_TOP_FIELDS = ("shots", "version")
_SHOT_FIELDS = ("id", "key", "model", "takes")
_SHOT_FIELDS_3 = ("from_draft", "id", "key", "model", "takes")
_TAKE_FIELDS = ("clip", "duration", "key", "seed", "sha256", "take", "task_id")
_TAKE_FIELDS_2 = ("clip", "cost", "duration", "key", "seed", "sha256", "take", "task_id")
_COST_FIELDS = ("currency", "expected", "quota", "quota_per_unit", "rate", "settled")


def parse_lock(text: str, path: Path) -> tuple[ShotLock, ...]:
    """The entries of lock file text, shots in file order and takes as written.

    Raises :class:`LockFileInvalid` (or its :class:`LockFileConflicted`,
    :class:`LockFileTooNew`) for the first problem, naming its line and field.
    """
    marker = _CONFLICT.search(text)
    if marker is not None:
        raise LockFileConflicted(
            path,
            f"unresolved git merge conflict (git's marker `{marker.group()[:7]}` starts this "
            "line; both sides of the merge are in the file)",
            text.count("\n", 0, marker.start()) + 1,
        )
    return _Reader(path).lock(_compose(text, path))


def _compose(text: str, path: Path) -> yaml.Node | None:
    """The YAML node tree of ``text`` (``None`` when it holds no document)."""
    try:
        root: yaml.Node | None = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = error.problem or ""
        if error.context and (not problem or problem.startswith("but ")):  # half a sentence
            problem = f"{error.context} {problem}".rstrip()
        raise LockFileInvalid(path, f"not valid YAML ({problem})", line) from error
    except yaml.YAMLError as error:  # the reader's: a character YAML does not allow
        found = yaml.reader.Reader.NON_PRINTABLE.search(text)
        if found is None:
            raise LockFileInvalid(path, f"not valid YAML ({error})") from error
        line = text.count("\n", 0, found.start()) + 1
        problem = f"not valid YAML (character U+{ord(found.group()):04X} is not allowed)"
        raise LockFileInvalid(path, problem, line) from error
    return root


class _Reader:
    """Builds the entries from the lock file's nodes, refusing at the first bad value."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._constructor = SafeConstructor()
        self._take_fields: tuple[str, ...] = _TAKE_FIELDS
        self._shot_fields: tuple[str, ...] = _SHOT_FIELDS
        self._renditions = False

    def lock(self, root: yaml.Node | None) -> tuple[ShotLock, ...]:
        if root is None:
            raise LockFileInvalid(self.path, "not an rdpipe lock file: it is empty", 1)
        if not isinstance(root, yaml.MappingNode):
            where = "where rdpipe writes `version:` and `shots:`"
            self.refuse(root, "", f"not an rdpipe lock file: {_shown(root)} {where}")
        fields = self.fields(root, "")
        if "version" not in fields:
            self.refuse(root, "", "not an rdpipe lock file: no `version:`")
        self.version(fields["version"][1])
        self.known(fields, _TOP_FIELDS, "", "the lock file")
        shots = self.items(self.required(fields, "shots", root, ""), "shots", "a list of shots")
        entries: list[ShotLock] = []
        first_line: dict[str, int] = {}
        for index, node in enumerate(shots):
            entry, line = self.shot(node, f"shots[{index}]")
            what = f"`{entry.name}`" if entry.rendition else f"shot `{entry.shot_id}`"
            self.once(first_line, entry.name, what, line, f"shots[{index}].id")
            entries.append(entry)
        return tuple(entries)

    def once(self, seen: dict[_Seen, int], value: _Seen, what: str, line: int, field: str) -> None:
        """Note ``value`` as seen at ``line``; a second entry of it (both sides of a merge
        kept) is refused, naming the first."""
        if value in seen:
            raise LockFileConflicted(
                self.path,
                f"{what} has a second entry (the first is at line {seen[value]})",
                line,
                field=field,
            )
        seen[value] = line

    def version(self, node: yaml.Node) -> None:
        value = self.scalar(node, "version")
        if isinstance(value, int) and not isinstance(value, bool) and value > LOCK_VERSION:
            raise LockFileTooNew(self.path, value, LOCK_VERSION, _line(node))
        if value not in LOCK_VERSIONS or not isinstance(value, int) or isinstance(value, bool):
            *earlier, last = (str(version) for version in LOCK_VERSIONS)
            known = f"{', '.join(earlier)} and {last}"
            written = f"version {_shown(node)}; it reads versions {known}"
            self.refuse(node, "version", f"not a lock file this rdpipe wrote ({written})")
        if value >= COSTS_VERSION:
            self._take_fields = _TAKE_FIELDS_2
        if value >= LOCK_VERSION:
            self._shot_fields, self._renditions = _SHOT_FIELDS_3, True

    def shot(self, node: yaml.Node, field: str) -> tuple[ShotLock, int]:
        """The shot entry at ``node`` and the line of its id."""
        if not isinstance(node, yaml.MappingNode):
            self.refuse(node, field, f"must be a shot (id, key, model, takes), not {_shown(node)}")
        fields = self.fields(node, field)
        self.known(fields, self._shot_fields, field, "a shot")
        id_node = self.required(fields, "id", node, field)
        shot_id, rendition = self.entry_name(id_node, f"{field}.id")
        takes_field = f"{field}.takes"
        items = self.items(
            self.required(fields, "takes", node, field), takes_field, "a list of takes"
        )
        if not items:
            why = "no takes: rdpipe writes a shot only once it has a clip"
            self.refuse(fields["takes"][1], takes_field, why)
        takes: list[TakeLock] = []
        first_line: dict[int, int] = {}
        for index, item in enumerate(items):
            take, line = self.take(item, f"{takes_field}[{index}]")
            owner = f"`{shot_id}:{rendition}`" if rendition else f"shot `{shot_id}`"
            what = f"take {take.take} of {owner}"
            self.once(first_line, take.take, what, line, f"{takes_field}[{index}].take")
            takes.append(take)
        key = self.digest(
            self.required(fields, "key", node, field), f"{field}.key", "a request key"
        )
        model = self.optional(fields, "model", field, self.text)
        from_draft = self.optional(fields, "from_draft", field, self.take_number)
        entry = ShotLock(shot_id, key, model, tuple(takes), rendition, from_draft)
        return entry, _line(id_node)

    def entry_name(self, node: yaml.Node, field: str) -> tuple[str, str]:
        """An entry's shot id and rendition: before version 3 the whole text is the id."""
        name = self.text(node, field)
        if not self._renditions:
            return name, ""
        found = _ENTRY_NAME.fullmatch(name)
        if found is None:
            what = "a shot id, or a shot id, `:` and a rendition (`kite:draft`, `kite:vertical`)"
            self.refuse(node, field, f"must be {what}, not {_shown(node)}")
        return found.group(1), found.group(2) or ""

    def take(self, node: yaml.Node, field: str) -> tuple[TakeLock, int]:
        """The take entry at ``node`` and the line of its take number."""
        if not isinstance(node, yaml.MappingNode):
            what = "a take (take, task_id, clip, sha256)"
            self.refuse(node, field, f"must be {what}, not {_shown(node)}")
        fields = self.fields(node, field)
        self.known(fields, self._take_fields, field, "a take")
        number_node = self.required(fields, "take", node, field)
        take = TakeLock(
            take=self.take_number(number_node, f"{field}.take"),
            task_id=self.text(self.required(fields, "task_id", node, field), f"{field}.task_id"),
            clip=self.clip(self.required(fields, "clip", node, field), f"{field}.clip"),
            sha256=self.digest(
                self.required(fields, "sha256", node, field),
                f"{field}.sha256",
                "the clip's SHA-256",
            ),
            seed=self.optional(fields, "seed", field, self.whole),
            duration=self.optional(fields, "duration", field, self.seconds),
            key=self.optional(fields, "key", field, self.request_key),
            cost=self.optional(fields, "cost", field, self.cost),
        )
        return take, _line(number_node)

    def cost(self, node: yaml.Node, field: str) -> TakeCost:
        """A take's cost: the settled quota, its unit, and the figures in its currency."""
        if not isinstance(node, yaml.MappingNode):
            what = "a cost (currency, settled, quota, quota_per_unit)"
            self.refuse(node, field, f"must be {what}, not {_shown(node)}")
        fields = self.fields(node, field)
        self.known(fields, _COST_FIELDS, field, "a cost")

        def required(name: str) -> tuple[yaml.Node, str]:
            return self.required(fields, name, node, field), f"{field}.{name}"

        return TakeCost(
            currency=self.text(*required("currency")),
            settled=self.optional(fields, "settled", field, self.amount),
            quota=self.optional(fields, "quota", field, self.quota),
            quota_per_unit=self.positive(*required("quota_per_unit")),
            expected=self.optional(fields, "expected", field, self.amount),
            rate=self.optional(fields, "rate", field, self.positive),
        )

    def fields(self, node: yaml.MappingNode, field: str) -> _Fields:
        """A mapping's fields by name, refusing a name that is not text or is given twice."""
        found: _Fields = {}
        for key_node, value_node in node.value:
            name = self.scalar(key_node, field)
            where = f"{field}.{name}" if field else str(name)
            if not isinstance(name, str):
                self.refuse(key_node, field, f"{_shown(key_node)} is not a field name")
            if name in found:
                self.refuse(key_node, where, f"given twice (first at line {_line(found[name][0])})")
            found[name] = (key_node, value_node)
        return found

    def known(self, fields: _Fields, names: tuple[str, ...], field: str, what: str) -> None:
        for name, (key_node, _) in fields.items():
            if name not in names:
                import difflib  # only for a hand-edited file

                close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
                guess = f" (did you mean `{close[0]}`?)" if close else ""
                listed = ", ".join(names[:-1]) + " and " + names[-1]
                where = f"{field}.{name}" if field else name
                self.refuse(key_node, where, f"unknown field{guess}: {what} has {listed}")

    def required(self, fields: _Fields, name: str, parent: yaml.Node, field: str) -> yaml.Node:
        if name not in fields:
            self.refuse(parent, field, f"the field `{name}` is missing")
        return fields[name][1]

    def optional(
        self, fields: _Fields, name: str, field: str, read: Callable[[yaml.Node, str], _T]
    ) -> _T | None:
        node = fields[name][1] if name in fields else None
        if node is None or node.tag == _NULL:
            return None
        return read(node, f"{field}.{name}")

    def items(self, node: yaml.Node, field: str, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.refuse(node, field, f"must be {what}, not {_shown(node)}")
        return list(node.value)

    def text(self, node: yaml.Node, field: str) -> str:
        value = self.scalar(node, field)
        if not isinstance(value, str):
            self.refuse(node, field, f"must be text, not {_shown(node)}")
        if not value:
            self.refuse(node, field, "must not be empty")
        return value

    def take_number(self, node: yaml.Node, field: str) -> int:
        value = self.whole(node, field, "a take number from 1")
        if value < 1:
            self.refuse(node, field, f"must be a take number from 1, not {_shown(node)}")
        return value

    def whole(self, node: yaml.Node, field: str, what: str = "a whole number") -> int:
        value = self.scalar(node, field)
        if not isinstance(value, int) or isinstance(value, bool):
            self.refuse(node, field, f"must be {what}, not {_shown(node)}")
        return value

    def seconds(self, node: yaml.Node, field: str) -> float:
        value = self.scalar(node, field)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            self.refuse(node, field, f"must be a number of seconds, not {_shown(node)}")
        return float(value)

    def amount(self, node: yaml.Node, field: str, what: str = "an amount") -> float:
        """A finite number, not negative."""
        value = self.scalar(node, field)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
        ):
            self.refuse(node, field, f"must be {what}, not {_shown(node)}")
        return float(value)

    def positive(self, node: yaml.Node, field: str) -> float:
        value = self.amount(node, field, "a number above 0")
        if value <= 0:
            self.refuse(node, field, f"must be a number above 0, not {_shown(node)}")
        return value

    def quota(self, node: yaml.Node, field: str) -> int:
        value = self.whole(node, field, "a whole number of quota units")
        if value < 0:
            self.refuse(node, field, f"must be a whole number of quota units, not {_shown(node)}")
        return value

    def digest(self, node: yaml.Node, field: str, what: str) -> str:
        value = self.scalar(node, field)
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            self.refuse(node, field, f"must be {what}, 64 lowercase hex digits, not {_shown(node)}")
        return value

    def request_key(self, node: yaml.Node, field: str) -> str:
        return self.digest(node, field, "a request key")

    def clip(self, node: yaml.Node, field: str) -> str:
        value = self.text(node, field)
        pure = PurePosixPath(value)
        if pure.is_absolute() or ".." in pure.parts:
            self.refuse(node, field, f"must be a path inside the output folder, not {_shown(node)}")
        return value

    def scalar(self, node: yaml.Node, field: str) -> object:
        """The value of a scalar node as ``yaml.safe_load`` builds it."""
        if not isinstance(node, yaml.ScalarNode):
            self.refuse(node, field, f"must be a single value, not {_shown(node)}")
        try:
            return self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError):
            self.refuse(node, field, f"{_shown(node)} is not a value rdpipe writes")

    def refuse(self, node: yaml.Node, field: str, problem: str) -> NoReturn:
        raise LockFileInvalid(self.path, problem, _line(node), field=field)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _shown(node: yaml.Node) -> str:
    """A node as a message quotes it: a scalar as written (shortened), else its kind."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    text = str(node.value).replace("\n", "\\n")
    if not text:
        return "an empty value"
    return f"`{text[:40]}…`" if len(text) > 40 else f"`{text}`"
