"""The committed lock file: stable bytes, pipeline order, sorted keys, readable back, no secrets."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rdpipe.request import GenerationRequest
from rdpipe.state import (
    ClipFile,
    LockFile,
    ShotLock,
    StateStore,
    TakeCost,
    TakeLock,
    _lockfile,
    lock_shot,
    parse_lock,
    render_lock,
)

ZETA = ShotLock(
    shot_id="zeta",
    key="9e8d7c6b5a41" + "1" * 52,
    model="doubao-seedance-2-0-720p",
    takes=(
        TakeLock(take=2, task_id="task_b", clip="clips/zeta/2-9e8d7c6b5a41.mp4", sha256="bb" * 32),
        TakeLock(
            take=1,
            task_id="task_a",
            clip="clips/zeta/1-9e8d7c6b5a41.mp4",
            sha256="aa" * 32,
            seed=42,
            duration=5.0,
        ),
    ),
)
ALPHA = ShotLock(
    shot_id="alpha",
    key="0123456789" * 6 + "0123",
    model=None,
    takes=(
        TakeLock(take=1, task_id="task_c", clip="clips/alpha/1-012345678901.mp4", sha256="cc" * 32),
    ),
)

GOLDEN = f"""\
# Written by rdpipe: the clips this pipeline produced. Commit it; do not edit it.
version: 1
shots:
- id: zeta
  key: '{ZETA.key}'
  model: doubao-seedance-2-0-720p
  takes:
  - clip: clips/zeta/1-9e8d7c6b5a41.mp4
    duration: 5.0
    seed: 42
    sha256: '{"aa" * 32}'
    take: 1
    task_id: task_a
  - clip: clips/zeta/2-9e8d7c6b5a41.mp4
    sha256: '{"bb" * 32}'
    take: 2
    task_id: task_b
- id: alpha
  key: '{ALPHA.key}'
  takes:
  - clip: clips/alpha/1-012345678901.mp4
    sha256: '{"cc" * 32}'
    take: 1
    task_id: task_c
