"""A deliverable's ``max_seconds`` checked by ``validate`` on the planned lengths (issue 17 §2):
a located problem before anything is paid for."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app

HEAD = "version: 1\nname: demo\nmodel: doubao-seedance-2-0-720p\n"
SHOTS = "shots:\n  - {id: a, prompt: x, seconds: 5}\n  - {id: b, prompt: y, seconds: 5}\n"


def _validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outputs: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sb.yaml").write_text(HEAD + SHOTS + outputs, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "sb.yaml"], catch_exceptions=False)
    return result.exit_code, result.stderr


def test_a_cut_longer_than_max_seconds_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two 5 s shots and a 2 s title card are 12 s: a 10 s deliverable is refused at its
    max_seconds, exit 2."""
    outputs = (
        "outputs:\n"
        "  - {name: master, platform: youtube}\n"
        "  - name: teaser\n"
        "    ratio: '9:16'\n"
        "    max_seconds: 10\n"
        "    title_card: {text: Hi, seconds: 2}\n"
    )
    code, stderr = _validate(tmp_path, monkeypatch, outputs)
    assert code == 2
    assert stderr == (
        "error: sb.yaml:11:18: outputs[1].max_seconds: deliverable 'teaser' would last about "
        "12.0 s, longer than its max_seconds of 10 s; leave shots out, trim them, or raise "
        "max_seconds\n1 error; nothing was sent to the API.\n"
    )


def test_a_preset_limit_is_located_at_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message of a deliverable with a platform preset names the platform."""
    outputs = "outputs:\n  - {name: clip, platform: tiktok, max_seconds: 9.5}\n"
    code, stderr = _validate(tmp_path, monkeypatch, outputs)
    assert code == 2
    assert stderr == (
        "error: sb.yaml:8:49: outputs[0].max_seconds: deliverable 'clip' would last about "
        "10.0 s, longer than its max_seconds of 9.5 s (tiktok); leave shots out, trim them, "
        "or raise max_seconds\n1 error; nothing was sent to the API.\n"
    )


def test_a_cut_within_max_seconds_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crossfade shortens the cut: two 5 s shots crossfaded for 1 s fit 9 s."""
    outputs = (
        "outputs:\n"
        "  - {name: clip, ratio: '1:1', max_seconds: 9,"
        " transition: {kind: crossfade, seconds: 1}}\n"
    )
    assert _validate(tmp_path, monkeypatch, outputs) == (0, "")


def test_a_deliverables_own_transition_is_checked_at_its_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crossfade longer than the shots on one outputs: entry is located at that entry, in
    its own words (outputs[1].transition.seconds)."""
    outputs = (
        "outputs:\n"
        "  - {name: master}\n"
        "  - {name: clip, ratio: '1:1', transition: {kind: crossfade, seconds: 5}}\n"
    )
    code, stderr = _validate(tmp_path, monkeypatch, outputs)
    assert code == 2
    assert stderr == (
        "error: sb.yaml:9:71: outputs[1].transition.seconds: shot 'a' is 5 s long, too short "
        "for the 5 s crossfade: it needs more than 5 s (5 s blended with the shot after); "
        "shorten outputs[1].transition.seconds or lengthen the shot\n"
        "sb.yaml:9:71: outputs[1].transition.seconds: shot 'b' is 5 s long, too short "
        "for the 5 s crossfade: it needs more than 5 s (5 s blended with the shot before); "
        "shorten outputs[1].transition.seconds or lengthen the shot\n"
        "2 errors; nothing was sent to the API.\n"
    )


@pytest.mark.parametrize("path", ["../../x.mp4", "/tmp/x.mp4"])
def test_a_deliverable_path_outside_the_folder_is_refused(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outputs: entry may not write outside the pipeline's folder, as output.path may not."""
    code, stderr = _validate(tmp_path, monkeypatch, f"outputs:\n  - {{name: m, path: {path}}}\n")
    assert code == 2
    assert stderr == (
        f"error: sb.yaml:8:21: outputs[0].path: '{path}' must be a file path inside the "
        "pipeline's folder (relative, without '..')\n1 error; nothing was sent to the API.\n"
    )
