"""``rdpipe push`` and ``rdpipe pull`` in a pipe count the clips they move of the total (issue
16 §2): a line per clip as it arrives whole, ``pushing: 2 of 3 clips (b, 41 kB)``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.test_reproduce import SHOTS, clone, first_run

#: A clip's line: the step, how many are whole of the total, the clip and its size.
LINE = re.compile(
    r"(?P<step>[a-z ]+): (?P<done>\d+) of (?P<total>\d+) clips \((?P<label>\w+), \d+(\.\d)? [kM]B\)"
)


def counted(stdout: str, step: str) -> list[tuple[int, int, str]]:
    """The ``step``'s clip lines in ``stdout``: (done, total, label), in the order said."""
    found = []
    for line in stdout.splitlines():
        match = LINE.fullmatch(line)
        if match is not None and match["step"] == step:
            found.append((int(match["done"]), int(match["total"]), match["label"]))
    return found


def test_push_and_pull_count_each_clip_moved_of_the_total(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Each of the three clips is said once, counted 1, 2, 3 of 3, by the push and by the
    pull of a clone from the same folder store."""
    store = (tmp_path / "store").as_uri()
    (tmp_path / "store").mkdir()
    path_a = first_run(tmp_path / "a", rdpipe_cli)
    pushed = rdpipe_cli("push", str(path_a), "--remote", store)
    assert pushed.exit_code == 0, pushed.stderr
    lines = counted(pushed.stdout, "pushing")
    assert [(done, total) for done, total, _ in lines] == [(1, 3), (2, 3), (3, 3)], pushed.stdout
    assert sorted(label for _, _, label in lines) == sorted(SHOTS)
    path_b = clone(tmp_path / "a", tmp_path / "b")
    pulled = rdpipe_cli("pull", str(path_b), "--remote", store)
    assert pulled.exit_code == 0, pulled.stderr
    lines = counted(pulled.stdout, "pulling from the shared store")
    assert [(done, total) for done, total, _ in lines] == [(1, 3), (2, 3), (3, 3)], pulled.stdout
    assert sorted(label for _, _, label in lines) == sorted(SHOTS)
