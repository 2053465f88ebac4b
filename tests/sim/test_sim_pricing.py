"""Prices (issue 15): /api/pricing and /api/status as a client reads them, what a task is
pre-charged and settled at, and ``data.quota`` on the envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from rdpipe.sim import Faults, SimServer
from rdpipe.sim.pricing import precharge_quota, settled_factor, settled_quota, used_tokens
from rdpipe.sim.validation import parse_submission
from tests.sim.own_sim import own_simulator
from tests.sim.simclient import submit, wait_final

#: 480p 16:9 is 864x480: 864 * 480 * 24 / 1024 = 9,720 tokens a second; 4 s at ratio 5.
SMALL_PRECHARGE = 4 * 9_720 * 5


def _item(model: str, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "model_name": model,
        "vendor_id": 1,
        "quota_type": 0,
        "model_ratio": 0,
        "model_price": 0.0,
        "owner_by": "",
        "completion_ratio": 1,
        "enable_groups": ["default"],
        "supported_endpoint_types": ["openai-video"],
        "wallet_available": True,
        "subscription_available": True,
    }
    return {**item, **fields}


def test_pricing_is_public_and_in_new_apis_shape(plain: httpx.Client, sim: SimServer) -> None:
    """GET /api/pricing needs no key; it lists every simulated model with its price, the
    default group's ratio and the list's version (also on the first item, as new-api does)."""
    answer = plain.get(f"{sim.base_url}/api/pricing")
    assert answer.status_code == 200
    document = answer.json()
    items = document.pop("data")
    assert document == {
        "success": True,
        "vendors": [{"id": 1, "name": "ByteDance"}],
        "group_ratio": {"default": 1.0},
        "usable_group": {"default": "default group"},
        "supported_endpoint": {"openai-video": {"path": "/v1/video/generations", "method": "POST"}},
        "auto_groups": [],
        "pricing_version": "sim-2026-11",
    }
    assert items == [
        _item("doubao-seedance-2-0-480p", model_ratio=5.0, pricing_version="sim-2026-11"),
        _item("doubao-seedance-2-0-720p", model_ratio=10.0),
        _item("doubao-seedance-2-0-1080p", model_ratio=22.5),
        _item("seedance-1-5-pro-with-audio", model_ratio=8.0),
        _item("seedance-1-5-pro-no-audio", model_ratio=4.0),
        _item("doubao-seedance-1-0-pro", quota_type=1, model_price=0.6, completion_ratio=0),
        _item(
            "doubao-seedance-1-0-lite-i2v",
            model_ratio=1.5,
            billing_mode="tiered_expr",
            billing_expr="tokens * (resolution == '1080p' ? 2.25 : 1.5)",
        ),
    ]
    assert sim.counters()["GET /api/pricing"] == 1


@pytest.mark.parametrize(
    ("currency", "in_currency"), [("USD", True), ("CNY", True), ("TOKENS", False)]
)
def test_status_names_the_display_currency(
    tmp_path: Path, currency: str, in_currency: bool
) -> None:
    """GET /api/status (no key) gives new-api's currency fields; the version is configurable."""
    with own_simulator(tmp_path, display_currency=currency, pricing_version="v2") as (server, _):
        status = httpx.get(f"{server.base_url}/api/status").json()
        pricing = httpx.get(f"{server.base_url}/api/pricing").json()
    data = status["data"]
    assert (status["success"], status["message"]) == (True, "")
    assert {key: data[key] for key in data if key not in ("start_time",)} == {
        "version": "v0.0.0-sim",
        "system_name": "RelayDance (simulated)",
        "quota_per_unit": 500_000,
        "display_in_currency": in_currency,
        "quota_display_type": currency,
        "usd_exchange_rate": 7.3,
        "enable_task": True,
    }
    assert isinstance(data["start_time"], int)
    assert pricing["pricing_version"] == pricing["data"][0]["pricing_version"] == "v2"


def test_an_unknown_display_currency_is_refused() -> None:
    """SimConfig accepts USD, CNY and TOKENS only."""
    from rdpipe.sim import SimConfig

    with pytest.raises(ValueError, match="display_currency must be one of USD, CNY, TOKENS"):
        SimConfig(display_currency="EUR")


def _submission(model: str, **fields: Any) -> Any:
    body: dict[str, Any] = {"model": model, "prompt": "a kite", **fields}
    return parse_submission(body)


