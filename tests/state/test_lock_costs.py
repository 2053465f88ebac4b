"""A take's cost in the lock file (version 2): written, read back, and refused when rdpipe would
not have written it; a lock file without costs stays version 1 and old ones still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdpipe.state import (
    LockFile,
    LockFileInvalid,
    ShotLock,
    TakeCost,
    TakeLock,
    _lockfile,
    parse_lock,
    render_lock,
)

PATH = Path("/films/p.rdpipe.lock")
KEY = "0f" * 32
USD = TakeCost("USD", settled=2.1875, quota=1_093_750, quota_per_unit=500_000, expected=2.41)
CNY = TakeCost("CNY", settled=15.96875, quota=1_093_750, quota_per_unit=500_000, rate=7.3)


def _shot(*costs: TakeCost | None) -> ShotLock:
    takes = tuple(
        TakeLock(n, f"task_{n}", f"clips/a/{n}.mp4", f"{n:02d}" * 32, seed=n, duration=5.0, cost=c)
        for n, c in enumerate(costs, start=1)
    )
    return ShotLock("a", KEY, "doubao-seedance-2-0-720p", takes)


GOLDEN = f"""\
# Written by rdpipe: the clips this pipeline produced. Commit it; do not edit it.
version: 2
shots:
- id: a
  key: '{KEY}'
  model: doubao-seedance-2-0-720p
  takes:
  - clip: clips/a/1.mp4
    cost:
      currency: USD
      expected: 2.41
      quota: 1093750
      quota_per_unit: 500000
      settled: 2.1875
    duration: 5.0
    seed: 1
    sha256: '{"01" * 32}'
    take: 1
    task_id: task_1
  - clip: clips/a/2.mp4
    duration: 5.0
    seed: 2
    sha256: '{"02" * 32}'
    take: 2
    task_id: task_2
"""


def test_a_take_with_a_cost_is_written_in_version_2() -> None:
    """The cost is a mapping of the take, keys sorted, a take without one has none, and the
    file says version 2; the text is what PyYAML writes, though written by hand."""
    shot = _shot(USD, None)
    assert render_lock([shot]) == GOLDEN
    entries = [_lockfile._shot_to_data(shot)]
    by_pyyaml = _lockfile._dump({"version": 2}) + _lockfile._dump({"shots": entries})
    assert _lockfile._written_by_hand(entries, 2) == by_pyyaml


def test_costs_read_back_as_written(tmp_path: Path) -> None:
    """Dollars with an estimate, yuan with their rate: a write and a read give the same
    entries, and writing them again changes no byte."""
    lock = LockFile(tmp_path / "p.rdpipe.lock")
    shot = _shot(USD, CNY)
    assert lock.write([shot])
    assert lock.read() == (shot,)
    assert not lock.write(lock.read())
    assert "rate: 7.3" in lock.path.read_text()


def test_a_lock_without_costs_stays_version_1() -> None:
    """No take with a cost: the bytes rdpipe wrote before costs, version 1, which reads back."""
    text = render_lock([_shot(None)])
    assert text.splitlines()[1] == "version: 1"
    assert "cost" not in text
    assert parse_lock(text, PATH) == (_shot(None),)


def test_a_cost_in_a_version_1_file_is_refused() -> None:
    """Costs came with version 2: a version 1 file with one was not written by rdpipe."""
    text = GOLDEN.replace("version: 2", "version: 1")
    with pytest.raises(LockFileInvalid) as caught:
        parse_lock(text, PATH)
    assert str(caught.value).splitlines()[0] == (
        f"{PATH}:9: shots[0].takes[0].cost: unknown field: a take has clip, duration, key, "
        "seed, sha256, take and task_id"
    )


@pytest.mark.parametrize(
    ("written", "replaced", "message"),
    [
        ("      settled: 2.1875\n", "      settled: -1\n",
         "14: shots[0].takes[0].cost.settled: must be an amount, not `-1`"),
        ("      settled: 2.1875\n", "      settled: .nan\n",
         "14: shots[0].takes[0].cost.settled: must be an amount, not `.nan`"),
        ("      quota: 1093750\n", "      quota: 1.5\n",
         "12: shots[0].takes[0].cost.quota: must be a whole number of quota units, not `1.5`"),
        ("      quota_per_unit: 500000\n", "      quota_per_unit: 0\n",
         "13: shots[0].takes[0].cost.quota_per_unit: must be a number above 0, not `0`"),
        ("      currency: USD\n", "",
         "10: shots[0].takes[0].cost: the field `currency` is missing"),
        ("      currency: USD\n", "      currency: USD\n      tax: 1\n",
         "11: shots[0].takes[0].cost.tax: unknown field: a cost has currency, expected, quota, "
         "quota_per_unit, rate and settled"),
        (GOLDEN[GOLDEN.index("    cost:"):GOLDEN.index("    duration")], "    cost: 2.19\n",
         "9: shots[0].takes[0].cost: must be a cost (currency, settled, quota, quota_per_unit), "
         "not `2.19`"),
    ],
)  # fmt: skip
def test_a_bad_cost_is_refused_at_its_line(written: str, replaced: str, message: str) -> None:
    """A cost's figure of the wrong kind, a field missing or unknown, names its line and field."""
    assert written in GOLDEN
    with pytest.raises(LockFileInvalid) as caught:
        parse_lock(GOLDEN.replace(written, replaced, 1), PATH)
    assert str(caught.value).splitlines()[0] == f"{PATH}:{message}"


def test_an_expected_cost_left_empty_reads_as_absent() -> None:
    """``expected: null`` is the estimate not known."""
    shot = parse_lock(GOLDEN.replace("expected: 2.41", "expected: null"), PATH)[0]
    cost = shot.takes[0].cost
    assert cost is not None and (cost.expected, cost.settled) == (None, 2.1875)
