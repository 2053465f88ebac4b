"""Recorded submits survive a process killed with SIGKILL the instant a record call returns."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from rdpipe.state import StateStore

KEY = "c0ffee" * 11
_CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from rdpipe.request import GenerationRequest
    from rdpipe.state import StateStore

    store = StateStore.open(Path(sys.argv[1]), pipeline="p", clock=time.time)
    intent = store.record_intent(
        key=sys.argv[2], shot_id="s", take=1, request=GenerationRequest("m", "x", "5")
    )
    if sys.argv[3] == "submitted":
        store.record_submitted(intent, "task_" + "k" * 32)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _record_then_die(database: Path, stage: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(database), KEY, stage],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()


def test_task_recorded_before_kill_is_resumed(tmp_path: Path) -> None:
    """A task id recorded just before SIGKILL is found in flight by the next run, not lost."""
    database = tmp_path / "state.db"
    _record_then_die(database, "submitted")
    with StateStore.open(database, pipeline="p", clock=lambda: 0.0) as store:
        assert store.recover_interrupted() == []
        assert [t.task_id for t in store.in_flight()] == ["task_" + "k" * 32]


def test_intent_recorded_before_kill_is_unknown(tmp_path: Path) -> None:
    """A submit killed between intent and answer is reported as unknown, so it is not resent."""
    database = tmp_path / "state.db"
    _record_then_die(database, "intent")
    with StateStore.open(database, pipeline="p", clock=lambda: 0.0) as store:
        assert [(i.key, i.outcome) for i in store.recover_interrupted()] == [(KEY, "unknown")]
        assert store.in_flight() == []
        assert len(store.lookup(KEY, 1).unknown) == 1
