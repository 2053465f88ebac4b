"""The example pipeline of issue 17, pipelines/trailer, run offline as its header says: drafts,
one pick per shot, finals; both deliverables decoded and measured, and the timeline beside each
video read back with OpenTimelineIO."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import opentimelineio as otio
import pytest
from click.testing import Result

from tests.media_measure import integrated_loudness, picture
from tests.run.conftest import summary_of

EXAMPLE = Path(__file__).resolve().parents[2] / "pipelines" / "trailer"
PICKS = {"harbour": "2", "skipper": "1", "archive": "1", "open-sea": "1"}


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.stdout + result.stderr
    return result


def _timeline_seconds(video: Path) -> float:
    """The length of the .otio written beside ``video``, read back through OTIO."""
    timeline = otio.adapters.read_from_file(str(video.with_suffix(".otio")))
    for clip in timeline.find_clips():
        reference = clip.media_reference
        assert isinstance(reference, otio.schema.ExternalReference)
        assert Path(reference.target_url.removeprefix("file://")).is_file(), clip.name
    return float(timeline.duration().to_seconds())


def test_the_trailer_goes_from_drafts_to_two_deliverables(
    tmp_path: Path, rdpipe_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run --drafts` pays for the five 480p drafts only and writes both deliverables as
    drafts; after one pick per shot, `run` pays for the four 1080p finals and the two shots
    regenerated in another shape (archive at 16:9 for the master, open-sea at 9:16 for the
    vertical), reuses every draft, and writes the master at 1920x1080 and the vertical at
    1080x1920, each at -14 LUFS within 1 LU, each with a timeline as long as its video."""
    shutil.copytree(EXAMPLE, tmp_path / "trailer")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "trailer" / "out" / "offline"

    drafts = summary_of(_ok(rdpipe_cli("run", "trailer/trailer.yaml", "--offline", "--drafts",
                                       "--json")))  # fmt: skip
    assert (drafts["submitted"], drafts["reused"], drafts["output"]) == (
        5, 0, "out/offline/trailer.draft.mp4"
    )  # fmt: skip
    assert sorted(path.name for path in out.glob("*.mp4")) == [
        "trailer-vertical.draft.mp4", "trailer.draft.mp4", "trailer.draft.title.mp4"
    ]  # fmt: skip
    assert picture(out / "trailer-vertical.draft.mp4").width == 1080

    for shot, take in PICKS.items():
        _ok(rdpipe_cli("pick", "trailer/trailer.yaml", shot, take))
    finals = _ok(rdpipe_cli("run", "trailer/trailer.yaml", "--offline"))
    assert finals.stdout.splitlines()[-1] == (
        "trailer: 6 submitted, 0 resumed, 5 reused, 0 failed -> "
        f"{out}/trailer.mp4, {out}/trailer-vertical.mp4"
    )
    for video, size in (("trailer.mp4", (1920, 1080)), ("trailer-vertical.mp4", (1080, 1920))):
        measured = picture(out / video)
        assert (measured.width, measured.height) == size
        assert integrated_loudness(out / video) == pytest.approx(-14, abs=1.0)
        assert _timeline_seconds(out / video) == pytest.approx(measured.seconds, abs=1 / 24)
    # master: a 2 s title card, then four 4 s shots crossfaded 0.5 s; vertical: cuts, no card
    assert picture(out / "trailer.mp4").seconds == pytest.approx(16.5, abs=1 / 24)
    assert picture(out / "trailer-vertical.mp4").seconds == pytest.approx(16.0, abs=1 / 24)

    again = _ok(rdpipe_cli("run", "trailer/trailer.yaml", "--offline"))
    assert "0 submitted, 0 resumed, 11 reused" in again.stdout.splitlines()[-1]
