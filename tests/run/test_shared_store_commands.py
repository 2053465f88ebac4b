"""``rdpipe push`` and ``rdpipe pull`` (issue 13 §2), and what a run says when a locked clip
cannot be had anywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.sim import SimServer
from tests.run.conftest import submits
from tests.run.test_reproduce import SHOTS, clone, first_run


def flat(text: str) -> str:
    return " ".join(text.split())


def test_push_without_a_store_says_how_to_set_one(
    tmp_path: Path, rdpipe_cli: Callable[..., Result], monkeypatch: object
) -> None:
    from tests.run.conftest import pipeline_text, write

    path = write(tmp_path / "film.yaml", pipeline_text(SHOTS))
    result = rdpipe_cli("push", str(path))
    assert result.exit_code == 2
    assert flat(result.stderr).startswith(
        "error: rdpipe push: no shared clip store is set for this pipeline"
    )
    assert "--remote URL" in flat(result.stderr) and "rdpipe.toml" in result.stderr


def test_push_then_pull_in_a_clone_then_run_sends_nothing(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Clips made without a store are pushed by ``rdpipe push``; a clone pulls them by the
    lock file (no API request), and its run then sends nothing."""
    store = (tmp_path / "store").as_uri()
    (tmp_path / "store").mkdir()  # a folder store is made once, by hand
    path_a = first_run(tmp_path / "a", rdpipe_cli)
    pushed = rdpipe_cli("push", str(path_a), "--remote", store)
    assert pushed.exit_code == 0, pushed.stderr
    assert pushed.stdout.strip().endswith(f"film: 3 of 3 clips in {store} (3 uploaded)")
    assert len(list((tmp_path / "store" / "clips").glob("*/*.mp4"))) == 3
    path_b = clone(tmp_path / "a", tmp_path / "b")
    online.clear_observations()
    pulled = rdpipe_cli("pull", str(path_b), "--remote", store)
    assert pulled.exit_code == 0, pulled.stderr
    assert "film: 3 clips pulled" in pulled.stdout
    assert online.counters() == {}
    a_clips = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").glob("out/clips/*/*.mp4")
    )
    b_clips = sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").glob("out/clips/*/*.mp4")
    )
    assert a_clips == b_clips and len(b_clips) == 3
    for relative in b_clips:
        assert (tmp_path / "b" / relative).read_bytes() == (tmp_path / "a" / relative).read_bytes()
    run = rdpipe_cli("run", str(path_b), "--json")
    assert run.exit_code == 0, run.stderr
    assert online.counters() == {}


