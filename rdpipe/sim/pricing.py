"""The simulated relay's prices and what each task is charged, in quota units.

The simulator plays the relay, so it keeps its own price table (it shares nothing with
:mod:`rdpipe.prices`). It publishes it as new-api does (relaydance-api.md §11): ``GET
/api/pricing`` (:func:`pricing_document`) and the display currency in ``GET /api/status``
(:func:`status_document`). Conversions are new-api's: 1 USD = 500,000 quota units, and model
ratio 1 = 2 USD per million tokens = one quota unit a token.

Prices (group ratio 1):

==============================  =========================================================
model                           price
==============================  =========================================================
doubao-seedance-2-0-480p        tokens, model_ratio 5.0
doubao-seedance-2-0-720p        tokens, model_ratio 10.0
doubao-seedance-2-0-1080p       tokens, model_ratio 22.5
seedance-1-5-pro-with-audio     tokens, model_ratio 8.0
seedance-1-5-pro-no-audio       tokens, model_ratio 4.0
doubao-seedance-1-0-pro         per call, model_price 0.6 USD
doubao-seedance-1-0-lite-i2v    tiered (``billing_mode: tiered_expr``); charged at ratio 1.5
==============================  =========================================================

Charging (§12): tokens = seconds * width * height * 24 / 1024.

- The **pre-charge** (:func:`precharge_quota`), held at submit, is an upper bound: the
  request's ``seconds`` (the model's maximum when it named none), plus 15 s when it has any
  video reference, on its frame (``adaptive``: the largest frame of its resolution).
- The **settled** charge (:func:`settled_quota`) counts the tokens the upstream "used"
  (:func:`used_tokens`): the clip's seconds plus its input video (5 s for each video
  reference, at most 15 s), on the rendered frame, times a factor in [0.80, 0.97] drawn
  from the task id, so it differs from both estimates and never exceeds the pre-charge.
  A model priced per call settles at its price.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from rdpipe.sim.catalog import FPS, MODELS, largest_frame
from rdpipe.sim.validation import Submission

JsonObject = dict[str, Any]

QUOTA_PER_UNIT = 500_000
USD_EXCHANGE_RATE = 7.3
GROUP_RATIO = 1.0
DISPLAY_CURRENCIES = ("USD", "CNY", "TOKENS")
DEFAULT_PRICING_VERSION = "sim-2026-11"
PIXELS_PER_TOKEN = 1024
VIDEO_REFERENCE_SECONDS = 15
INPUT_VIDEO_SECONDS_EACH = 5
SETTLED_FACTOR_RANGE = (0.80, 0.97)
BY_TOKENS = 0
PER_CALL = 1


@dataclass(frozen=True)
class SimPrice:
    """One model's price: by tokens at ``model_ratio``, or ``model_price`` USD a call.

    ``billing_expr`` set: the relay shows a tiered price (the simulator still charges by
    tokens at ``model_ratio``).
    """

    quota_type: int
    model_ratio: float = 0.0
    model_price: float = 0.0
    billing_expr: str | None = None


PRICES: dict[str, SimPrice] = {
    "doubao-seedance-2-0-480p": SimPrice(BY_TOKENS, model_ratio=5.0),
    "doubao-seedance-2-0-720p": SimPrice(BY_TOKENS, model_ratio=10.0),
    "doubao-seedance-2-0-1080p": SimPrice(BY_TOKENS, model_ratio=22.5),
    "seedance-1-5-pro-with-audio": SimPrice(BY_TOKENS, model_ratio=8.0),
    "seedance-1-5-pro-no-audio": SimPrice(BY_TOKENS, model_ratio=4.0),
    "doubao-seedance-1-0-pro": SimPrice(PER_CALL, model_price=0.6),
    "doubao-seedance-1-0-lite-i2v": SimPrice(
        BY_TOKENS,
        model_ratio=1.5,
        billing_expr="tokens * (resolution == '1080p' ? 2.25 : 1.5)",
    ),
}


def precharge_quota(submission: Submission) -> int:
    """The quota units held from the balance when ``submission`` is accepted (an upper bound)."""
    price = PRICES[submission.model.id]
    if price.quota_type == PER_CALL:
        return _per_call(price)
    seconds = submission.seconds if submission.seconds_given else submission.model.max_seconds
    if submission.count("video_url"):
        seconds += VIDEO_REFERENCE_SECONDS
    width, height = (
        largest_frame(submission.resolution)
        if submission.adaptive
        else (submission.width, submission.height)
    )
    per_second = width * height * FPS / PIXELS_PER_TOKEN
    return round(seconds * per_second * (price.model_ratio * GROUP_RATIO))


def used_tokens(submission: Submission, task_id: str) -> int:
    """The tokens the upstream counts for the finished task (its ``usage.total_tokens``)."""
    input_seconds = min(
        submission.count("video_url") * INPUT_VIDEO_SECONDS_EACH, VIDEO_REFERENCE_SECONDS
    )
    seconds = submission.seconds + input_seconds
    tokens = seconds * submission.width * submission.height * FPS / PIXELS_PER_TOKEN
    return round(tokens * settled_factor(task_id))


def settled_quota(submission: Submission, task_id: str) -> int:
    """The quota units a successful task is finally charged (its envelope's ``data.quota``)."""
    price = PRICES[submission.model.id]
    if price.quota_type == PER_CALL:
        return _per_call(price)
    return round(used_tokens(submission, task_id) * price.model_ratio * GROUP_RATIO)


def settled_factor(task_id: str) -> float:
    """A factor in :data:`SETTLED_FACTOR_RANGE`, the same for a task id every time."""
    low, high = SETTLED_FACTOR_RANGE
    digest = hashlib.sha256(task_id.encode()).digest()
    return low + (high - low) * int.from_bytes(digest[:4], "big") / 0xFFFFFFFF


def pricing_document(version: str) -> JsonObject:
    """``GET /api/pricing``: new-api's shape, an item for every simulated model (§11)."""
    items = [_item(model, price) for model, price in PRICES.items() if model in MODELS]
    items[0]["pricing_version"] = version  # new-api also marks its first item
    return {
        "success": True,
        "data": items,
        "vendors": [{"id": 1, "name": "ByteDance"}],
        "group_ratio": {"default": GROUP_RATIO},
        "usable_group": {"default": "default group"},
        "supported_endpoint": {"openai-video": {"path": "/v1/video/generations", "method": "POST"}},
        "auto_groups": [],
        "pricing_version": version,
    }


def status_document(display_currency: str, start_time: int) -> JsonObject:
    """``GET /api/status``: the fields of new-api's that tell the display currency (§11)."""
    data = {
        "version": "v0.0.0-sim",
        "start_time": start_time,
        "system_name": "RelayDance (simulated)",
        "quota_per_unit": QUOTA_PER_UNIT,
        "display_in_currency": display_currency != "TOKENS",
        "quota_display_type": display_currency,
        "usd_exchange_rate": USD_EXCHANGE_RATE,
        "enable_task": True,
    }
    return {"success": True, "message": "", "data": data}


def display_amount(quota: int, display_currency: str) -> float:
    """``quota`` units in the display unit new-api's balance routes use: USD, CNY or tokens."""
    if display_currency == "TOKENS":
        return float(quota)
    usd = quota / QUOTA_PER_UNIT
    return usd * USD_EXCHANGE_RATE if display_currency == "CNY" else usd


def _per_call(price: SimPrice) -> int:
    return round(price.model_price * QUOTA_PER_UNIT * GROUP_RATIO)


def _item(model: str, price: SimPrice) -> JsonObject:
    by_tokens = price.quota_type == BY_TOKENS
    item: JsonObject = {
        "model_name": model,
        "vendor_id": 1,
        "quota_type": price.quota_type,
        "model_ratio": price.model_ratio if by_tokens else 0,
        "model_price": price.model_price,
        "owner_by": "",
        "completion_ratio": 1 if by_tokens else 0,
        "enable_groups": ["default"],
        "supported_endpoint_types": ["openai-video"],
        "wallet_available": True,
        "subscription_available": True,
    }
    if price.billing_expr is not None:
        item["billing_mode"] = "tiered_expr"
        item["billing_expr"] = price.billing_expr
    return item
