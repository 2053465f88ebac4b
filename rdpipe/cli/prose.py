"""Lines of text printed on a terminal break between words, not inside them.

rdpipe's consoles print text as written (``soft_wrap``), so a pipe gets one line per message
and a path is never cut by rdpipe. A terminal then breaks a long line wherever it reaches the
last column, mid-word: ``(it is generated with the fi`` / ``nals)``. :class:`ProseWrap`, a
rich render hook, starts a new line at the space before a word that would not fit, when the
console is a terminal. A word longer than a whole line (a long path) is left where it is, for
the terminal to break: it cannot be kept whole, and it stays one line to copy.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Console, ConsoleRenderable, RenderHook
from rich.text import Text

_WORD = re.compile(r"\S+")


class ProseWrap(RenderHook):
    """Breaks each printed :class:`~rich.text.Text` at spaces to the console's width, on a
    terminal only; other renderables (tables, bars, the live view) pass unchanged."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        if not self._console.is_terminal:
            return renderables
        width = self._console.width
        return [
            wrapped_text(item, width) if isinstance(item, Text) else item for item in renderables
        ]


def wrapped_text(text: Text, width: int) -> Text:
    """``text`` with the space before each word that would cross column ``width`` made a line
    break (styles kept: a space becomes a newline, so no offset moves)."""
    plain = text.plain
    breaks = break_offsets(plain, width)
    if not breaks:
        return text
    characters = list(plain)
    for offset in breaks:
        characters[offset] = "\n"
    wrapped = text.copy()
    wrapped.plain = "".join(characters)
    return wrapped


def break_offsets(plain: str, width: int) -> list[int]:
    """Offsets in ``plain`` of the spaces to turn into line breaks so that no word starting
    after column 0 crosses column ``width``; a word wider than ``width`` stays where it is
    (the terminal breaks it), and the column goes on as the terminal's would."""
    breaks: list[int] = []
    start = 0
    for line in plain.split("\n"):
        column, previous_end = 0, 0
        for word in _WORD.finditer(line):
            through = column + cell_len(line[previous_end : word.end()])
            if previous_end and through > width and cell_len(word.group()) <= width:
                breaks.append(start + previous_end)  # it fits a fresh line: break before it
                through = cell_len(line[previous_end + 1 : word.end()])
            # A word wider than any line is left for the terminal to break where it must.
            column = through - width * ((through - 1) // width) if through > width else through
            previous_end = word.end()
        start += len(line) + 1
    return breaks