"""


def test_lock_text_keeps_pipeline_order_and_sorts_keys() -> None:
    """Shots keep pipeline order, takes go by number, keys are sorted and hashes quoted."""
    assert render_lock([ZETA, ALPHA]) == GOLDEN


def test_rewrite_without_changes_leaves_file_untouched(tmp_path: Path) -> None:
    """Writing the same shots again reports no change and keeps the bytes and mtime."""
    lock = LockFile(tmp_path / "lighthouse.rdpipe.lock")
    assert lock.write([ZETA, ALPHA]) is True
    os.utime(lock.path, (1_000_000, 1_000_000))
    assert lock.write([ZETA, ALPHA]) is False
    assert lock.path.read_text() == GOLDEN
    assert lock.path.stat().st_mtime == 1_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lighthouse.rdpipe.lock"]


def test_changed_shots_replace_the_file(tmp_path: Path) -> None:
    """Writing different shots replaces the file and leaves no temp file behind."""
    lock = LockFile(tmp_path / "lighthouse.rdpipe.lock")
    lock.write([ZETA, ALPHA])
    assert lock.write([ALPHA]) is True
    assert lock.read() == (ALPHA,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lighthouse.rdpipe.lock"]


def test_lock_file_reads_back_what_was_written(tmp_path: Path) -> None:
    """Reading the lock file gives the shots written, in order, with takes sorted by number."""
    lock = LockFile(tmp_path / "p.rdpipe.lock")
    lock.write([ZETA, ALPHA])
    zeta, alpha = lock.read()
    assert (zeta.shot_id, alpha) == ("zeta", ALPHA)
    assert [t.take for t in zeta.takes] == [1, 2]
    assert set(zeta.takes) == set(ZETA.takes)


def test_missing_lock_file_reads_as_empty(tmp_path: Path) -> None:
    """A pipeline that never ran has an empty lock."""
    assert LockFile(tmp_path / "p.rdpipe.lock").read() == ()


_SCALARS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1)


#: Clip paths the reader takes: relative, never climbing out of the output folder.
_CLIPS = _SCALARS.filter(lambda text: not text.startswith("/") and ".." not in text.split("/"))


@settings(max_examples=60, deadline=None)
@given(
    shot_id=_SCALARS,
    task_id=_SCALARS,
    clip=_CLIPS,
    model=_SCALARS | st.none(),
    seed=st.integers() | st.none(),
    duration=st.floats(allow_nan=False, allow_infinity=False) | st.none(),
)
def test_any_strings_round_trip(
    shot_id: str,
    task_id: str,
    clip: str,
    model: str | None,
    seed: int | None,
    duration: float | None,
) -> None:
    """Ids and paths that look like numbers, booleans or YAML syntax survive a write and read
    unchanged (libyaml reads what PyYAML wrote), and so do any seed and any finite duration."""
    take = TakeLock(1, task_id, clip, "00" * 32, seed, duration)
    shot = ShotLock(shot_id, "0f" * 32, model, (take,))
    assert parse_lock(render_lock([shot]), Path("p.rdpipe.lock")) == (shot,)


def test_lock_from_store_has_model_and_no_secrets(
    tmp_path: Path, clock: Callable[[], float]
) -> None:
    """A lock entry built from the state names the model and seed and holds no key or URL token."""
    signed = "https://tos.example.com/out.mp4?X-Tos-Signature=SECRETSIG"
    request = GenerationRequest("seedance-1-5-pro", "p", "5").with_callback(signed)
    key = "f" * 64
    with StateStore.open(tmp_path / "state.db", pipeline="p", clock=clock) as store:
        for take, task_id in [(1, "task_a"), (2, "task_b")]:
            intent = store.record_intent(key=key, shot_id="s", take=take, request=request)
            store.record_submitted(intent, task_id)
            store.record_status(task_id, state="succeeded", seed=take * 10, duration=4.0)
        store.record_clip("task_a", ClipFile(f"clips/s/1-{key[:12]}.mp4", 3, "ab"))
        shot = lock_shot("s", [store.lookup(key, take) for take in (1, 2, 3)])
    assert shot == ShotLock(
        "s",
        key,
        "seedance-1-5-pro",
        (TakeLock(1, "task_a", f"clips/s/1-{key[:12]}.mp4", "ab", 10, 4.0),),
    )
    assert lock_shot("t", []) is None
    text = render_lock([shot])
    assert "SECRETSIG" not in text
    assert "sk-" not in text
    assert "http" not in text


#: Values that test each way YAML may read a word: plain, quoted, escaped, numbers, booleans.
_PLAINLY = ["s0001", "_a/b.c-d", "café", "😀", "a b", "a: b", "#x", "a\nb", ""]
_READ_AS_OTHERS = ["yes", "No", "TRUE", "on", "null", "~", "0123", "-x", ".5", "1e3"]
_WORDS = st.sampled_from([*_PLAINLY, *_READ_AS_OTHERS])
_TEXT = _WORDS | st.text(max_size=12) | st.from_regex(r"[A-Za-z0-9_./+-]{1,12}", fullmatch=True)
_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([4.0, 1e17, -0.0])
_AMOUNTS = _FLOATS | st.integers(0, 10**9)
_COSTS = st.builds(
    TakeCost,
    currency=_TEXT,
    settled=_AMOUNTS,
    quota=st.integers(0, 10**12),
    quota_per_unit=_AMOUNTS,
    expected=_AMOUNTS | st.none(),
    rate=_AMOUNTS | st.none(),
)
_TAKES = st.builds(
    TakeLock,
    take=st.integers(1, 3),
    task_id=_TEXT,
    clip=_TEXT,
    sha256=_TEXT | st.just("ab" * 32),
    seed=st.integers() | st.none(),
    duration=_FLOATS | st.none(),
    cost=_COSTS | st.none(),
)
_SHOTS = st.builds(
    ShotLock,
    shot_id=_TEXT,
    key=_TEXT | st.just("0f" * 32),
    model=_TEXT | st.none(),
    takes=st.lists(_TAKES, min_size=1, max_size=2).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(shots=st.lists(_SHOTS, max_size=3))
def test_lock_written_by_hand_is_what_pyyaml_writes(shots: list[ShotLock]) -> None:
    """The lock text written without PyYAML's emitter has PyYAML's bytes, whatever the values
    (those it cannot write simply go to PyYAML)."""
    entries = [_lockfile._shot_to_data(shot) for shot in shots]
    version = 2 if any(take.cost for shot in shots for take in shot.takes) else 1
    by_pyyaml = _lockfile._dump({"version": version}) + _lockfile._dump({"shots": entries})
    assert render_lock(shots) == _lockfile._HEADER + by_pyyaml


def test_an_ordinary_lock_is_written_by_hand() -> None:
    """rdpipe's own ids, paths, hashes and numbers take the quick path (no PyYAML emitter)."""
    entries = [_lockfile._shot_to_data(ZETA)]
    assert _lockfile._written_by_hand(entries, 1) == render_lock([ZETA]).removeprefix(
        _lockfile._HEADER
    )
