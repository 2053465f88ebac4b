"""The shared store's index entry carries its clip's cost (issue 15), so a teammate who pulls
the clip writes the lock entry the machine that paid for it wrote."""

from __future__ import annotations

import json

from rdpipe.remote import IndexEntry
from rdpipe.state import TakeCost

COST = TakeCost("CNY", 15.96875, 1_093_750, 500_000.0, 17.593, 7.3)
ENTRY = IndexEntry("0f" * 32, 1, "ab" * 32, 9, "task_a", 5, 4.0, "m", "coast", COST)


def test_a_cost_round_trips_and_an_entry_without_one_has_no_cost_key() -> None:
    """The cost is stored and read back whole; an entry without one is stored as before."""
    assert IndexEntry.from_json(ENTRY.to_json()) == ENTRY
    bare = IndexEntry(**{**vars(ENTRY), "cost": None})
    assert "cost" not in json.loads(bare.to_json())
    assert IndexEntry.from_json(bare.to_json()) == bare
    usd = IndexEntry(**{**vars(ENTRY), "cost": TakeCost("USD", 2.1875, 1_093_750, 500_000.0)})
    assert json.loads(usd.to_json())["cost"] == {
        "currency": "USD", "quota": 1_093_750, "quota_per_unit": 500_000.0, "settled": 2.1875,
    }  # fmt: skip
    assert IndexEntry.from_json(usd.to_json()) == usd


def test_a_cost_rdpipe_did_not_write_is_dropped_and_the_clip_kept() -> None:
    """A stored cost of the wrong shape reads as no cost; the entry itself still counts."""
    document = json.loads(ENTRY.to_json())
    for bad in ({"currency": "USD"}, {**document["cost"], "quota": -1},
                {**document["cost"], "settled": "2"}, {**document["cost"], "quota_per_unit": 0},
                {**document["cost"], "rate": -7.3}, [1, 2]):  # fmt: skip
        entry = IndexEntry.from_json(json.dumps({**document, "cost": bad}).encode())
        assert entry is not None and entry.cost is None and entry.task_id == "task_a"