def test_a_locked_clip_found_nowhere_is_generated_saying_why(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """The lock names a task the server no longer has and there is no store: ``status`` says
    where it looked for it, ``pull`` fails naming it, and ``run`` generates it (one POST)
    after saying why."""
    first_run(tmp_path / "a", rdpipe_cli)
    path = clone(tmp_path / "a", tmp_path / "b")
    lock = path.with_name("film.rdpipe.lock")
    text = lock.read_text()
    first_task = text.split("task_id: ")[1].split("\n")[0]
    lock.write_text(text.replace(first_task, "task_gone_from_the_server"))
    status = json.loads(rdpipe_cli("status", str(path), "--json").stdout)
    assert status["billed_seconds"] == 4
    where = [(shot["label"], shot["status"], shot["clip_source"], shot["locked"])
             for shot in status["shots"]]  # fmt: skip
    assert where == [
        ("a", "to generate", None, False),
        ("b", "to restore", "server", True),
        ("c", "to restore", "server", True),
    ]
    assert status["shots"][0]["reason"] == (
        "locked clip unavailable: task task_gone_from_the_server expired on the server; "
        "no shared clip store is set"
    )
    pulled = rdpipe_cli("pull", str(path))
    assert pulled.exit_code == 1
    assert (
        "a: locked clip unavailable: task task_gone_from_the_server expired on the server; "
        "no shared clip store is set"
    ) in flat(pulled.stderr)
    online.clear_observations()
    run = rdpipe_cli("run", str(path), "--json")
    assert run.exit_code == 0, run.stderr
    assert submits(online) == 1
    assert (
        "shot a: locked clip unavailable: task task_gone_from_the_server expired on the server; "
        "no shared clip store is set"
    ) in flat(run.stderr)


def test_status_without_a_key_says_the_server_was_not_asked(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first_run(tmp_path / "a", rdpipe_cli)
    path = clone(tmp_path / "a", tmp_path / "b")
    monkeypatch.delenv("RELAYDANCE_API_KEY")
    online.clear_observations()
    result = rdpipe_cli("status", str(path))
    assert result.exit_code == 0, result.stderr
    assert online.counters() == {}
    assert "film: 0 s to bill on the next run" in result.stdout
    assert result.stdout.count("locked, on the server") == 3
    assert (
        "the server was not asked whether it still has the locked tasks: RELAYDANCE_API_KEY is "
        "not set" in flat(result.stdout)
    )


def test_a_store_that_fails_before_paying_stops_the_run(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    s3_store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bucket that does not exist: the run cannot claim its new shots, so it pays for none
    (exit 1, the store named, --no-remote offered); --no-remote then runs without it."""
    from tests.run.conftest import pipeline_text, write

    path = write(tmp_path / "film.yaml", pipeline_text(SHOTS))
    missing = s3_store_url.replace("s3://", "s3://no-such-bucket-").split("/team")[0] + "/team"
    monkeypatch.setenv("RDPIPE_REMOTE", missing)
    online.clear_observations()
    result = rdpipe_cli("run", str(path))
    assert result.exit_code == 1, result.stdout
    assert submits(online) == 0
    said = flat(result.stderr)
    assert f"error: the shared clip store {missing} could not be used to claim" in said
    assert "nothing was submitted" in said and "--no-remote" in said
    result = rdpipe_cli("run", str(path), "--no-remote", "--json")
    assert result.exit_code == 0, result.stderr
    assert submits(online) == len(SHOTS)


def test_push_names_a_clip_damaged_here_and_fails(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A clip changed on disk is not pushed silently: named, with why, exit 1; the others are."""
    path = first_run(tmp_path, rdpipe_cli)
    damaged = sorted((tmp_path / "out" / "clips" / "a").glob("*.mp4"))[0]
    with damaged.open("ab") as clip:
        clip.write(b"garbage")
    store = (tmp_path / "store").as_uri()
    (tmp_path / "store").mkdir()
    result = rdpipe_cli("push", str(path), "--remote", store)
    assert result.exit_code == 1
    said = flat(result.stderr)
    assert "error: 1 of 3 clips was not pushed: a: task " in said
    assert f"{damaged.relative_to(tmp_path / 'out').as_posix()} has " in said
    assert len(list((tmp_path / "store" / "clips").glob("*/*.mp4"))) == 2


def test_status_shows_shots_another_machine_is_generating_and_clips_never_pushed(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """A live claim on a new shot by another machine: status says who, and does not count it
    as billed (a run waits for it); clips made here before the store was set are counted as
    never pushed, with the command that pushes them."""
    import time

    from rdpipe.remote import open_shared_store

    store = (tmp_path / "store").as_uri()
    (tmp_path / "store").mkdir()
    path = first_run(tmp_path, rdpipe_cli)
    path.write_text(path.read_text().replace("a green field", "a green meadow"))
    plan = json.loads(rdpipe_cli("plan", str(path), "--json").stdout)
    key = next(shot["key"] for shot in plan["shots"] if shot["id"] == "c")
    open_shared_store(store).claim(key, 1, "another-machine", now=time.time(), host="editbay")
    result = rdpipe_cli("status", str(path), "--json", "--remote", store)
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["billed_seconds"] == 0
    c = next(shot for shot in status["shots"] if shot["id"] == "c")
    assert c["status"] == "generating elsewhere"
    assert c["reason"].startswith("the run on editbay claimed it ")
    assert status["notes"] == [
        "2 clips here were never pushed to the shared store from this machine: the next run "
        f"pushes them, or `rdpipe push {path}`"
    ]
