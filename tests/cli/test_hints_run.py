"""Every command rdpipe suggests works when pasted as printed (issue 16 §3).

Each scenario runs rdpipe as a user would, from the parent of a folder with a space in its name
(``my films/film.yaml``), takes every command the output names in backticks, and runs it
exactly as printed through ``bash -c`` from the same folder, with ``rdpipe`` on PATH. The
command must not fail for its form (a usage error, an unknown file, "no clip yet") and must do
what the hint says it does. A unit test checks :data:`rdpipe.hints.ACCEPTS` against each
command's own ``--help``.

The ``rdpipe`` on PATH is a two-line shell script (:data:`FAST_RDPIPE`) that runs the venv's
``rdpipe`` with the words as given, and adds ``--poll-interval 0.05`` after a ``run``'s: the
simulator finishes a task in a fraction of a second, but an online run's first poll waits
7.5 s, and a task without a webhook starts at that first poll (about 20 s a run otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rdpipe.cli import app
from rdpipe.hints import ACCEPTS, OFFLINE, OUTSIDE, SET
from rdpipe.sim import Faults, SimServer
from tests.cli_process import environment
from tests.conftest import SIM_API_KEY

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
FILE = "my films/film.yaml"
QUOTED = "'my films/film.yaml'"
PIPELINE = """version: 1
name: film
model: doubao-seedance-2-0-480p
vars: {mood: calm}
defaults: {seconds: 4, ratio: '16:9', retries: 0}
shots:
  - {id: kite, prompt: 'a {{ mood }} red kite'}
  - {id: boat, prompt: a blue boat}
output: {path: out/film.mp4}
"""
HINT = re.compile(r"`(rdpipe [^`]*)`")
BROKEN = ("Usage:", "no clip yet", "does not exist", "No such option", "Traceback")


FAST_RDPIPE = f"""#!/bin/sh
if [ "$1" = run ]; then exec '{BIN}/rdpipe' "$@" --poll-interval 0.05; fi
exec '{BIN}/rdpipe' "$@"
"""


def _make_folder(folder: Path) -> Path:
    """``folder`` holding ``my films/film.yaml`` and ``.bin/rdpipe`` (:data:`FAST_RDPIPE`)."""
    (folder / "my films").mkdir(parents=True)
    (folder / FILE).write_text(PIPELINE, encoding="utf-8")
    (folder / ".bin").mkdir()
    (folder / ".bin" / "rdpipe").write_text(FAST_RDPIPE, encoding="utf-8")
    (folder / ".bin" / "rdpipe").chmod(0o755)
    return folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``tmp_path`` as :func:`_make_folder` makes it; commands run from ``tmp_path``."""
    return _make_folder(tmp_path)


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder after `rdpipe run 'my films/film.yaml' --offline` (exit 0), made once for the
    module; each test that starts there gets its own copy (:func:`after_offline_run`)."""
    made = _make_folder(tmp_path_factory.mktemp("offline-run"))
    ran = shell(f"rdpipe run {QUOTED} --offline", made)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return made


@pytest.fixture
def after_offline_run(offline_run: Path, tmp_path: Path) -> Path:
    """This test's copy of :func:`offline_run`'s folder; commands run from it."""
    copy = tmp_path / "after offline run"
    shutil.copytree(offline_run, copy, symlinks=True)
    return copy


def _env(folder: Path, sim: SimServer | None) -> dict[str, str]:
    online = {} if sim is None else {
        "RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": SIM_API_KEY}  # fmt: skip
    return environment(
        folder / ".cache",
        {**online, "NO_COLOR": "1", "COLUMNS": "400",
         "PATH": os.pathsep.join([str(folder / ".bin"), str(BIN), os.environ["PATH"]])},
    )  # fmt: skip


def shell(
    line: str, folder: Path, sim: SimServer | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``line`` as a user pastes it: ``bash -c`` in ``folder``."""
    return subprocess.run(
        ["bash", "-c", line], cwd=folder, env=_env(folder, sim), capture_output=True,
        text=True, timeout=180,
    )  # fmt: skip


