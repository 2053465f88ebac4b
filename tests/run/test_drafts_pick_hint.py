"""What ``rdpipe pick`` says after choosing a drafted shot's draft take (issue 17), as the
state stands: the run of the mode that made the drafts (``--offline`` for an offline preview),
and whether the final is still to render or was rendered before from that draft."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.run.conftest import DRAFTED_BOAT as FILM
from tests.run.conftest import write


def _said(result: Result) -> list[str]:
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def test_pick_after_an_offline_preview_names_the_offline_run_and_a_final_made_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rdpipe_cli: Callable[..., Result]
) -> None:
    """Offline run with pick 2; pick 1: its final is to render by ``run --offline`` (not the
    paid run); pick 2 again: the final of draft 2 is cached, nothing to generate."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "film.yaml", FILM)
    assert rdpipe_cli("run", "film.yaml", "--offline").exit_code == 0
    assert _said(rdpipe_cli("pick", "film.yaml", "boat", "1")) == [
        "boat: draft take 1 (was draft take 2) in film.yaml",
        "Nothing is regenerated. `rdpipe run film.yaml --offline` renders the final of boat "
        "from draft take 1 (its seed and inputs).",
    ]
    assert _said(rdpipe_cli("pick", "film.yaml", "boat", "2")) == [
        "boat: draft take 2 (was draft take 1) in film.yaml",
        "Nothing is regenerated. `rdpipe run film.yaml --offline` builds the videos with the "
        "final of boat from draft take 2, already rendered (nothing to generate).",
    ]
    assert _said(rdpipe_cli("pick", "film.yaml", "boat", "--clear"))[1] == (
        "Nothing is regenerated. boat now awaits a pick: `rdpipe run film.yaml --offline` "
        "makes its drafts only, no final."
    )
