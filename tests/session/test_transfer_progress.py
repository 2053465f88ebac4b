"""Progress of the clips a run moves to and from the shared store, and from the server
(issue 13 §2): each clip's bytes reach the reporter's meter, whole."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from rdpipe.remote import RemoteSetting
from rdpipe.session.events import CollectingRunReporter
from rdpipe.sim import SimServer
from tests.session.test_running import QUICK, run, write_pipeline


def test_every_byte_pulled_pushed_or_downloaded_is_metered(sim: SimServer, tmp_path: Path) -> None:
    """A run without a store, a run with one (pushes), a clone with the store (pulls), and a
    clone without (downloads from the server): each clip's last progress call equals its size, and
    each step tells its meter the number of clips it moves."""
    store = RemoteSetting((tmp_path / "store").as_uri(), "--remote")
    (tmp_path / "store").mkdir()
    path = write_pipeline(tmp_path / "a")
    run(sim, path, CollectingRunReporter())
    sizes = {
        clip.parent.name: clip.stat().st_size for clip in (tmp_path / "a").glob("out/clips/*/*.mp4")
    }
    pushing = CollectingRunReporter()
    run(sim, path, pushing, replace(QUICK, remote=store))
    assert {label: done for (title, label), done in pushing.transferred.items()
            if title == "pushing to the shared store"} == sizes  # fmt: skip
    assert pushing.totals == {"pushing to the shared store": len(sizes)}  # the meter's "of 3"
    for name, remote, title in [
        ("b", store, "pulling from the shared store"),
        ("c", None, "downloading from the server"),
    ]:
        folder = tmp_path / name
        folder.mkdir()
        for file in ("film.yaml", "film.rdpipe.lock"):
            shutil.copy2(tmp_path / "a" / file, folder / file)
        reporter = CollectingRunReporter()
        run(sim, folder / "film.yaml", reporter, replace(QUICK, remote=remote))
        moved = {
            label: done for (seen, label), done in reporter.transferred.items() if seen == title
        }
        assert moved == sizes, title
        assert reporter.totals == {title: len(sizes)}
