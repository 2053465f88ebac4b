"""The storyboard video has the size the model delivers, card or no card (issue 11 §4)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.run.conftest_helpers import clip_files, start_offline_run


@pytest.mark.parametrize(("ratio", "size"), [("16:9", (864, 480)), ("9:16", (480, 864))])
def test_a_title_card_keeps_the_clips_size(
    ratio: str, size: tuple[int, int], tmp_path: Path
) -> None:
    """A 480p storyboard with a title card (the normalise path) is as big as its clips, which
    the simulator makes 864x480 as Seedance does, not the 854x480 of the ratio's arithmetic."""
    pipeline = tmp_path / "sized.yaml"
    pipeline.write_text(
        "version: 1\nname: sized\nmodel: doubao-seedance-2-0-480p\n"
        f"defaults: {{seconds: 4, ratio: '{ratio}', generate_audio: false}}\n"
        "shots:\n  - {id: one, prompt: a lighthouse}\n"
        "output: {path: out/sized.mp4, title_card: {text: Sized, seconds: 1}}\n",
        encoding="utf-8",
    )
    run = start_offline_run(pipeline)
    assert run.wait(timeout=120) == 0, run.error_text
    out = tmp_path / "out" / "offline"
    for video in (*clip_files(out), out / "sized.mp4"):
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == size, video
