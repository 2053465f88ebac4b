"""The README's table of platform presets says what rdpipe/model/platform_presets.py sets:
every preset is listed, with its frame size and loudness target."""

from __future__ import annotations

import re
from pathlib import Path

from rdpipe.model.platform_presets import PRESETS

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `([a-z-]+)` \| (\d+x\d+) \| (-?\d+) LUFS \|", re.MULTILINE)


def test_the_readme_lists_every_preset_with_its_figures() -> None:
    rows = {name: (size, float(lufs)) for name, size, lufs in ROW.findall(README.read_text())}
    assert rows == {
        name: (preset.fields["size"], preset.fields["loudness"]) for name, preset in PRESETS.items()
    }