def hints(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Every command the output names in backticks, in order, once each."""
    return list(dict.fromkeys(HINT.findall(result.stdout + result.stderr)))


def run_hint(line: str, folder: Path, sim: SimServer | None = None) -> str:
    """Run a suggested command as printed; it must not fail for its form. Its output."""
    result = shell(line, folder, sim)
    said = result.stdout + result.stderr
    assert not [word for word in BROKEN if word in said], (line, said)
    assert result.returncode in (0, 1), (line, said)
    return said


def _no_online_advice(text: str) -> None:
    assert "dashboard" not in text and "RELAYDANCE_API_KEY" not in text, text


def test_offline_run_then_pick_names_the_offline_assemble(after_offline_run: Path) -> None:
    """After an offline run, pick says to assemble the offline preview; pasted, it rebuilds it."""
    folder = after_offline_run
    picked = shell(f"rdpipe pick {QUOTED} kite 1", folder)
    assert picked.returncode == 0, picked.stderr
    assert picked.stdout.splitlines()[-1] == (
        f"Nothing is regenerated. Run `rdpipe assemble {QUOTED} --offline` to rebuild the video."
    )
    (assemble,) = hints(picked)
    said = run_hint(assemble, folder)
    assert said.splitlines()[-1] == f"film: {folder}/my films/out/offline/film.mp4", said
    status = shell(f"rdpipe status {QUOTED} --offline", folder)
    assert status.returncode == 0 and hints(status) == [], status.stdout
    _no_online_advice(status.stdout + status.stderr)


def test_pick_carries_the_runs_sets_to_the_assemble_it_names(folder: Path) -> None:
    """After `run --set`, `pick --set` names the assemble with the same --set (quoted); pasted,
    it rebuilds the video of the clips that run made (without it: "no clip yet")."""
    sets = "--set 'mood=very stormy'"
    assert shell(f"rdpipe run {QUOTED} --offline {sets}", folder).returncode == 0
    picked = shell(f"rdpipe pick {QUOTED} kite 1 {sets}", folder)
    assert picked.returncode == 0, picked.stderr
    assert picked.stdout.splitlines()[-1] == (
        f"Nothing is regenerated. Run `rdpipe assemble {QUOTED} --offline --set "
        "'mood=very stormy'` to rebuild the video."
    )
    (assemble,) = hints(picked)
    said = run_hint(assemble, folder)
    assert said.splitlines()[-1] == f"film: {folder}/my films/out/offline/film.mp4", said


def test_assemble_without_offline_after_an_offline_run_names_both(after_offline_run: Path) -> None:
    """`rdpipe assemble FILE` after an offline run only: no paid clip yet, and the offline
    preview's own clips are named with the command that builds its video; pasted, it does."""
    folder = after_offline_run
    paid = shell(f"rdpipe assemble {QUOTED}", folder)
    assert paid.returncode == 1
    assert paid.stderr.splitlines() == [
        "error: no clip yet for kite, boat",
        f"Run `rdpipe run {QUOTED}` first. The offline preview has its own clips: "
        f"`rdpipe assemble {QUOTED} --offline` builds its video (free).",
    ]
    said = run_hint(f"rdpipe assemble {QUOTED} --offline", folder)
    assert said.splitlines()[-1] == f"film: {folder}/my films/out/offline/film.mp4", said


def test_assemble_before_run_names_the_run_with_the_same_mode_and_sets(folder: Path) -> None:
    """`assemble --offline --set` before any run: the hint is the run in the same terms (the
    --set value with a space quoted); pasted, it makes the clips, and assemble then works."""
    sets = "--set 'mood=very stormy'"
    before = shell(f"rdpipe assemble {QUOTED} --offline {sets}", folder)
    assert before.returncode == 1
    assert before.stderr.splitlines() == [
        "error: no clip yet for kite, boat",
        f"Run `rdpipe run {QUOTED} --offline --set 'mood=very stormy'` first (free).",
    ]
    (run,) = hints(before)
    said = run_hint(run, folder)
    assert said.splitlines()[-1].startswith("film: 2 submitted"), said
    _no_online_advice(said)
    assert shell(f"rdpipe assemble {QUOTED} --offline {sets}", folder).returncode == 0


def test_a_failed_shot_names_the_rerun_and_the_partial_video(folder: Path, sim: SimServer) -> None:
    """A shot refused upstream: the run names `rdpipe run FILE` (retry) and `rdpipe assemble
    FILE --partial` (build without it); pasted, the first retries it, the second builds."""
    sim.faults = Faults(failure_markers={"kite": "transient"})
    failed = shell(f"rdpipe run {QUOTED}", folder, sim)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert hints(failed) == [f"rdpipe run {QUOTED}", f"rdpipe assemble {QUOTED} --partial"]
    lines = failed.stdout.splitlines()
    assert lines[-3:-1] == [
        f"`rdpipe run {QUOTED}` tries again the shots without a clip (kite): a task already "
        "paid for is downloaded again, not paid twice.",
        f"`rdpipe assemble {QUOTED} --partial` builds the video from the shots that have a clip.",
    ]
    partial = run_hint(f"rdpipe assemble {QUOTED} --partial", folder, sim)
    assert partial.splitlines()[-1] == f"film: {folder}/my films/out/film.mp4", partial
    sim.faults = Faults()
    sim.clear_observations()
    again = run_hint(f"rdpipe run {QUOTED}", folder, sim)
    assert again.splitlines()[-1] == (
        f"film: 1 submitted, 0 resumed, 1 reused, 0 failed -> {folder}/my films/out/film.mp4"
    )


def test_an_unknown_submit_names_the_resubmit_online_and_status_too(
    folder: Path, sim: SimServer
) -> None:
    """A submit whose answer was lost: the run and `status` name `rdpipe run FILE
    --resubmit-unknown`; pasted, it submits the shot again and the run ends with both clips."""
    sim.faults = Faults(drop_rate=1.0, endpoints=frozenset({"submit"}), failing_prompts=None)
    lost = shell(f"rdpipe run {QUOTED} -j 1 --fail-fast", folder, sim)
    assert lost.returncode == 1
    resubmit = f"rdpipe run {QUOTED} --resubmit-unknown"
    assert resubmit in hints(lost), lost.stdout
    sim.faults = Faults()
    status = shell(f"rdpipe status {QUOTED}", folder, sim)
    assert status.returncode == 0, status.stderr
    assert hints(status) == [resubmit], status.stdout
    sim.clear_observations()
    said = run_hint(resubmit, folder, sim)
    assert said.splitlines()[-1].startswith("film: 2 submitted"), said
    assert said.splitlines()[-1].endswith(f"-> {folder}/my films/out/film.mp4"), said


def test_status_online_after_an_offline_run_says_nothing_to_paste_wrong(
    after_offline_run: Path, sim: SimServer
) -> None:
    """Online `status` before any paid run prints only the offline preview's own status
    (tests/cli/test_hints_offline_preview.py pastes it); offline advice never names the
    dashboard or the API key."""
    folder = after_offline_run
    status = shell(f"rdpipe status {QUOTED}", folder, sim)
    assert status.returncode == 0, status.stderr
    assert hints(status) == [f"rdpipe status {QUOTED} --offline"], status.stdout
    assert status.stdout.splitlines()[0] == "film: 8 s to bill on the next run", status.stdout


@pytest.mark.parametrize("verb", sorted(ACCEPTS))
def test_accepts_matches_each_commands_options(verb: str) -> None:
    """ACCEPTS lists, of --offline, --set and --allow-outside-files, exactly those the
    command's own --help offers (in-process: the same typer app the console script runs)."""
    result = CliRunner().invoke(app, [*verb.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    offered = {option for option in (OFFLINE, SET, OUTSIDE) if re.search(
        rf"(^|[\s,]){re.escape(option)}([\s=,]|$)", result.stdout, re.MULTILINE)}  # fmt: skip
    assert offered == set(ACCEPTS[verb]), result.stdout
