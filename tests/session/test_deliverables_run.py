"""Several deliverables from one storyboard in one run (issue 17 §2): each video decoded and
measured, a rerun that changes nothing encodes nothing, and the run's summary names each."""

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

THREE = """version: 1
name: film
model: doubao-seedance-2-0-480p
defaults: {seconds: 4, ratio: '16:9', generate_audio: true}
shots:
  - {id: a, prompt: a red kite, caption: Kites rise, focus: {x: 0.2, y: 0.5}}
  - {id: b, prompt: a blue boat, caption: Boats sail}
outputs:
  - {name: master, platform: youtube, contact_sheet: false}
  - {name: vertical, platform: tiktok, contact_sheet: false}
  - {name: square, ratio: '1:1', aspect: pad, loudness: -20, contact_sheet: false}
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
def three_run(
    sim_server: SimServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RunSummary]:
    """The project folder after one run of ``THREE``, and that run's summary, made once for the
    module; a test that runs again does so in its own copy (:func:`_copy_of`)."""
    project = tmp_path_factory.mktemp("three-deliverables")
    path = write_pipeline(project, THREE)
    return project, run(sim_server, path, CollectingRunReporter())


def _copy_of(three_run: tuple[Path, RunSummary], tmp_path: Path) -> Path:
    """This test's copy of the run project (file times kept), as a pipeline path."""
    project = tmp_path / "project"
    shutil.copytree(three_run[0], project, symlinks=True)
    return project / "film.yaml"


def test_three_deliverables_from_one_run(three_run: tuple[Path, RunSummary]) -> None:
    """A 16:9 master, a 9:16 tiktok cut and a padded square come out of one run, each of its
    size and length, at its loudness, with captions as its platform wants them."""
    project, summary = three_run
    out = project / "out"
    assert [r.phase for r in summary.results] == [Phase.DONE, Phase.DONE]
    assert summary.deliverables == (
        ("master", out / "master.mp4"), ("vertical", out / "vertical.mp4"),
        ("square", out / "square.mp4"),
    )  # fmt: skip
    assert summary.output == out / "master.mp4"
    sizes = {name: _size_and_seconds(video) for name, video in summary.deliverables}
    assert {name: size[:2] for name, size in sizes.items()} == {
        "master": (1920, 1080), "vertical": (1080, 1920), "square": (480, 480),
    }  # fmt: skip
    assert all(seconds == pytest.approx(8.0, abs=1 / 24) for *_size, seconds in sizes.values())
    assert integrated_loudness(out / "master.mp4") == pytest.approx(-14, abs=1.0)
    assert integrated_loudness(out / "vertical.mp4") == pytest.approx(-14, abs=1.0)
    assert integrated_loudness(out / "square.mp4") == pytest.approx(-20, abs=1.0)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["video"] == "master.mp4"
    assert manifest["deliverables"] == [
        {"name": "master", "path": "master.mp4"},
        {"name": "vertical", "path": "vertical.mp4"},
        {"name": "square", "path": "square.mp4"},
    ]
    assert sorted(p.name for p in out.glob("*.srt")) == ["master.srt", "square.srt"]
    assert "Kites rise" in (out / "master.srt").read_text(encoding="utf-8")


def test_an_unchanged_rerun_encodes_nothing(
    sim: SimServer, three_run: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    """Run again with nothing changed: no video, normalised piece, caption file, stamp or
    probe cache under out/ is written again, and the summary names the same three videos."""
    path = _copy_of(three_run, tmp_path)
    out = path.parent / "out"
    before = _files(out)
    again = run(sim, path, CollectingRunReporter())
    after = _files(out)
    assert [r.phase for r in again.results] == [Phase.CACHED, Phase.CACHED]
    assert again.deliverables == (
        ("master", out / "master.mp4"), ("vertical", out / "vertical.mp4"),
        ("square", out / "square.mp4"),
    )  # fmt: skip
    changed = {name for name in after if before.get(name) != after[name]}
    made = (".mp4", ".mov", ".inputs", ".srt", ".vtt", ".json")  # videos, pieces, stamps...
    assert {name for name in changed if name.endswith(made)} <= {"manifest.json"}
    assert sum(name.endswith(".mov") for name in after) == 6  # 2 shots x 3 frame sizes


def test_changing_one_deliverable_rebuilds_only_it(
    sim: SimServer, three_run: tuple[Path, RunSummary], tmp_path: Path
) -> None:
    """A new loudness for the square touches the square's video only."""
    path = _copy_of(three_run, tmp_path)
    before = _files(path.parent / "out")
    write_pipeline(path.parent, THREE.replace("loudness: -20", "loudness: -18"))
    run(sim, path, CollectingRunReporter())
    after = _files(path.parent / "out")
    changed = {name for name in after if before.get(name) != after[name]}
    assert {"square.mp4", "master.mp4", "vertical.mp4"} & changed == {"square.mp4"}


def test_the_json_summary_lists_each_deliverable(three_run: tuple[Path, RunSummary]) -> None:
    """run --json's summary gives each deliverable's name and video, relative to the pipeline."""
    from rdpipe.cli.machine_output import summary_document

    project, summary = three_run
    document = summary_document(summary, project)
    assert document["output"] == "out/master.mp4"
    assert document["deliverables"] == [
        {"name": "master", "path": "out/master.mp4"},
        {"name": "vertical", "path": "out/vertical.mp4"},
        {"name": "square", "path": "out/square.mp4"},
    ]
    assert json.dumps(document)


SAME_FRAME = THREE.split("outputs:")[0] + (
    "outputs:\n"
    "  - {name: web, platform: youtube, contact_sheet: false}\n"
    "  - {name: broadcast, platform: broadcast-ebu, contact_sheet: false}\n"
)


def test_deliverables_of_one_frame_share_their_pieces(sim: SimServer, tmp_path: Path) -> None:
    """Two 1920x1080 masters that differ in loudness are made from the same two normalised
    pieces, each video at its own target."""
    path = write_pipeline(tmp_path, SAME_FRAME)
    run(sim, path, CollectingRunReporter())
    out = tmp_path / "out"
    assert len(list((out / ".cache").glob("*.mov"))) == 2
    assert integrated_loudness(out / "web.mp4") == pytest.approx(-14, abs=1.0)
    assert integrated_loudness(out / "broadcast.mp4") == pytest.approx(-23, abs=1.0)
    assert _size_and_seconds(out / "broadcast.mp4")[:2] == (1920, 1080)
