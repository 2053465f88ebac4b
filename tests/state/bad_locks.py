"""Lock files gone bad the ways a committed one does (a merge, a hand edit), each with the exact
problem rdpipe reports: shared by the reader's tests and the CLI's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdpipe.state import LockFileConflicted, LockFileInvalid, LockFileTooNew

KEY_B = "b2" * 32
#: A lock file rdpipe wrote (``render_lock``) for shots ``a`` and ``b``; line numbers below.
GOOD = f"""\
# Written by rdpipe: the clips this pipeline produced. Commit it; do not edit it.
version: 1
shots:
- id: a
  key: '{"a1" * 32}'
  model: doubao-seedance-2-0-480p
  takes:
  - clip: clips/a/1-a1a1a1a1a1a1.mp4
    duration: 4.0
    seed: 7
    sha256: '{"aa" * 32}'
    take: 1
    task_id: task_a
- id: b
  key: '{KEY_B}'
  model: doubao-seedance-2-0-480p
  takes:
  - clip: clips/b/1-b2b2b2b2b2b2.mp4
    duration: 4.0
    seed: 8
    sha256: '{"bb" * 32}'
    take: 1
    task_id: task_b1
  - clip: clips/b/2-c3c3c3c3c3c3.mp4
    duration: 4.0
    key: '{"c3" * 32}'
    seed: 9
    sha256: '{"cc" * 32}'
    take: 2
    task_id: task_b2
"""

_CONFLICT = f"""\
<<<<<<< HEAD
  key: '{KEY_B}'
=======
  key: '{"d4" * 32}'
>>>>>>> prompt-b
"""


def edited(old: str, new: str) -> str:
    """:data:`GOOD` with its one ``old`` replaced by ``new``."""
    assert GOOD.count(old) == 1, old
    return GOOD.replace(old, new)


@dataclass(frozen=True)
class BadLock:
    """A bad lock file's text and what rdpipe says of it after ``<path>:``."""

    name: str
    text: str
    message: str
    kind: type[LockFileInvalid] = LockFileInvalid


