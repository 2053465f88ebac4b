"""Two deliverables never write the same file (issue 17): ``validate`` compares their paths
normalised, and the files written beside each video (draft video, timeline, captions, contact
sheet, card videos), and refuses a clash at the later entry's ``path``, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app

HEAD = "version: 1\nname: demo\nmodel: doubao-seedance-2-0-720p\n"
SHOTS = "shots:\n  - {id: a, prompt: x, caption: Hello}\n"
TAIL = "\n1 error; nothing was sent to the API.\n"


def _validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outputs: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sb.yaml").write_text(HEAD + SHOTS + "outputs:\n" + outputs, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "sb.yaml"], catch_exceptions=False)
    return result.exit_code, result.stderr


CLASHES = {
    "the same file written two ways": (
        "  - {name: tv, platform: broadcast-ebu, path: out/e2-tv.mp4}\n"
        "  - {name: small, platform: tiktok, path: out/./e2-tv.mp4}\n",
        "sb.yaml:8:43: outputs[1].path: 'out/./e2-tv.mp4' is the same file as the video of "
        "deliverable 'tv' (path 'out/e2-tv.mp4')",
    ),
    "a video where another's draft goes": (
        "  - {name: a, path: out/a.mp4}\n  - {name: b, path: out/sub/../a.draft.mp4}\n",
        "sb.yaml:8:21: outputs[1].path: 'out/sub/../a.draft.mp4' is the same file as the draft "
        "video of deliverable 'a' (path 'out/a.mp4')",
    ),
    "a draft where another's video is": (
        "  - {name: a, path: out/a.draft.mp4}\n  - {name: b, path: out/a.mp4}\n",
        "sb.yaml:8:21: outputs[1].path: its draft video 'out/a.draft.mp4' is the same file as "
        "the video of deliverable 'a' (path 'out/a.draft.mp4')",
    ),
    "the same timeline beside a .mov": (
        "  - {name: a, path: out/a.mp4}\n  - {name: b, path: out/a.mov}\n",
        "sb.yaml:8:21: outputs[1].path: its timeline (.otio) 'out/a.otio' is the same file as "
        "the timeline (.otio) of deliverable 'a' (path 'out/a.mp4')",
    ),
    "a video where another's title card goes": (
        "  - {name: a, path: out/a.mp4, title_card: {text: Hi}}\n"
        "  - {name: b, path: out/a.title.mp4}\n",
        "sb.yaml:8:21: outputs[1].path: 'out/a.title.mp4' is the same file as the title card "
        "video of deliverable 'a' (path 'out/a.mp4')",
    ),
    "a video where another's captions go": (
        "  - {name: a, path: a.mp4, captions: {sidecars: [srt]}}\n  - {name: b, path: a.srt}\n",
        "sb.yaml:8:21: outputs[1].path: 'a.srt' is the same file as the captions (.srt) of "
        "deliverable 'a' (path 'a.mp4')",
    ),
}
ENDING = ": one would overwrite the other; give each deliverable its own path"


@pytest.mark.parametrize("case", list(CLASHES))
def test_deliverables_writing_one_file_are_refused(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate prints the exact located error naming both paths and what each file is."""
    outputs, expected = CLASHES[case]
    assert _validate(tmp_path, monkeypatch, outputs) == (2, "error: " + expected + ENDING + TAIL)


def test_files_with_similar_names_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """out/a.mp4 beside out/a2.mp4 and out/draft/a.mp4 writes no file twice: OK."""
    outputs = (
        "  - {name: a, path: out/a.mp4}\n  - {name: b, path: out/a2.mp4}\n"
        "  - {name: c, path: out/draft/a.mp4}\n"
    )
    assert _validate(tmp_path, monkeypatch, outputs) == (0, "")
