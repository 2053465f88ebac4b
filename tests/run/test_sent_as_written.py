"""The request the simulator receives over HTTP is the one the file says, byte for byte."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.conftest import write

PIPELINE = """\
version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: 16:9}
vars:
  clock: 12:30
  answer: no
  code: 0755
  mood: grey
  look: "{{ mood }} light"
shots:
  - id: no
    prompt: |
      The clock shows {{ clock }}; she says {{ answer }}; door code {{ code }}.
      {% if night %}
      It is night.
      {% endif %}
      A sign reads {% raw %}{{DAILY SPECIAL}}{% endraw %}, {{ look }}.
output: {path: out/film.mp4}
"""


def test_posted_body_is_what_the_file_says(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Scalars as written, a variable using a --set variable, no tag lines, literal braces."""
    path = write(tmp_path / "film.yaml", PIPELINE)
    result = rdpipe_cli("run", str(path), "--json", "--set", "mood=stormy", "--set", "night=false")
    assert result.exit_code == 0, result.stderr
    (post,) = [r for r in online.requests() if r.endpoint == "POST /v1/video/generations"]
    assert json.loads(post.body) == {
        "model": "doubao-seedance-2-0-480p",
        "prompt": "The clock shows 12:30; she says no; door code 0755.\n"
        "A sign reads {{DAILY SPECIAL}}, stormy light.\n",
        "seconds": "4",
        "metadata": {"ratio": "16:9"},
    }
