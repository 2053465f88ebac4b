"""Several deliverables from one storyboard in one run (issue 17 §2): each video decoded and
measured, a rerun that changes nothing encodes nothing, and the run's summary names each.

One run of :data:`FOUR` (made once for the module) serves every test: its 1920x1080 master and
broadcast videos are also the pair of one frame that shares its normalised pieces. Its videos
are encoded with x264's ``ultrafast`` preset (the default ``veryfast`` took 1.5 times as long
here, 9.2 s against 6.0 s a run); nothing here measures the picture's quality."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import pytest

from rdpipe.scheduler import Phase
from rdpipe.session.events import CollectingRunReporter
from rdpipe.session.summary import RunSummary
from rdpipe.sim import SimServer
from tests.cli_process import write_pipeline
from tests.media_measure import integrated_loudness
from tests.session.test_running import run

FOUR = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9', generate_audio: true}
shots:
  - {id: a, prompt: a red kite, caption: Kites rise, focus: {x: 0.2, y: 0.5}}
  - {id: b, prompt: a blue boat, caption: Boats sail}
outputs:
  - {name: master, platform: youtube, contact_sheet: false, preset: ultrafast}
  - {name: vertical, platform: tiktok, contact_sheet: false, preset: ultrafast}
  - {name: square, ratio: '1:1', aspect: pad, loudness: -20, contact_sheet: false,
     preset: ultrafast}
  - {name: broadcast, platform: broadcast-ebu, contact_sheet: false, preset: ultrafast}
"""


def _size_and_seconds(path: Path) -> tuple[int, int, float]:
    """Frame width and height, and seconds of picture, decoded with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _frame in container.decode(video=0))
        return stream.codec_context.width, stream.codec_context.height, frames / 24


def _files(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` and its modification time (ns)."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def four_run(
    sim_server: SimServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RunSummary]:
    """The project folder after one run of ``FOUR``, and that run's summary, made once for the
    module; a test that runs again does so in its own copy (:func:`_copy_of`)."""
    project = tmp_path_factory.mktemp("four-deliverables")
    path = write_pipeline(project, FOUR)
    return project, run(sim_server, path, CollectingRunReporter())


def _copy_of(four_run: tuple[Path, RunSummary], tmp_path: Path) -> Path:
    """This test's copy of the run project (file times kept), as a pipeline path."""
    project = tmp_path / "project"
    shutil.copytree(four_run[0], project, symlinks=True)
    return project / "film.yaml"


def test_four_deliverables_from_one_run(four_run: tuple[Path, RunSummary]) -> None:
    """A 16:9 master, a 9:16 tiktok cut, a padded square and an EBU broadcast master come out
    of one run, each of its size and length, at its loudness, with captions as its platform
    wants them."""
    project, summary = four_run
    out = project / "out"
    assert [r.phase for r in summary.results] == [Phase.DONE, Phase.DONE]
    assert summary.deliverables == (
        ("master", out / "master.mp4"), ("vertical", out / "vertical.mp4"),
        ("square", out / "square.mp4"), ("broadcast", out / "broadcast.mp4"),
    )  # fmt: skip
    assert summary.output == out / "master.mp4"
    sizes = {name: _size_and_seconds(video) for name, video in summary.deliverables}
    assert {name: size[:2] for name, size in sizes.items()} == {
        "master": (1920, 1080), "vertical": (1080, 1920), "square": (480, 480),
        "broadcast": (1920, 1080),
    }  # fmt: skip
    assert all(seconds == pytest.approx(8.0, abs=1 / 24) for *_size, seconds in sizes.values())
    assert integrated_loudness(out / "master.mp4") == pytest.approx(-14, abs=1.0)
    assert integrated_loudness(out / "vertical.mp4") == pytest.approx(-14, abs=1.0)
    assert integrated_loudness(out / "square.mp4") == pytest.approx(-20, abs=1.0)
    assert integrated_loudness(out / "broadcast.mp4") == pytest.approx(-23, abs=1.0)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["video"] == "master.mp4"
    assert manifest["deliverables"] == [
        {"name": "master", "path": "master.mp4"},
        {"name": "vertical", "path": "vertical.mp4"},
        {"name": "square", "path": "square.mp4"},
        {"name": "broadcast", "path": "broadcast.mp4"},
    ]
    assert sorted(p.name for p in out.glob("*.srt")) == [
        "broadcast.srt", "master.srt", "square.srt"]  # fmt: skip
    assert "Kites rise" in (out / "master.srt").read_text(encoding="utf-8")


def test_an_unchanged_rerun_encodes_nothing(
    sim: SimServer, four_run: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    """Run again with nothing changed: no video, normalised piece, caption file, stamp or
    probe cache under out/ is written again, and the summary names the same four videos."""
    path = _copy_of(four_run, tmp_path)
    out = path.parent / "out"
    before = _files(out)
    again = run(sim, path, CollectingRunReporter())
    after = _files(out)
    assert [r.phase for r in again.results] == [Phase.CACHED, Phase.CACHED]
    assert again.deliverables == (
        ("master", out / "master.mp4"), ("vertical", out / "vertical.mp4"),
        ("square", out / "square.mp4"), ("broadcast", out / "broadcast.mp4"),
    )  # fmt: skip
    changed = {name for name in after if before.get(name) != after[name]}
    made = (".mp4", ".mov", ".inputs", ".srt", ".vtt", ".json")  # videos, pieces, stamps...
    assert {name for name in changed if name.endswith(made)} <= {"manifest.json"}
    assert sum(name.endswith(".mov") for name in after) == 6  # 2 shots x 3 frame sizes


def test_changing_one_deliverable_rebuilds_only_it(
    sim: SimServer, four_run: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    """A new loudness for the square touches the square's video only."""
    path = _copy_of(four_run, tmp_path)
    before = _files(path.parent / "out")
    write_pipeline(path.parent, FOUR.replace("loudness: -20", "loudness: -18"))
    run(sim, path, CollectingRunReporter())
    after = _files(path.parent / "out")
    changed = {name for name in after if before.get(name) != after[name]}
    assert {"square.mp4", "master.mp4", "vertical.mp4", "broadcast.mp4"} & changed == {
        "square.mp4"}  # fmt: skip


def test_the_json_summary_lists_each_deliverable(four_run: tuple[Path, RunSummary]) -> None:
    """run --json's summary gives each deliverable's name and video, relative to the pipeline."""
    from rdpipe.cli.machine_output import summary_document

    project, summary = four_run
    document = summary_document(summary, project)
    assert document["output"] == "out/master.mp4"
    assert document["deliverables"] == [
        {"name": "master", "path": "out/master.mp4"},
        {"name": "vertical", "path": "out/vertical.mp4"},
        {"name": "square", "path": "out/square.mp4"},
        {"name": "broadcast", "path": "out/broadcast.mp4"},
    ]
    assert json.dumps(document)


def test_deliverables_of_one_frame_share_their_pieces(four_run: tuple[Path, RunSummary]) -> None:
    """The 1920x1080 master and broadcast videos, which differ in loudness, are made from the
    same two normalised pieces: six pieces for two shots in three frame sizes, not eight (each
    video's size and loudness are measured in :func:`test_four_deliverables_from_one_run`)."""
    pieces = list((four_run[0] / "out" / ".cache").glob("*.mov"))
    assert len(pieces) == 6
