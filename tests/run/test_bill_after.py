"""The bill after (issue 15 §2): after a run against the simulator, the lock file, the manifest
and ``rdpipe cost --json`` hold each task's settled charge, the simulator's ``quota``, in US
dollars (quota / 500,000); a failed task shows as refunded; a rerun that reuses the clips
changes no cost in the lock file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from rdpipe.sim import Faults, SimServer
from rdpipe.state import LockFile
from tests.run.conftest import pipeline_text, submits, write

#: A prompt marker the simulator fails with an input refusal (never retried, refunded).
REFUSED = "REFUSE-ME"
QUOTA_PER_USD = 500_000


def _takes(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {shot["id"]: shot["takes"][0] for shot in manifest["shots"]}


def test_settled_charges_are_recorded_in_the_lock_the_manifest_and_cost(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """Each take's settled charge is the simulator's quota for its task, in dollars; the failed
    shot is refunded (settled 0, its pre-charge back) and has no lock entry; a rerun reuses the
    clips and leaves the lock file's bytes alone."""
    online.faults = Faults(failure_markers={REFUSED: "input_refused"})
    shots = {"a": "a kite", "b": "a boat at dusk", "c": f"a storm {REFUSED}"}
    path = write(tmp_path / "film.yaml", pipeline_text(shots, extra=""))
    first = rdpipe_cli("run", str(path), "--json", "--partial")
    assert first.exit_code == 1, first.stderr
    charges = {charge.task_id: charge for charge in online.charges()}  # the session's sim

    entries = LockFile(tmp_path / "film.rdpipe.lock").read()
    lock = {entry.shot_id: entry.takes[0] for entry in entries}
    assert sorted(lock) == ["a", "b"]
    for take in lock.values():
        charge = charges[take.task_id]
        assert take.cost is not None and charge.settled is not None
        assert charge.settled < charge.precharge  # the simulator settles below the pre-charge
        assert (take.cost.currency, take.cost.quota, take.cost.quota_per_unit) == (
            "USD", charge.settled, QUOTA_PER_USD,
        )  # fmt: skip
        assert take.cost.settled == round(charge.settled / QUOTA_PER_USD, 6)
        assert take.cost.expected is not None and take.cost.expected > 0

    manifest = _takes(json.loads((tmp_path / "out" / "manifest.json").read_text()))
    for shot in ("a", "b"):
        charge = charges[manifest[shot]["task_id"]]
        assert manifest[shot]["settled_quota"] == charge.settled
        assert manifest[shot]["settled_cost"] == round(charge.settled / QUOTA_PER_USD, 6)
        assert manifest[shot]["precharge_quota"] == charge.precharge
        assert (manifest[shot]["currency"], manifest[shot]["refunded"]) == ("USD", False)
    failed = manifest["c"]
    assert charges[failed["task_id"]].refunded
    assert (failed["refunded"], failed["settled_cost"], failed["settled_quota"]) == (True, 0, 0)
    assert failed["precharge_quota"] == charges[failed["task_id"]].precharge

    document = json.loads(rdpipe_cli("cost", str(path), "--json").stdout)
    run = {row["shot"]: row for row in document["last_run"]["takes"]}
    assert len(run) == 3 and all(charges[r["task_id"]].settled is not None for r in run.values())
    assert [run[s]["charge"] for s in "abc"] == ["settled", "settled", "refunded"]
    for shot in "ab":
        assert run[shot]["settled_quota"] == charges[run[shot]["task_id"]].settled
        assert run[shot]["settled"] == manifest[shot]["settled_cost"]
    in_lock = {row["shot"]: row for row in document["lock"]["takes"]}
    assert {s: r["settled_quota"] for s, r in in_lock.items()} == {
        s: lock[s].cost.quota for s in "ab" if lock[s].cost is not None
    }
    totals = document["last_run"]["totals"]
    settled = sum(charges[run[s]["task_id"]].settled or 0 for s in "ab")
    assert (totals["settled_quota"], totals["refunded_quota"]) == (
        settled, charges[run["c"]["task_id"]].precharge,
    )  # fmt: skip

    before = (tmp_path / "film.rdpipe.lock").read_bytes()
    sent = submits(online)
    again = rdpipe_cli("run", str(path), "--json", "--partial")
    assert again.exit_code == 1, again.stderr  # c's input is still refused (not resent)
    assert submits(online) == sent
    assert (tmp_path / "film.rdpipe.lock").read_bytes() == before
    human = rdpipe_cli("cost", str(path))
    assert human.exit_code == 0, human.stderr
    assert all(len(line) <= 80 for line in human.stdout.splitlines())
    assert "refunded" in human.stdout
