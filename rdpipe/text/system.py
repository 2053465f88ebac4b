"""The machine's own fonts, found through fontconfig (``fc-match``, ``fc-list``) where present.

They are the last resort of a font chain (for a character no bundled font has, such as most
emoji) and the way ``output.font`` names an installed family. Without fontconfig (Windows,
macOS without it, slim containers) :class:`NoSystemFonts` stands in and only the bundled fonts
and font files are used.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rdpipe.text.faces import FONT_SUFFIXES, Face, FontFiles

_TIMEOUT = 10.0
_FORMAT = "%{file}|%{index}|%{family}|%{style}\n"
_PLAIN_STYLES = ("regular", "book", "normal", "roman", "medium")


class SystemFonts(Protocol):
    """Looks up installed fonts by family name and by a character they must have."""

    def family(self, name: str) -> Face | None:
        """The regular face of the installed family ``name``, or None."""
        ...

    def covering(self, char: str) -> Face | None:
        """An installed face that has ``char``, the same one every time, or None."""
        ...


class NoSystemFonts:
    """No installed fonts: only bundled fonts and font files are used."""

    def family(self, name: str) -> Face | None:
        return None

    def covering(self, char: str) -> Face | None:
        return None


@dataclass(frozen=True)
class Fontconfig:
    """Installed fonts as fontconfig's command-line tools report them.

    Each answer is asked for once and kept for as long as this value lives (a command's, or
    one assembly's), with what was read from the candidate font files: a font installed or
    removed meanwhile shows in the next value.
    """

    fc_match: str
    fc_list: str
    _families: dict[str, Face | None] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    _covering: dict[str, Face | None] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    _files: FontFiles = field(default_factory=FontFiles, init=False, compare=False, repr=False)

    @classmethod
    def find(cls, search_path: str | None = None) -> Fontconfig | None:
        """The tools on ``search_path`` (``PATH`` when None), or None where they are missing."""
        fc_match = shutil.which("fc-match", path=search_path)
        fc_list = shutil.which("fc-list", path=search_path)
        if fc_match is None or fc_list is None:
            return None
        return cls(fc_match, fc_list)

    def family(self, name: str) -> Face | None:
        if name not in self._families:
            self._families[name] = self._family(name)
        return self._families[name]

    def covering(self, char: str) -> Face | None:
        if char not in self._covering:
            self._covering[char] = self._first_covering(char)
        return self._covering[char]

    def _family(self, name: str) -> Face | None:
        # fc-match always answers with its best guess (DejaVu Sans for a typo), so the answer
        # counts only if the family it names is the one asked for.
        rows = _query([self.fc_match, "--format", _FORMAT, f"{name}:style=Regular"])
        for path, index, families, _style in rows[:1]:
            if name.casefold() in (f.strip().casefold() for f in families.split(",")):
                return Face(name, path, index)
        return None

    def _first_covering(self, char: str) -> Face | None:
        rows = _query([self.fc_list, "--format", _FORMAT, f":charset={ord(char):x}"])
        rows.sort(key=_preference)
        for path, index, families, _style in rows:
            # fontconfig's charset can be broader than the cmap FreeType uses; trust the cmap.
            if ord(char) in self._readable_codepoints(path, index):
                return Face(families.split(",")[0].strip(), path, index)
        return None

    def _readable_codepoints(self, path: Path, index: int) -> frozenset[int]:
        """The face's characters if rdpipe can draw it at any size, otherwise none."""
        try:
            face = self._files.face_file(path, index)
            return face.codepoints if face.outlined else frozenset()
        except Exception:  # a broken installed font is one we cannot use, whatever its fault
            return frozenset()


def system_fonts(search_path: str | None = None) -> SystemFonts:
    """Fontconfig where it is installed, otherwise no system fonts."""
    return Fontconfig.find(search_path) or NoSystemFonts()


def _preference(row: tuple[Path, int, str, str]) -> tuple[bool, bool, int, str]:
    path, _index, _families, style = row
    plain = any(word in style.casefold() for word in _PLAIN_STYLES)
    return (not plain, "mono" in path.name.casefold(), len(path.name), str(path))


def _query(argv: list[str]) -> list[tuple[Path, int, str, str]]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    rows = []
    for line in done.stdout.splitlines():
        file, _, rest = line.partition("|")
        index, _, rest = rest.partition("|")
        families, _, style = rest.partition("|")
        path = Path(file)
        if path.suffix.casefold() in FONT_SUFFIXES and index.isdigit():
            rows.append((path, int(index), families, style))
    return rows