BAD_LOCKS = [
    BadLock(
        "merge conflict",
        edited(f"  key: '{KEY_B}'\n", _CONFLICT),
        "15: unresolved git merge conflict (git's marker `<<<<<<<` starts this line; both sides "
        "of the merge are in the file)",
        LockFileConflicted,
    ),
    BadLock(
        "merge conflict, diff3's base left",
        edited(f"  key: '{KEY_B}'\n", f"||||||| base\n  key: '{KEY_B}'\n"),
        "15: unresolved git merge conflict (git's marker `|||||||` starts this line; both sides "
        "of the merge are in the file)",
        LockFileConflicted,
    ),
    BadLock(
        "merge conflict, a separator left",
        edited("- id: b\n", "=======\n- id: b\n"),
        "14: unresolved git merge conflict (git's marker `=======` starts this line; both sides "
        "of the merge are in the file)",
        LockFileConflicted,
    ),
    BadLock(
        "garbage",
        "\x00\x01 ::: {{{",
        "1: not valid YAML (character U+0000 is not allowed)",
    ),
    BadLock(
        "broken YAML",
        edited("- id: a\n", "- id: a: b\n"),
        "4: not valid YAML (mapping values are not allowed in this context)",
    ),
    BadLock(
        "two documents",
        GOOD + "---\nversion: 1\nshots: []\n",
        "31: not valid YAML (expected a single document in the stream but found another document)",
    ),
    BadLock(
        "text of another file",
        "Merge made by the 'ort' strategy.\n",
        "1: not an rdpipe lock file: `Merge made by the 'ort' strategy.` where rdpipe writes "
        "`version:` and `shots:`",
    ),
    BadLock("empty", "", "1: not an rdpipe lock file: it is empty"),
    BadLock("only a comment", "# nothing\n", "1: not an rdpipe lock file: it is empty"),
    BadLock(
        "a YAML list",
        "- a\n- b\n",
        "1: not an rdpipe lock file: a list where rdpipe writes `version:` and `shots:`",
    ),
    BadLock(
        "no version",
        edited("version: 1\n", ""),
        "2: not an rdpipe lock file: no `version:`",
    ),
    BadLock(
        "version 0",
        edited("version: 1\n", "version: 0\n"),
        "2: version: not a lock file this rdpipe wrote (version `0`; it reads versions 1, 2 and 3)",
    ),
    BadLock(
        "version one",
        edited("version: 1\n", "version: one\n"),
        "2: version: not a lock file this rdpipe wrote (version `one`; it reads versions "
        "1, 2 and 3)",
    ),
    BadLock(
        "version 1.0",
        edited("version: 1\n", "version: 1.0\n"),
        "2: version: not a lock file this rdpipe wrote (version `1.0`; it reads versions "
        "1, 2 and 3)",
    ),
    BadLock(
        "version 4",
        edited("version: 1\n", "version: 4\n"),
        "2: version: lock file version 4 was written by a newer rdpipe (this one reads versions "
        "up to 3)",
        LockFileTooNew,
    ),
    BadLock(
        "duration five",
        edited("    duration: 4.0\n    seed: 7\n", "    duration: five\n    seed: 7\n"),
        "9: shots[0].takes[0].duration: must be a number of seconds, not `five`",
    ),
    BadLock(
        "duration infinite",
        edited("    duration: 4.0\n    seed: 7\n", "    duration: .inf\n    seed: 7\n"),
        "9: shots[0].takes[0].duration: must be a number of seconds, not `.inf`",
    ),
    BadLock(
        "take 0",
        edited("    take: 1\n    task_id: task_a\n", "    take: 0\n    task_id: task_a\n"),
        "12: shots[0].takes[0].take: must be a take number from 1, not `0`",
    ),
    BadLock(
        "take negative",
        edited("    take: 1\n    task_id: task_a\n", "    take: -1\n    task_id: task_a\n"),
        "12: shots[0].takes[0].take: must be a take number from 1, not `-1`",
    ),
    BadLock(
        "take not whole",
        edited("    take: 1\n    task_id: task_a\n", "    take: 1.5\n    task_id: task_a\n"),
        "12: shots[0].takes[0].take: must be a take number from 1, not `1.5`",
    ),
    BadLock(
        "take as text",
        edited("    take: 1\n    task_id: task_a\n", "    take: '1'\n    task_id: task_a\n"),
        "12: shots[0].takes[0].take: must be a take number from 1, not `1`",
    ),
    BadLock(
        "seed x",
        edited("    seed: 7\n", "    seed: x\n"),
        "10: shots[0].takes[0].seed: must be a whole number, not `x`",
    ),
    BadLock(
        "sha256 short",
        edited(f"    sha256: '{'aa' * 32}'\n", "    sha256: 'abc123'\n"),
        "11: shots[0].takes[0].sha256: must be the clip's SHA-256, 64 lowercase hex digits, "
        "not `abc123`",
    ),
    BadLock(
        "sha256 upper case",
        edited(f"    sha256: '{'aa' * 32}'\n", f"    sha256: '{'AA' * 32}'\n"),
        "11: shots[0].takes[0].sha256: must be the clip's SHA-256, 64 lowercase hex digits, "
        f"not `{'AA' * 20}…`",
    ),
    BadLock(
        "shot key short",
        edited(f"  key: '{'a1' * 32}'\n", "  key: 'a1a1'\n"),
        "5: shots[0].key: must be a request key, 64 lowercase hex digits, not `a1a1`",
    ),
    BadLock(
        "take key not hex",
        edited(f"    key: '{'c3' * 32}'\n", f"    key: '{'g3' * 32}'\n"),
        "26: shots[1].takes[1].key: must be a request key, 64 lowercase hex digits, "
        f"not `{'g3' * 20}…`",
    ),
    BadLock(
        "shot id twice",
        edited("- id: b\n", "- id: a\n"),
        "14: shots[1].id: shot `a` has a second entry (the first is at line 4)",
        LockFileConflicted,
    ),
    BadLock(
        "take number twice",
        edited("    take: 2\n", "    take: 1\n"),
        "29: shots[1].takes[1].take: take 1 of shot `b` has a second entry (the first is at "
        "line 22)",
        LockFileConflicted,
    ),
    BadLock(
        "unknown field of a take",
        edited(f"    sha256: '{'aa' * 32}'\n", f"    sha265: '{'aa' * 32}'\n"),
        "11: shots[0].takes[0].sha265: unknown field (did you mean `sha256`?): a take has clip, "
        "duration, key, seed, sha256, take and task_id",
    ),
    BadLock(
        "unknown field of a shot",
        edited(
            "  model: doubao-seedance-2-0-480p\n  takes:\n  - clip: clips/a",
            "  model: doubao-seedance-2-0-480p\n  notes: hi\n  takes:\n  - clip: clips/a",
        ),
        "7: shots[0].notes: unknown field: a shot has id, key, model and takes",
    ),
    BadLock(
        "unknown top-level field",
        GOOD + "generator: rdpipe 2.0\n",
        "31: generator: unknown field: the lock file has shots and version",
    ),
    BadLock(
        "a field given twice",
        edited("    seed: 7\n", "    seed: 7\n    seed: 8\n"),
        "11: shots[0].takes[0].seed: given twice (first at line 10)",
    ),
    BadLock(
        "a field missing",
        edited("    task_id: task_a\n", ""),
        "8: shots[0].takes[0]: the field `task_id` is missing",
    ),
    BadLock(
        "clip outside the output folder",
        edited("  - clip: clips/a/1-a1a1a1a1a1a1.mp4\n", "  - clip: ../../secrets.mp4\n"),
        "8: shots[0].takes[0].clip: must be a path inside the output folder, not "
        "`../../secrets.mp4`",
    ),
    BadLock(
        "shot id a number",
        edited("- id: a\n", "- id: 12\n"),
        "4: shots[0].id: must be text, not `12`",
    ),
    BadLock(
        "shots not a list",
        "version: 1\nshots: none\n",
        "2: shots: must be a list of shots, not `none`",
    ),
]


_RESTORE = (
    "Restore it from git: `git checkout -- {name}` in its folder. Only as a last resort, "
    "move it aside (`mv {name} {name}.bad`) and run again: shots whose clips are "
    "neither on this disk nor in the shared clip store would then be generated and billed again "
    "(`rdpipe status {file}` shows which first)."
)
_RESOLVE = (
    "Both sides name clips that were paid for. Resolve it by keeping, for each shot, the entry "
    "that matches the pipeline as merged, one entry per shot and take, without the markers. Or "
    "take one side whole (`git checkout --ours -- {name}` or `--theirs`, then `git add` "
    "it) and run `rdpipe run {file}` again: the other side's clips are found again on this disk "
    "if they were made here, or in the shared clip store; `rdpipe status {file}` first shows any "
    "shot found in neither, which would be generated and billed again."
)
_UPGRADE = "Upgrade rdpipe to read it; leave the file as it is: it names clips that were paid for."
_HINTS = {LockFileInvalid: _RESTORE, LockFileConflicted: _RESOLVE, LockFileTooNew: _UPGRADE}


def hint(kind: type[LockFileInvalid], path: Path, file: str = "FILE") -> str:
    """The exact hint of an error of ``kind`` about the lock file at ``path``, its commands
    naming the pipeline ``file`` as the command that said it was given it (``FILE``: none)."""
    return _HINTS[kind].replace("{name}", path.name).replace("{file}", file)
