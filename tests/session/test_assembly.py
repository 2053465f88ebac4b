"""The clip path below the command line: one clip value from download to the join, and an
assembly that keeps its file work off the event loop.

Runs go to the session simulator through the environment mapping passed in; the join is watched
by wrapping ``rdpipe.assemble.assemble``, which the session imports when it has work to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

import rdpipe.assemble
from rdpipe.assemble import AssemblyResult, ClipInput
from rdpipe.cli.machine_output import summary_document
from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.scheduler import Phase
from rdpipe.session.assembly import assemble_video
from rdpipe.session.events import CollectingRunReporter
from rdpipe.session.summary import RunSummary
from rdpipe.session.workspace import Workspace
from rdpipe.sim import SimServer
from rdpipe.state import LockFile, MediaVerdicts, StoredClip, hash_file
from tests.cli_process import write_pipeline
from tests.session.test_running import environ_for, manifest_of, run


@pytest.fixture
def joined(monkeypatch: pytest.MonkeyPatch) -> list[list[ClipInput]]:
    """The clips each join received, in order (the join itself runs as always)."""
    calls: list[list[ClipInput]] = []
    real = rdpipe.assemble.assemble

    async def recording(clips: Sequence[ClipInput], *args: Any, **kwargs: Any) -> AssemblyResult:
        calls.append(list(clips))
        return await real(clips, *args, **kwargs)

    monkeypatch.setattr(rdpipe.assemble, "assemble", recording)
    return calls


def clips_of(summary: RunSummary) -> list[StoredClip]:
    """Each result's clip, every shot having one."""
    clips = [result.clip for result in summary.results]
    assert None not in clips, summary.results
    return [clip for clip in clips if clip is not None]


def test_one_clip_value_goes_from_the_download_to_the_join(
    sim: SimServer, tmp_path: Path, joined: list[list[ClipInput]]
) -> None:
    """The clip the store adopted is the file the join reads and the one the manifest, the lock
    file and the --json summary name; a cached rerun ends with equal values and joins nothing."""
    path = write_pipeline(tmp_path)
    first = run(sim, path, CollectingRunReporter())
    clips = clips_of(first)
    out = tmp_path / "out"
    for clip in clips:
        assert clip.path == out / clip.relative
        assert (clip.size, clip.sha256) == (clip.path.stat().st_size, hash_file(clip.path))
    inputs = [ClipInput("a", clips[0].path, "a red kite", sha256=clips[0].sha256),
              ClipInput("b", clips[1].path, "a blue boat", sha256=clips[1].sha256)]  # fmt: skip
    assert joined == [inputs]
    shots = manifest_of(path)["shots"]
    assert isinstance(shots, list)
    assert [shot["clip"] for shot in shots] == [c.relative for c in clips]
    lock = LockFile(tmp_path / "film.rdpipe.lock").read()
    assert [shot.takes[0].clip for shot in lock] == [c.relative for c in clips]
    shown = summary_document(first, tmp_path)["shots"]
    assert [shot["clip"] for shot in shown] == [f"out/{c.relative}" for c in clips]

    again = run(sim, path, CollectingRunReporter())
    assert [r.phase for r in again.results] == [Phase.CACHED, Phase.CACHED]
    assert clips_of(again) == clips
    assert len(joined) == 1, "the video is up to date: nothing is joined again"


def test_assembly_looks_at_files_only_in_worker_threads(
    sim: SimServer, tmp_path: Path, loop_file_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking that the video is up to date, finding ffmpeg, the join and the stamp written
    after it never block the event loop; the stamp names the inputs and the video as built.
    The join hashes no clip again and asks the run's verdicts whether each is whole."""
    path = write_pipeline(tmp_path)
    summary = run(sim, path, CollectingRunReporter())
    prepared = prepare_pipeline(path)
    workspace = Workspace.for_pipeline(prepared.loaded, offline=False)
    stamp = workspace.cache_dir / f"{workspace.video.name}.inputs"
    built = stamp.read_text(encoding="utf-8")
    stamp.unlink()
    loop_file_calls.clear()

    def unexpected(path: Path) -> str:
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr("rdpipe.assemble.normalise._digest", unexpected)
    monkeypatch.setattr("rdpipe.assemble.completeness.media_gap", unexpected)
    verdicts = MediaVerdicts(workspace.cache_dir)  # what the run's clip store found

    async def assemble() -> Path:
        return await assemble_video(
            prepared, summary.results, workspace, verdicts=verdicts, environ=environ_for(sim)
        )

    assert anyio.run(assemble) == workspace.video  # built again: the stamp was gone
    assert anyio.run(assemble) == workspace.video  # up to date
    assert loop_file_calls == []
    video = workspace.video.stat()
    fingerprint = built.split()[0]
    assert stamp.read_text(encoding="utf-8") == (
        f"{fingerprint} {video.st_size} {video.st_mtime_ns}\n"
    )