@pytest.mark.parametrize(
    ("model", "fields", "precharge"),
    [
        ("doubao-seedance-2-0-480p", {"seconds": "4"}, SMALL_PRECHARGE),
        # 720p 16:9 is 1280x720: 21,600 tokens a second; no seconds: the model's 15 s.
        ("doubao-seedance-2-0-720p", {}, 15 * 21_600 * 10),
        # Any video reference adds 15 s.
        (
            "doubao-seedance-2-0-720p",
            {
                "seconds": "5",
                "metadata": {
                    "content": [
                        {
                            "type": "video_url",
                            "video_url": {"url": "https://v.test/a.mp4"},
                            "role": "reference_video",
                        }
                    ]
                },
            },
            (5 + 15) * 21_600 * 10,
        ),
        # adaptive: the largest 720p frame, 1680x720 (21:9): 28,350 tokens a second.
        (
            "doubao-seedance-2-0-720p",
            {"seconds": "5", "metadata": {"ratio": "adaptive"}},
            5 * 28_350 * 10,
        ),
        # 1080p 16:9 is 1920x1080: 48,600 tokens a second at ratio 22.5.
        ("doubao-seedance-2-0-1080p", {"seconds": "5"}, 5 * 48_600 * 22.5),
        # Per call: 0.6 USD at 500,000 units a dollar.
        ("doubao-seedance-1-0-pro", {"seconds": "5"}, 300_000),
    ],
)
def test_the_precharge_is_the_formulas_upper_bound(
    model: str, fields: dict[str, Any], precharge: float
) -> None:
    """seconds (the model's maximum when absent) + 15 s with a video reference, on the
    request's frame (adaptive: the largest of its resolution), x ratio (or the call's price)."""
    assert precharge_quota(_submission(model, **fields)) == precharge


def test_the_settled_charge_differs_and_never_exceeds_the_precharge() -> None:
    """Settled = the tokens the upstream used (the clip's seconds plus 5 s a video reference,
    on the rendered frame, x a factor in [0.80, 0.97] from the task id) x ratio."""
    small = _submission("doubao-seedance-2-0-480p", seconds="4")
    factors = [settled_factor(f"task_{n}") for n in range(200)]
    assert all(0.80 <= factor <= 0.97 for factor in factors)
    assert len(set(factors)) == 200
    assert settled_factor("task_1") == factors[1]
    tokens = used_tokens(small, "task_1")
    assert tokens == round(4 * 9_720 * factors[1])
    assert settled_quota(small, "task_1") == tokens * 5
    with_video = _submission(
        "doubao-seedance-2-0-720p",
        seconds="4",
        metadata={"ratio": "adaptive", "content": [
            {"type": "video_url", "video_url": {"url": f"https://v.test/{n}.mp4"}}
            for n in range(3)]},
    )  # fmt: skip
    assert used_tokens(with_video, "task_1") == round((4 + 15) * 21_600 * factors[1])
    for n in range(50):
        settled = settled_quota(small, f"task_{n}")
        assert 0.80 * SMALL_PRECHARGE - 5 <= settled <= 0.97 * SMALL_PRECHARGE + 5
        assert settled_quota(with_video, f"task_{n}") < precharge_quota(with_video)
    per_call = _submission("doubao-seedance-1-0-pro", seconds="5")
    assert settled_quota(per_call, "task_1") == precharge_quota(per_call) == 300_000


def test_the_envelope_carries_the_tasks_charge(api: httpx.Client, sim: SimServer) -> None:
    """data.quota: the pre-charge while the task runs, the settled charge once it succeeded
    (with the upstream's token count in data.data.usage); the video object has none."""
    sim.faults = Faults(extra_unknown=60.0)
    pending = submit(api)
    running = api.get(f"/v1/video/generations/{pending}").json()["data"]
    assert (running["status"], running["quota"]) == ("SUBMITTED", SMALL_PRECHARGE)
    sim.faults = Faults()
    task_id = submit(api)
    wait_final(api, task_id)
    assert "quota" not in api.get(f"/v1/videos/{task_id}").json()
    done = api.get(f"/v1/video/generations/{task_id}").json()["data"]
    tokens = round(4 * 9_720 * settled_factor(task_id))
    assert (done["status"], done["quota"]) == ("SUCCESS", tokens * 5)
    assert done["data"]["usage"] == {"completion_tokens": tokens, "total_tokens": tokens}
    assert done["quota"] < SMALL_PRECHARGE


def test_a_failed_tasks_envelope_charges_nothing(api: httpx.Client, sim: SimServer) -> None:
    """A failure is refunded: data.quota 0."""
    sim.faults = Faults(task_failure_rate=1.0)
    task_id = submit(api)
    wait_final(api, task_id)
    envelope = api.get(f"/v1/video/generations/{task_id}").json()["data"]
    assert (envelope["status"], envelope["quota"]) == ("FAILURE", 0)
