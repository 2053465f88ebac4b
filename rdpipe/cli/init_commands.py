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


class FilesInTheWay(UsageError):
    """``rdpipe init`` found files it would write already there; it wrote nothing."""

    def __init__(self, folder: Path, existing: list[str]) -> None:
        names = ", ".join(existing)
        where = "this folder" if folder == Path(".") else str(folder)
        are, them = ("is", "it") if len(existing) == 1 else ("are", "them")
        super().__init__(
            f"rdpipe init writes {STORYBOARD}, {SCHEMA} and {GITIGNORE} in {where}, but "
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
    """Start a project: a commented starter storyboard, its JSON Schema and a .gitignore."""
    context = CommandContext.start()

    def action() -> None:
        written = write_starter(folder)
        if context.verbosity >= 0:
            for path in written:
                context.out.print(f"wrote {path}")
            run = f"cd {shlex.quote(str(folder))} && " if folder != Path(".") else ""
            context.out.print(f"next: {run}rdpipe run {STORYBOARD} --offline")

    run_command(action, context)


def write_starter(folder: Path) -> list[Path]:
    """Write the starter files into ``folder`` (made if missing) and return their paths.

    Raises :class:`FilesInTheWay` (exit 2), writing nothing, when any of them exists.
    """
    from rdpipe.files import writing_to
    from rdpipe.schema import schema_text

    contents = {STORYBOARD: STARTER, SCHEMA: schema_text(), GITIGNORE: IGNORED}
    existing = [name for name in contents if (folder / name).exists()]
    if existing:
        raise FilesInTheWay(folder, existing)
    written = []
    with writing_to(folder):
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            path = folder / name
            with open(path, "x", encoding="utf-8") as file:  # never over a file made meanwhile
                file.write(text)
            written.append(path)
    return written
