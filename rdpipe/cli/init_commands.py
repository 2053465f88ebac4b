"""``init``: start a project in a folder: a commented starter storyboard, its schema, a .gitignore.

Two commands from an empty folder to a video: ``rdpipe init`` then
``rdpipe run storyboard.yaml --offline``. The schema is written beside the storyboard and named
by a relative modeline, so an editor with the YAML language server completes and checks the
file offline, against the schema of the rdpipe that wrote it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from rdpipe.cli.app import app, run_command
from rdpipe.cli.context import CommandContext
from rdpipe.errors import UsageError

STORYBOARD = "storyboard.yaml"
SCHEMA = "pipeline.schema.json"
GITIGNORE = ".gitignore"

STARTER = f"""\
# yaml-language-server: $schema={SCHEMA}
# A starter storyboard: two shots of four seconds, joined into out/storyboard.mp4.
# Try it for free, against rdpipe's built-in simulator (no key, no network):
#   rdpipe run {STORYBOARD} --offline
# Then for real: set RELAYDANCE_API_KEY, and `rdpipe plan {STORYBOARD}` shows what it costs.
version: 1
name: storyboard
# The video model of every shot (`rdpipe models` lists them); a shot may name its own.
model: doubao-seedance-2-0-480p
# Settings every shot starts from: seconds of video, aspect ratio, sound.
defaults:
  seconds: 4
  ratio: "16:9"
  generate_audio: false
# Words shared by the prompts: {{{{ look }}}} in a prompt is replaced by this text.
vars:
  look: cinematic, soft morning light
shots:
  - id: arrival  # a shot's id names its clip; keep it when you edit the prompt
    prompt: "A small train arrives at a quiet seaside station. {{{{ look }}}}"
    caption: Arrival.
  - id: platform
    prompt: "A traveller steps onto the platform and looks at the sea. {{{{ look }}}}"
    seconds: 5  # this shot overrides the default
    caption: The sea, at last.
# Where the joined video goes (folders rdpipe makes get a .gitignore of their own).
output:
  path: out/storyboard.mp4
"""

IGNORED = """\
# Written by rdpipe init: what rdpipe generates, kept out of git.
# Commit the storyboard and its lock file (storyboard.rdpipe.lock), not these.
out/
.rdpipe/
"""
# What rdpipe generates: the lines a .gitignore needs (a kept one gets those it lacks).
IGNORED_LINES = ("out/", ".rdpipe/")
ADDED_COMMENT = "# Added by rdpipe init: what rdpipe generates, kept out of git."


class FilesInTheWay(UsageError):
    """``rdpipe init`` found the storyboard or the schema it would write; it wrote nothing."""

    def __init__(self, folder: Path, existing: list[str]) -> None:
        names = " and ".join(existing)
        where = "this folder" if folder == Path(".") else str(folder)
        are, them = ("is", "it") if len(existing) == 1 else ("are", "them")
        super().__init__(
            f"rdpipe init writes {STORYBOARD} and {SCHEMA} in {where}, but "
            f"{names} {are} already there; nothing was written. Move {them} away, or run "
            "rdpipe init in another folder (rdpipe init FOLDER makes it)."
        )


@app.command()
def init(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="FOLDER",
            help="Where to start the project (made if missing; default: here).",
            show_default=False,
        ),
    ] = Path("."),
) -> None:
    """Start a project: a commented starter storyboard, its JSON Schema and a .gitignore.

    A .gitignore already there is kept; the lines it lacks (out/, .rdpipe/) are added to it.
    """
    context = CommandContext.start()

    def action() -> None:
        said = write_starter(folder)
        if context.verbosity >= 0:
            for line in said:
                context.out.print(line, markup=False, highlight=False)
            run = f"cd {cd_argument(folder)} && " if folder != Path(".") else ""
            context.out.print(f"next: {run}rdpipe run {STORYBOARD} --offline", markup=False)

    run_command(action, context)


def cd_argument(folder: Path) -> str:
    """``folder`` as a shell word for ``cd``: quoted, and ``./-dash`` for a name that starts
    with a dash (which ``cd`` would read as an option; shlex.quote leaves it as is)."""
    text = str(folder)
    return shlex.quote(f"./{text}" if text.startswith("-") else text)


def write_starter(folder: Path) -> list[str]:
    """Write the starter files into ``folder`` (made if missing); return what was done, one
    line each (``wrote storyboard.yaml``, ``added out/ and .rdpipe/ to .gitignore``).

    Raises :class:`FilesInTheWay` (exit 2), writing nothing, when the storyboard or the schema
    exists, or a .gitignore that is no file. An existing .gitignore is kept and gets the lines
    of :data:`IGNORED_LINES` it lacks.
    """
    from rdpipe.files import writing_to
    from rdpipe.schema import schema_text

    contents = {STORYBOARD: STARTER, SCHEMA: schema_text()}
    existing = [name for name in contents if (folder / name).exists()]
    gitignore = folder / GITIGNORE
    if gitignore.exists() and not gitignore.is_file():  # a folder: nothing to append to
        existing.append(f"{GITIGNORE} (a folder, where rdpipe init writes a file)")
    if existing:
        raise FilesInTheWay(folder, existing)
    said = []
    with writing_to(folder):
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            path = folder / name
            with open(path, "x", encoding="utf-8") as file:  # never over a file made meanwhile
                file.write(text)
            said.append(f"wrote {path}")
    said.append(_ignore_generated(folder / GITIGNORE))
    return said


def _ignore_generated(path: Path) -> str:
    """Write ``path`` (a .gitignore) if missing, else append the lines it lacks; say which."""
    from rdpipe.files import writing_to

    with writing_to(path):
        try:
            with open(path, "x", encoding="utf-8") as file:
                file.write(IGNORED)
            return f"wrote {path}"
        except FileExistsError:
            pass
        kept = path.read_bytes()
        missing = [line for line in IGNORED_LINES if not _ignores(kept, line)]
        if not missing:
            return f"kept {path}: it ignores {' and '.join(IGNORED_LINES)} already"
        newline = b"\r\n" if b"\r\n" in kept else b"\n"
        lines = [ADDED_COMMENT.encode(), *(line.encode() for line in missing)]
        lead = newline if kept and not kept.endswith(b"\n") else b""
        with open(path, "ab") as file:
            file.write(lead + newline.join(lines) + newline)
    return f"added {' and '.join(missing)} to {path}"


def _ignores(gitignore: bytes, folder: str) -> bool:
    """Whether a line of ``gitignore`` ignores ``folder`` (``out/``) as written, with or
    without its leading or trailing slash."""
    name = folder.strip("/").encode()
    spellings = {name, name + b"/", b"/" + name, b"/" + name + b"/"}
    return any(line.strip() in spellings for line in gitignore.splitlines())
