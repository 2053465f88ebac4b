"""Files the environment will not let rdpipe write: one paragraph naming the path, the cause and
what to do; exit 2 if found before anything was sent, else 1; never a crash log.

Full and read-only disks are small tmpfs mounts, so those tests need root (they are skipped
otherwise); a folder in a file's way and a folder without write permission need nothing.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rdpipe.cli import crash
from rdpipe.sim import SimServer
from tests.cli_process import environment, run_rdpipe, write_pipeline

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NOTHING_SENT = "then run the same command again; nothing was sent.\n"
#: After sending, offline (nothing is paid on the built-in simulator).
KEPT_OFFLINE = (
    "then run the same command again: the clips made are kept (nothing is paid offline).\n"
)
# rdpipe's entry point with one planted bug: perform_run fills the disk under .rdpipe/, then
# fails, so the crash log cannot go where it usually goes.
BUG_ON_A_FULL_DISK = """
import sys
import rdpipe.cli.run_commands as commands
def perform_run(prepared, settings, **options):
    try:
        with open(".rdpipe/filler", "wb", buffering=0) as filler:
            while True:
                filler.write(b"x" * 65536)
    except OSError:
        pass
    raise RuntimeError("planted bug")
commands.perform_run = perform_run
sys.argv[0] = "rdpipe"
from rdpipe.entry import main
main()
"""


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Mount a tmpfs of a given size on a folder (root only); everything is unmounted after."""
    mounted: list[Path] = []

    def mount_tmpfs(folder: Path, size: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
        mounted.append(folder)

    if not ROOT:
        pytest.skip("mounting a small disk needs root")
    yield mount_tmpfs
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def _crash_logs(root: Path) -> list[Path]:
    return list(root.rglob("crash-*.log"))


def test_a_folder_where_the_lock_file_goes_stops_the_run_before_anything_is_sent(
    sim: SimServer, tmp_path: Path
) -> None:
    """`film.rdpipe.lock` is a folder: the run used to pay for every shot and then crash writing
    it; now it stops first, with exit 2."""
    project = tmp_path / "project"
    write_pipeline(project)
    (project / "film.rdpipe.lock").mkdir()
    env = environment(
        tmp_path / "cache",
        {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": "sk-sim-test"},
    )
    result = run_rdpipe("run", "film.yaml", cwd=project, env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: rdpipe cannot write {project}/film.rdpipe.lock: a folder is in the way of the "
        f"file. Remove or rename that folder, {NOTHING_SENT}"
    )
    assert sim.counters() == {}
    assert _crash_logs(tmp_path) == []


def test_a_file_where_the_state_folder_goes_stops_an_online_run_before_anything_is_sent(
    sim: SimServer, tmp_path: Path
) -> None:
    """`.rdpipe` is a file: the online run said "FileExistsError ... a bug in rdpipe" (exit 1);
    it now says what the offline run says, exit 2, with nothing sent and no crash log."""
    project = tmp_path / "project"
    write_pipeline(project)
    (project / ".rdpipe").write_text("not a folder", encoding="utf-8")
    env = environment(
        tmp_path / "cache",
        {"RELAYDANCE_BASE_URL": sim.base_url, "RELAYDANCE_API_KEY": "sk-sim-test"},
    )
    for offline in ((), ("--offline",)):
        result = run_rdpipe("run", "film.yaml", *offline, cwd=project, env=env)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == (
            f"error: rdpipe cannot write {project}/.rdpipe: a file is in the way of a folder on "
            "that path. Remove or rename the file that stands where a folder should be, "
            f"{NOTHING_SENT}"
        )
    assert sim.counters() == {}
    assert _crash_logs(tmp_path) == []


def test_a_folder_where_the_manifest_goes_stops_an_offline_run_too(tmp_path: Path) -> None:
    """The same check covers the manifest and the video of an offline preview."""
    write_pipeline(tmp_path)
    (tmp_path / "out" / "offline" / "manifest.json").mkdir(parents=True)
    result = run_rdpipe("run", "film.yaml", "--offline", cwd=tmp_path, env=environment(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"error: rdpipe cannot write {tmp_path}/out/offline/manifest.json: a folder is in the "
        f"way of the file. Remove or rename that folder, {NOTHING_SENT}"
    )


def test_a_file_where_the_state_folder_goes_is_named_with_what_to_do(tmp_path: Path) -> None:
    """`.rdpipe` is a file: ENOTDIR said as such, exit 2, no crash log."""
    write_pipeline(tmp_path)
    (tmp_path / ".rdpipe").write_text("not a folder", encoding="utf-8")
    env = environment(tmp_path / "cache")
    result = run_rdpipe("run", "film.yaml", "--offline", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert re.fullmatch(
        rf"error: rdpipe cannot write {re.escape(str(tmp_path))}/\.rdpipe\S*: "
        r"(a file is in the way of a folder on that path\. Remove or rename the file that "
        r"stands where a folder should be|a folder is in the way of the file\. Remove or "
        rf"rename that folder), {re.escape(NOTHING_SENT)}",
        result.stderr,
    ), result.stderr
    assert _crash_logs(tmp_path) == []


@pytest.mark.skipif(ROOT, reason="root writes through permissions")
def test_a_folder_without_write_permission_is_named_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    """A pipeline folder this user may not write: EACCES, exit 2, no crash log."""
    project = tmp_path / "project"
    write_pipeline(project)
    project.chmod(0o555)
    try:
        result = run_rdpipe(
            "run", "film.yaml", "--offline", cwd=project, env=environment(tmp_path / "cache")
        )
    finally:
        project.chmod(0o755)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: rdpipe cannot write {project}/.rdpipe: permission denied. Make the folder "
        f"writable for this user, {NOTHING_SENT}"
    )
    assert _crash_logs(tmp_path) == []


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (("run", "film.yaml", "--offline"), ".rdpipe"),
        (("pick", "film.yaml", "a", "1"), "film.yaml"),  # not its temporary file's name
        (("schema", "-o", "film.schema.json"), "film.schema.json"),
    ],
)
def test_a_read_only_pipeline_folder_is_named_before_anything_is_sent(
    tmp_path: Path, mount: Callable[..., None], command: tuple[str, ...], path: str
) -> None:
    """The tester's `lighthouse.run.lock ... Read-only file system ... This is a bug`: now one
    paragraph naming the file the user knows, and exit 2, for every command that writes."""
    project = tmp_path / "project"
    mount(project, "1m")
    write_pipeline(project)
    subprocess.run(["mount", "-o", "remount,ro", str(project)], check=True)
    result = run_rdpipe(*command, cwd=project, env=environment(tmp_path / "cache"))
    shown = path if command[0] == "schema" else f"{project}/{path}"  # as typed, or resolved
    assert result.returncode == 2
    assert result.stderr == (
        f"error: rdpipe cannot write {shown}: it is on a read-only file system. Make it "
        f"writable (or move the pipeline to a writable folder), {NOTHING_SENT}"
    )
    assert _crash_logs(tmp_path) == []


def test_a_file_in_the_way_of_the_schema_output_folder_is_one_paragraph(tmp_path: Path) -> None:
    """`schema -o` used to write outside the error mapping: a traceback, now one paragraph."""
    (tmp_path / "schemas").write_text("a file", encoding="utf-8")
    result = run_rdpipe(
        "schema", "-o", "schemas/pipeline.json", cwd=tmp_path, env=environment(tmp_path)
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: rdpipe cannot write schemas/pipeline.json: a file is in the way of a folder on "
        "that path. Remove or rename the file that stands where a folder should be, "
        f"{NOTHING_SENT}"
    )


def test_an_output_disk_that_fills_up_is_named_and_the_rerun_finishes(
    tmp_path: Path, mount: Callable[..., None]
) -> None:
    """Clips fill a 1 MiB output disk: exit 1, the full path and its disk named, no crash log;
    with room again, the same command finishes the video."""
    write_pipeline(tmp_path)
    mount(tmp_path / "out", "1m")
    env = environment(tmp_path / "cache")
    result = run_rdpipe("run", "film.yaml", "--offline", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines(keepends=True)[-1]
    found = re.fullmatch(
        r"error: rdpipe cannot write (\S+): the disk is full\. Free some space on it \(the "
        rf"disk that holds (\S+)\), {re.escape(KEPT_OFFLINE)}",
        last,
    )
    assert found is not None, result.stderr
    assert (
        Path(found[1]).is_relative_to(tmp_path / "out") and Path(found[2]) == Path(found[1]).parent
    )
    assert "This is a bug" not in result.stderr and _crash_logs(tmp_path) == []

    subprocess.run(["mount", "-o", "remount,size=256m", str(tmp_path / "out")], check=True)
    rerun = run_rdpipe("run", "film.yaml", "--offline", cwd=tmp_path, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "out" / "offline" / "film.mp4").is_file()


def test_a_crash_log_that_does_not_fit_goes_to_the_cache_folder_whole(
    tmp_path: Path, mount: Callable[..., None]
) -> None:
    """A bug while .rdpipe/'s disk is full: the log goes to the cache folder, complete, and no
    empty or cut log is left (or named) in .rdpipe/."""
    write_pipeline(tmp_path)
    mount(tmp_path / ".rdpipe", "64k")
    (tmp_path / ".rdpipe" / ".gitignore").write_text("*\n", encoding="utf-8")
    env = environment(tmp_path / "cache")
    result = subprocess.run(
        [sys.executable, "-c", BUG_ON_A_FULL_DISK, "run", "film.yaml", "--offline"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    found = re.search(r"The details are in (\S+); please", result.stderr)
    assert found is not None, result.stderr
    log = Path(found[1])
    assert log.parent == tmp_path / "cache" / "rdpipe"
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and text.endswith(
        "RuntimeError: planted bug\n"
    )
    assert list((tmp_path / ".rdpipe").glob("crash-*")) == []


def test_a_crash_log_cut_short_by_a_full_disk_is_removed_and_written_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log writer never names a file it could not write whole: the first folder's partial
    file is removed and the next folder gets the log."""
    real_fsync = os.fsync
    first, second = tmp_path / "state", tmp_path / "cache"
    first.mkdir()

    def fsync(descriptor: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{descriptor}")).parent == first:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(descriptor)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell which folder a descriptor is in")
    monkeypatch.setattr(os, "fsync", fsync)
    written = crash._write_log("the whole log\n", first, [second])
    assert written is not None and written.parent == second
    assert written.read_text(encoding="utf-8") == "the whole log\n"
    assert list(first.glob("crash-*")) == []
