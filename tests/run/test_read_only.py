"""A pipeline on a read-only filesystem: `status` and `plan` work, and a command that must write
names the read-only filesystem as the cause, never a "damaged" state file.

The folder is made read-only by a bind mount in a private mount namespace (``unshare -m``), the
way a read-only checkout looks; the test is skipped where that is not allowed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.conftest import pipeline_text, write

_READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && cd "$0" && exec "$@"'


def _read_only(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with ``folder`` mounted read-only for it alone."""
    command = ["unshare", "-m", "sh", "-c", _READ_ONLY, str(folder), *argv]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def read_only_works(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) here")
    probe = _read_only(tmp_path, "touch", "probe")
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot mount a folder read-only here: {probe.stderr.strip()}")


def test_status_works_read_only_and_assemble_names_the_cause(
    tmp_path: Path,
    online: SimServer,
    rdpipe_cli: Callable[..., Result],
    read_only_works: None,
) -> None:
    """On a read-only checkout `status` reads the state (exit 0, every shot cached) and `plan`
    works; `assemble` says the filesystem is read-only, with nothing about a damaged file or
    submitting anew; neither sends a request."""
    path = write(tmp_path / "film.yaml", pipeline_text({"coast": "a coast", "lamp": "a lamp"}))
    assert rdpipe_cli("run", str(path)).exit_code == 0
    online.clear_observations()
    rdpipe = [sys.executable, "-m", "rdpipe"]

    status = _read_only(tmp_path, *rdpipe, "status", "film.yaml", "--json")
    assert status.returncode == 0, status.stderr
    rows = json.loads(status.stdout)["shots"]
    assert [(row["id"], row["status"]) for row in rows] == [("coast", "cached"), ("lamp", "cached")]

    plan = _read_only(tmp_path, *rdpipe, "plan", "film.yaml", "--json")
    assert plan.returncode == 0, plan.stderr

    assemble = _read_only(tmp_path, *rdpipe, "assemble", "film.yaml")
    assert assemble.returncode == 1
    database = tmp_path / ".rdpipe" / "state.db"
    assert assemble.stderr == (
        f"error: Cannot use the run state {database}: it is on a read-only filesystem (unable "
        "to open database file).\nThis command records what it does, so it needs a writable "
        "folder: run it in a writable copy of the pipeline's folder, .rdpipe/ included (so paid "
        "tasks are not submitted again). `rdpipe status film.yaml` works on a read-only "
        "checkout.\n"
    )
    assert online.counters() == {}
