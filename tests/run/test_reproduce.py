"""The lock file reproduces (issue 13 §1, §3): a clone of the repository rebuilds the video
without paying again, and ``--locked`` never spends."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.conftest import pipeline_text, submits, summary_of, write

SHOTS = {"a": "a red kite over dunes", "b": "a blue boat at dawn", "c": "a green field"}


def frames_and_duration(video: Path) -> tuple[int, float]:
    """The video stream's decoded frame count and the container's duration in seconds."""
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
        assert container.duration is not None
        return frames, container.duration / 1_000_000


def first_run(folder: Path, rdpipe_cli: Callable[..., Result], extra: str = "") -> Path:
    """Run the three-shot pipeline in ``folder`` online; the pipeline's path."""
    path = write(folder / "film.yaml", pipeline_text(SHOTS, extra=extra))
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    return path


def clone(source: Path, target: Path) -> Path:
    """What a teammate's clone holds: the pipeline and its lock file, nothing generated."""
    target.mkdir(parents=True)
    for name in ("film.yaml", "film.rdpipe.lock"):
        shutil.copy2(source / name, target / name)
    return target / "film.yaml"


def test_a_clone_rebuilds_the_video_from_the_server_without_submitting(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """No store: each locked clip is downloaded again by its task id; no POST, the same video,
    and the lock file byte-identical."""
    first_run(tmp_path / "a", rdpipe_cli)
    lock_before = (tmp_path / "a" / "film.rdpipe.lock").read_bytes()
    path = clone(tmp_path / "a", tmp_path / "b")
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert submits(online) == 0
    counters = online.counters()
    assert sum(n for name, n in counters.items() if name.startswith("POST")) == 0, counters
    assert (tmp_path / "b" / "film.rdpipe.lock").read_bytes() == lock_before
    video_a = tmp_path / "a" / "out" / "film.mp4"
    video_b = path.parent / summary_of(result)["output"]
    assert frames_and_duration(video_b) == frames_and_duration(video_a)
    assert "3 clips made before were restored (3 from the server); no charge" in result.stderr + (
        result.stdout
    )
    # And the rerun in the clone sends nothing at all.
    online.clear_observations()
    again = rdpipe_cli("run", str(path), "--json")
    assert again.exit_code == 0, again.stderr
    assert online.counters() == {}


def test_a_deleted_run_state_beside_the_clips_costs_nothing(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """``.rdpipe/`` gone, clips and lock intact: not one request, the lock file unchanged."""
    path = first_run(tmp_path, rdpipe_cli)
    lock = (tmp_path / "film.rdpipe.lock").read_bytes()
    shutil.rmtree(tmp_path / ".rdpipe")
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert online.counters() == {}
    assert (tmp_path / "film.rdpipe.lock").read_bytes() == lock
    assert "3 clips made before were restored (3 from this disk); no charge" in result.stderr


def test_an_empty_run_state_beside_the_clips_costs_nothing(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """The state database emptied (a new one in its place): the same as deleted."""
    path = first_run(tmp_path, rdpipe_cli)
    lock = (tmp_path / "film.rdpipe.lock").read_bytes()
    for database in (tmp_path / ".rdpipe").glob("*.db*"):
        database.unlink()
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert online.counters() == {}
    assert (tmp_path / "film.rdpipe.lock").read_bytes() == lock


def test_locked_after_an_edit_names_the_shot_and_sends_nothing(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """``--locked`` with one prompt edited: exit 2, zero requests, the shot and its seconds."""
    first_run(tmp_path / "a", rdpipe_cli)
    path = clone(tmp_path / "a", tmp_path / "b")
    path.write_text(path.read_text().replace("a blue boat at dawn", "a blue boat at dusk"))
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--locked")
    assert result.exit_code == 2, result.stdout
    assert online.counters() == {}
    assert (
        "error: --locked: 1 shot cannot be built from film.rdpipe.lock: b (4 s) changed since "
        "the lock file was written. A run without --locked would bill 4 s of generation for it; "
        "nothing was submitted"
    ) in " ".join(result.stderr.split())


def test_locked_builds_from_the_lock_without_a_submit(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """``--locked`` in a clone: the clips come from the server by task id; no POST."""
    first_run(tmp_path / "a", rdpipe_cli)
    path = clone(tmp_path / "a", tmp_path / "b")
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--locked", "--json")
    assert result.exit_code == 0, result.stderr
    assert submits(online) == 0
    assert (path.parent / summary_of(result)["output"]).is_file()


def test_locked_with_a_shot_missing_from_the_lock(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A shot added after the lock was written is not in it: named, exit 2, nothing sent."""
    first_run(tmp_path, rdpipe_cli)
    path = tmp_path / "film.yaml"
    path.write_text(pipeline_text({**SHOTS, "d": "a white lighthouse"}))
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--locked")
    assert result.exit_code == 2
    assert online.counters() == {}
    assert "d (4 s) is not in the lock file" in " ".join(result.stderr.split())


@pytest.mark.parametrize("other", ["--offline", "--force=a"])
def test_locked_refuses_options_that_contradict_it(
    tmp_path: Path, rdpipe_cli: Callable[..., Result], other: str
) -> None:
    path = write(tmp_path / "film.yaml", pipeline_text(SHOTS))
    result = rdpipe_cli("run", str(path), "--locked", other)
    assert result.exit_code == 2
    assert "--locked" in result.stderr and other.split("=")[0] in result.stderr


def test_a_clone_with_the_shared_store_sends_not_one_request(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result], s3_store_url: str
) -> None:
    """Issue 13's acceptance: A runs against an S3 store (moto's server); B, a clone holding
    only the pipeline and its lock file, with the store set in ``rdpipe.toml``, makes zero
    requests to the API (no POST, no poll), builds a video of A's frames and duration, and
    leaves the lock file byte-identical."""
    a = tmp_path / "a"
    path_a = write(a / "film.yaml", pipeline_text(SHOTS))
    result = rdpipe_cli("run", str(path_a), "--json", "--remote", s3_store_url)
    assert result.exit_code == 0, result.stderr
    lock = (a / "film.rdpipe.lock").read_bytes()
    path = clone(a, tmp_path / "b")
    (tmp_path / "b" / "rdpipe.toml").write_text(f'[remote]\nurl = "{s3_store_url}"\n')
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert online.counters() == {}
    assert "3 clips made before were restored (3 from the shared store); no charge" in result.stderr
    assert "uploaded" not in result.stderr  # they came from the store: nothing to send back
    assert (tmp_path / "b" / "film.rdpipe.lock").read_bytes() == lock
    video_b = path.parent / summary_of(result)["output"]
    assert frames_and_duration(video_b) == frames_and_duration(a / "out" / "film.mp4")


def test_clips_made_before_the_store_was_set_are_pushed_by_the_next_run(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    s3_store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run without a store, then one with it (RDPIPE_REMOTE): the second pushes the three
    clips without a request to the API; a clone then restores them from the store."""
    path_a = first_run(tmp_path / "a", rdpipe_cli)
    monkeypatch.setenv("RDPIPE_REMOTE", s3_store_url)
    online.clear_observations()
    result = rdpipe_cli("run", str(path_a), "--json")
    assert result.exit_code == 0, result.stderr
    assert "3 clips uploaded to the shared store" in result.stderr
    assert online.counters() == {}
    path = clone(tmp_path / "a", tmp_path / "b")
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert online.counters() == {}


def test_two_machines_starting_the_same_new_shot_pay_once(
    online: SimServer, tmp_path: Path, s3_store_url: str
) -> None:
    """Two processes (two teammates' clones) run the same new pipeline at once against one
    store: the claims let exactly one submit per shot through; both end with every clip and
    a video."""
    import subprocess

    from tests.cli_process import environment, rdpipe_command

    env = environment(
        tmp_path / "cache",
        {
            "RELAYDANCE_BASE_URL": online.base_url,
            "RELAYDANCE_API_KEY": "sk-sim-test",
            "RDPIPE_REMOTE": s3_store_url,
        },
    )
    paths = [write(tmp_path / name / "film.yaml", pipeline_text(SHOTS)) for name in "ab"]
    processes = [
        subprocess.Popen(
            [*rdpipe_command("run", str(path), "--json"), "--poll-interval", "0.1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in paths
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    assert submits(online) == len(SHOTS)
    # One run waited for the other's clips (or, if it started after they were in the store,
    # simply restored them): never both.
    waited = [stderr for _, stderr in outputs if "waiting for its clip" in stderr]
    assert len(waited) <= 1, outputs
    for path, (stdout, _) in zip(paths, outputs, strict=True):
        summary = summary_of_text(stdout)
        assert (path.parent / str(summary["output"])).is_file()
        assert (path.parent / "film.rdpipe.lock").is_file()
    locks = [(path.parent / "film.rdpipe.lock").read_bytes() for path in paths]
    assert locks[0] == locks[1]


def summary_of_text(stdout: str) -> dict[str, object]:
    import json

    parsed: dict[str, object] = json.loads(stdout.strip().splitlines()[-1])
    return parsed


def test_plan_says_what_the_next_run_does_with_each_shot(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """``plan`` reads what is stored, as ``status`` does: a clone restores every shot from its
    lock (0 s to bill), the machine that ran reuses them; an edited shot is the one to pay.
    Of the server, only the plan with a shot to generate asks anything: the public prices."""
    import json

    first_run(tmp_path / "a", rdpipe_cli)
    path = clone(tmp_path / "a", tmp_path / "b")
    path.write_text(path.read_text().replace("a green field", "a green meadow"))
    online.clear_observations()
    clone_plan = json.loads(rdpipe_cli("plan", str(path), "--json").stdout)
    ran_plan = json.loads(rdpipe_cli("plan", str(tmp_path / "a" / "film.yaml"), "--json").stdout)
    assert online.counters() == {"GET /api/pricing": 1, "GET /api/status": 1}
    assert [shot["action"] for shot in clone_plan["shots"]] == ["restore", "restore", "generate"]
    assert clone_plan["totals"]["billed_seconds"] == 4
    assert [shot["action"] for shot in ran_plan["shots"]] == ["reuse"] * 3
    assert ran_plan["totals"]["billed_seconds"] == 0


def test_a_run_taking_over_a_stopped_runs_claim_follows_its_paid_task(
    online: SimServer, tmp_path: Path
) -> None:
    """Machine A claims and submits the shots, then dies (kill -9) before they finish; machine
    B, with the same store, waits for A's claims to go stale (claim_timeout = 5), takes them
    over and follows A's paid tasks: no POST beyond A's, and B ends with every clip."""
    import signal
    import subprocess
    import time

    from tests.cli_process import environment, rdpipe_command

    store = tmp_path / "store"
    store.mkdir()
    env = environment(
        tmp_path / "cache",
        {"RELAYDANCE_BASE_URL": online.base_url, "RELAYDANCE_API_KEY": "sk-sim-test"},
    )
    paths = []
    for name in "ab":
        paths.append(write(tmp_path / name / "film.yaml", pipeline_text(SHOTS)))
        (tmp_path / name / "rdpipe.toml").write_text(
            f'[remote]\nurl = "{store.as_uri()}"\nclaim_timeout = 5\n'
        )
    # A polls only after 60 s: its tasks are submitted, then it is killed before it polls.
    a = subprocess.Popen(
        [*rdpipe_command("run", str(paths[0])), "--poll-interval", "60"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while submits(online) < len(SHOTS) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the claims note the task ids right after each submit is recorded
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=10)
    assert submits(online) == len(SHOTS)
    b = subprocess.run(
        [*rdpipe_command("run", str(paths[1]), "--json"), "--poll-interval", "0.1"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert b.returncode == 0, b.stderr
    assert submits(online) == len(SHOTS)  # B paid for nothing
    assert b.stderr.count("the run that claimed it before stopped or gave it up; following") == 3
    assert (paths[1].parent / str(summary_of_text(b.stdout)["output"])).is_file()


def test_a_bad_lock_file_stops_a_run_before_its_first_request(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A merge left the lock file conflicted; the state knows every shot, and --force asks for
    a new take of one: the lock file is read before anything is sent, exit 2, no request."""
    path = first_run(tmp_path, rdpipe_cli)
    lock = tmp_path / "film.rdpipe.lock"
    lines = lock.read_text().splitlines(keepends=True)
    lock.write_text("".join([*lines[:3], "<<<<<<< HEAD\n", *lines[3:], ">>>>>>> theirs\n"]))
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--force", "a")
    assert result.exit_code == 2, result.stdout
    assert online.counters() == {}
    assert "unresolved git merge conflict" in " ".join(result.stderr.split())


def test_the_committed_lock_wins_over_a_failed_attempt_and_older_clips_here(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """B ran the same pipeline on its own: shot a failed there, b and c made other clips. Then
    A's lock file arrives (a pull): B's run pays for nothing, takes A's clips (the lock names
    tasks B never knew: a teammate's takes, committed) and leaves A's lock byte-identical."""
    from rdpipe.sim import Faults

    first_run(tmp_path / "a", rdpipe_cli)
    lock = (tmp_path / "a" / "film.rdpipe.lock").read_bytes()
    online.faults = Faults(task_failure_rate=1.0, failing_prompts="a red kite")
    path = write(tmp_path / "b" / "film.yaml", pipeline_text(SHOTS))
    failed = rdpipe_cli("run", str(path), "--json")
    assert failed.exit_code == 1
    online.faults = Faults()
    (tmp_path / "b" / "film.rdpipe.lock").write_bytes(lock)
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert submits(online) == 0
    assert (tmp_path / "b" / "film.rdpipe.lock").read_bytes() == lock


def test_locked_when_a_locked_clip_cannot_be_had_exits_2_after_free_requests(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A clone whose lock names a task the server no longer has, and no store: --locked asks
    the server (free GETs), then stops with exit 2 naming the shot and why; no POST."""
    first_run(tmp_path / "a", rdpipe_cli)
    path = clone(tmp_path / "a", tmp_path / "b")
    lock = path.with_name("film.rdpipe.lock")
    task = lock.read_text().split("task_id: ")[1].split("\n")[0]
    lock.write_text(lock.read_text().replace(task, "task_gone_from_the_server"))
    online.clear_observations()
    result = rdpipe_cli("run", str(path), "--locked")
    assert result.exit_code == 2, result.stdout
    assert submits(online) == 0
    said = " ".join(result.stderr.split())
    assert (
        "error: --locked: 1 shot cannot be built from film.rdpipe.lock: a (4 s): locked clip "
        "unavailable: task task_gone_from_the_server expired on the server; no shared clip store "
        "is set. A run without --locked would bill 4 s of generation for it; nothing was "
        "submitted"
    ) in said
    assert "set up the team's shared clip store" in said


def test_a_failed_run_after_an_edit_keeps_the_lock_and_status_says_what_changed(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edited shot whose new clip could not be made (a wrong key) keeps the clips last made
    for it in the lock file, byte for byte; status says the shot changed since the lock file;
    undoing the edit costs nothing."""
    import json

    path = first_run(tmp_path, rdpipe_cli)
    lock = (tmp_path / "film.rdpipe.lock").read_bytes()
    original = path.read_text()
    path.write_text(original.replace("a blue boat at dawn", "a blue boat at dusk"))
    status = json.loads(rdpipe_cli("status", str(path), "--json").stdout)
    b = next(shot for shot in status["shots"] if shot["id"] == "b")
    assert b["reason"] == "changed since the lock file was written; no clip for this request yet"
    monkeypatch.setenv("RELAYDANCE_API_KEY", "sk-wrong-key")
    failed = rdpipe_cli("run", str(path))
    assert failed.exit_code != 0
    assert (tmp_path / "film.rdpipe.lock").read_bytes() == lock
    path.write_text(original)
    monkeypatch.setenv("RELAYDANCE_API_KEY", "sk-sim-test")
    online.clear_observations()
    again = rdpipe_cli("run", str(path))
    assert again.exit_code == 0, again.stderr
    assert submits(online) == 0
    assert (tmp_path / "film.rdpipe.lock").read_bytes() == lock
