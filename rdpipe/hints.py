"""Commands rdpipe suggests, written so that they work when pasted as printed.

A hint such as "run ``rdpipe assemble film.yaml``" is only useful if it names the pipeline file
from where the user is (not its bare name), keeps the mode they are in (``--offline``: the
offline preview's clips are not the paid ones), keeps what changes the pipeline's meaning
(``--set``, ``--allow-outside-files``), and is quoted for the shell. :class:`Invocation` is how
the user ran the current command; :meth:`Invocation.command` writes another command in the same
terms. Which options each command accepts is :data:`ACCEPTS`, checked against the command line
itself by the tests (``tests/cli/test_hints_run.py``).

An error raised deep down, where nobody knows how the user ran the command, carries a
:class:`Suggestion` (the verb, its arguments and options, and the sentence it goes in); the
CLI renders it with the command's :class:`Invocation` (``RdpipeError.address``).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The options an Invocation carries over, per command that takes them (rdpipe COMMAND --help).
OFFLINE = "--offline"
SET = "--set"
OUTSIDE = "--allow-outside-files"
ACCEPTS: Mapping[str, frozenset[str]] = {
    "validate": frozenset({SET, OUTSIDE}),
    "plan": frozenset({SET, OUTSIDE, OFFLINE}),
    "run": frozenset({SET, OUTSIDE, OFFLINE}),
    "status": frozenset({SET, OUTSIDE, OFFLINE}),
    "assemble": frozenset({SET, OUTSIDE, OFFLINE}),
    "review": frozenset({OFFLINE}),
    "cost": frozenset({OFFLINE}),
    "pick": frozenset({SET}),
    "push": frozenset({SET, OUTSIDE}),
    "pull": frozenset({SET, OUTSIDE}),
    "models": frozenset({OFFLINE}),
    "balance": frozenset({OFFLINE}),
    "assets": frozenset({OFFLINE}),
}
# Commands that take no pipeline file.
WITHOUT_FILE = frozenset({"models", "balance", "assets"})


@dataclass(frozen=True)
class Invocation:
    """How the user ran the current command: from where, on which file, in which mode.

    ``cwd`` is the working directory the command was started in; ``pipeline`` the pipeline file
    (absolute, or relative to ``cwd``); ``offline`` whether it ran on the built-in simulator;
    ``sets`` the ``--set NAME=VALUE`` values as given, in order; ``allow_outside_files`` whether
    ``--allow-outside-files`` was given.
    """

    cwd: Path
    pipeline: Path | None = None
    offline: bool = False
    sets: tuple[str, ...] = field(default=())
    allow_outside_files: bool = False

    def file_argument(self) -> str:
        """The pipeline file as a path from ``cwd`` (``os.path.relpath``), unquoted.

        When that lexical path names another file than the one given (``..`` after a symbolic
        link to a folder), the path from the real ``cwd`` to the real file is used instead.

        A file given as an absolute path stays absolute unless it is under ``cwd`` (no
        ``../../tmp/...``), as does a path that cannot be made relative (another drive on
        Windows). A relative path starting with ``-`` gets ``./`` before it
        (``./-dash/a.yaml``), so that the command line does not read it as an option. Raises
        ``ValueError`` when there is no pipeline.
        """
        if self.pipeline is None:
            raise ValueError("this invocation has no pipeline file")
        target = self.pipeline if self.pipeline.is_absolute() else self.cwd / self.pipeline
        try:
            relative = os.path.relpath(target, self.cwd)
        except ValueError:
            return str(target)
        if not _same_file(self.cwd / relative, target):
            # ``outlink/../rot.yaml`` through a symbolic link: the kernel resolves ``..`` from
            # where the link points, relpath lexically. Use the path the kernel agrees with.
            relative = os.path.relpath(os.path.realpath(target), os.path.realpath(self.cwd))
        if self.pipeline.is_absolute() and relative.split(os.sep)[0] == os.pardir:
            return str(target)
        if relative.startswith("-"):
            return os.curdir + os.sep + relative
        return relative

    def command(self, verb: str, *arguments: str, options: Sequence[str] = ()) -> str:
        """``rdpipe VERB [FILE] ARGUMENTS... OPTIONS... [carried options]``, shell-quoted.

        ``verb`` may be two words (``"sim serve"``). The pipeline file comes first for the
        commands that take one; then ``arguments`` and ``options`` as given; then, of
        ``--offline``, ``--set`` and ``--allow-outside-files``, those this invocation used and
        ``verb`` accepts (:data:`ACCEPTS`).
        """
        words = ["rdpipe", *verb.split()]
        if verb in ACCEPTS and verb not in WITHOUT_FILE and self.pipeline is not None:
            words.append(self.file_argument())
        words += [*arguments, *options]
        accepted = ACCEPTS.get(verb, frozenset())
        if self.offline and OFFLINE in accepted and OFFLINE not in options:
            words.append(OFFLINE)
        if SET in accepted:
            for value in self.sets:
                words += [SET, value]
        if self.allow_outside_files and OUTSIDE in accepted and OUTSIDE not in options:
            words.append(OUTSIDE)
        return shlex.join(words)

    @classmethod
    def start(
        cls,
        pipeline: Path | None = None,
        *,
        offline: bool = False,
        sets: Sequence[str] | None = None,
        allow_outside_files: bool = False,
    ) -> Invocation:
        """The invocation of the command starting now: ``cwd`` is the working directory of now
        (read once, when the command starts), the rest as the command line gave them."""
        return cls(
            cwd=Path.cwd(),
            pipeline=pipeline,
            offline=offline,
            sets=tuple(sets or ()),
            allow_outside_files=allow_outside_files,
        )


def _same_file(lexical: Path, target: Path) -> bool:
    """Whether ``lexical`` names the file ``target``; ``True`` when ``target`` itself cannot be
    found (a file not made yet: nothing to correct)."""
    try:
        wanted = os.stat(target)
    except OSError:
        return True
    try:
        found = os.stat(lexical)
    except OSError:
        return False
    return (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino)


@dataclass(frozen=True)
class Command:
    """A command to suggest without the user's terms: ``verb`` (``"run"``, ``"sim serve"``),
    ``arguments`` after the pipeline file, ``options`` after them."""

    verb: str
    arguments: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def render(self, invocation: Invocation | None) -> str:
        """The command as ``invocation`` would paste it; without one (a caller that does not
        know it), ``rdpipe VERB FILE ARGUMENTS OPTIONS`` (``FILE`` for commands that take one)."""
        if invocation is not None:
            return invocation.command(self.verb, *self.arguments, options=self.options)
        words = ["rdpipe", *self.verb.split()]
        if self.verb in ACCEPTS and self.verb not in WITHOUT_FILE:
            words.append("FILE")
        return shlex.join([*words, *self.arguments, *self.options])


@dataclass(frozen=True)
class Suggestion:
    """Advice naming commands, known where it is written but not how the user ran rdpipe.

    ``sentence`` has ``{0}``, ``{1}``... where ``commands`` go (in backticks in the sentence);
    :meth:`render` writes them for one :class:`Invocation`.
    """

    sentence: str
    commands: tuple[Command, ...]

    @classmethod
    def of(
        cls,
        verb: str,
        sentence: str = "Run `{0}`.",
        *,
        arguments: Sequence[str] = (),
        options: Sequence[str] = (),
    ) -> Suggestion:
        """A suggestion of one command: ``rdpipe VERB [FILE] ARGUMENTS OPTIONS`` in ``{0}``."""
        return cls(sentence, (Command(verb, tuple(arguments), tuple(options)),))

    def render(self, invocation: Invocation | None) -> str:
        """The sentence with each command as ``invocation`` would paste it."""
        return self.sentence.format(*(command.render(invocation) for command in self.commands))
