"""The relay's prices and display currency, as values: what a task may cost, in quota units.

RelayDance (new-api) publishes its prices at ``GET /api/pricing`` and its display currency at
``GET /api/status`` (relaydance-api.md §11). rdpipe hard-codes no price: it reads these two
documents and computes with them (:mod:`rdpipe.costs`). Amounts are **quota units** (ints), the
relay's own unit; :class:`Currency` turns them into the account's display currency for showing.
Conversions used by new-api (§11): ratio 1 = 2 USD per million tokens, and 1 USD = 500,000 quota
units, so at ratio 1 one token costs one quota unit. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rdpipe.errors import RdpipeError

#: Quota units per US dollar (new-api's default ``quota_per_unit``; relaydance-api.md §11).
QUOTA_PER_USD = 500_000
#: The price of a million tokens at model ratio 1, in US dollars (relaydance-api.md §11).
USD_PER_MILLION_TOKENS_AT_RATIO_1 = 2.0
#: Quota units one token costs at ratio 1: 2 USD / 1e6 tokens * 500,000 units per USD = 1.
QUOTA_PER_TOKEN_AT_RATIO_1 = USD_PER_MILLION_TOKENS_AT_RATIO_1 * QUOTA_PER_USD / 1_000_000

#: ``quota_type`` values of a pricing item (new-api): priced by tokens, or a fixed price a call.
BY_TOKENS = 0
PER_CALL = 1

#: The most quota units rdpipe counts (2**62): a budget above it is as good as none.
MOST_QUOTA = 2**62

_SYMBOLS = {"USD": "$", "CNY": "¥"}


class PricingUnreadable(RdpipeError):
    """The pricing document is not the shape new-api publishes (§11)."""

    def __init__(self, why: str) -> None:
        super().__init__(f"the relay's price list could not be read: {why}")


class CurrencyUnreadable(RdpipeError):
    """``/api/status`` names a display currency rdpipe cannot convert to: yuan without a
    usable ``usd_exchange_rate``. Amounts in it cannot be read, and are never taken as dollars."""

    def __init__(self, why: str) -> None:
        super().__init__(f"the relay's display currency could not be read: {why}")
        self.why = why


@dataclass(frozen=True)
class ModelPrice:
    """One model's price, as an item of ``GET /api/pricing`` gives it.

    ``quota_type`` 0 (:data:`BY_TOKENS`): quota = tokens * ``model_ratio`` * the group ratio;
    1 (:data:`PER_CALL`): ``model_price`` US dollars a call. ``tiered``: the item carries a
    ``billing_mode``/``billing_expr`` (tiered prices), which rdpipe does not evaluate: such a
    model is shown in seconds only.
    """

    model: str
    quota_type: int
    model_ratio: float
    model_price: float
    completion_ratio: float = 1.0
    tiered: bool = False


@dataclass(frozen=True)
class PriceBook:
    """The relay's price list at one ``pricing_version``; ``group_ratio`` is the default
    group's (a key without a logged-in session sees that one, §11)."""

    version: str
    models: Mapping[str, ModelPrice]
    group_ratio: float = 1.0

    def get(self, model: str) -> ModelPrice | None:
        """The price of ``model``, or ``None`` when the list does not name it."""
        return self.models.get(model)


@dataclass(frozen=True)
class Currency:
    """The account's display currency: ``code`` "USD", "CNY" or "TOKENS" (raw quota units).

    ``quota_per_unit``: quota units per US dollar (``/api/status`` → ``quota_per_unit``);
    ``rate``: units of the display currency per US dollar (``usd_exchange_rate``; 1 for USD).
    """

    code: str = "USD"
    quota_per_unit: float = QUOTA_PER_USD
    rate: float = 1.0

    def usd(self, quota: int) -> float:
        """``quota`` units in US dollars."""
        return quota / self.quota_per_unit

    def amount(self, quota: int) -> float:
        """``quota`` units in the display currency (the units themselves for TOKENS)."""
        if self.code == "TOKENS":
            return float(quota)
        return self.usd(quota) * (self.rate if self.code == "CNY" else 1.0)

    def quota_of(self, amount: float) -> int:
        """The quota units worth ``amount`` of the display currency (a budget), rounded down;
        an amount past :data:`MOST_QUOTA` (or infinite) is that many."""
        units = amount
        if self.code != "TOKENS":
            units = amount / (self.rate if self.code == "CNY" else 1.0) * self.quota_per_unit
        return int(min(units, MOST_QUOTA)) if math.isfinite(units) else MOST_QUOTA

    def show(self, quota: int) -> str:
        """``$2.19``, ``¥15.97`` or ``1,093,750 tokens``."""
        return self.show_amount(self.amount(quota))

    def show_amount(self, amount: float) -> str:
        """An ``amount`` of the display currency as :meth:`show` writes it (a lock file keeps
        amounts, not always their quota)."""
        if self.code == "TOKENS":
            return f"{round(amount):,} tokens"
        return self._money(amount, 2)

    def show_apart(self, amount: float, other: float) -> tuple[str, str]:
        """``amount`` and ``other`` as :meth:`show_amount` writes them, with as many more
        decimals (up to 6) as it takes to tell apart two amounts that differ (``$1.7490`` and
        ``$1.7500``, never "$1.75 above the budget of $1.75")."""
        if self.code == "TOKENS":
            return self.show_amount(amount), self.show_amount(other)
        places = 2
        while places < 6 and f"{amount:.{places}f}" == f"{other:.{places}f}" and amount != other:
            places += 1
        return self._money(amount, places), self._money(other, places)

    def _money(self, amount: float, places: int) -> str:
        """``$1.75``, ``-$4.00``, ``¥15.97`` (never ``-$0.00``)."""
        symbol = _SYMBOLS.get(self.code)
        figure = f"{abs(amount):,.{places}f}"
        sign = "-" if amount < 0 and figure.strip("0.,") else ""
        return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {self.code}"


@dataclass(frozen=True)
class ShotCost:
    """What one generation costs, in quota units: the ``precharge`` the relay holds from the
    balance at submit (an upper bound, §12) and the ``expected`` settled charge."""

    precharge: int
    expected: int

    def __add__(self, other: ShotCost) -> ShotCost:
        return ShotCost(self.precharge + other.precharge, self.expected + other.expected)


def parse_price_book(document: object) -> PriceBook:
    """Read a ``GET /api/pricing`` document (§11) into a :class:`PriceBook`.

    Raises :class:`PricingUnreadable` when it is not ``{"success": true, "data": [...]}``;
    for new-api's HTTP 200 with ``{"error": {"message": ...}}`` it quotes the message.
    Items without a ``model_name`` are skipped; numbers given as strings are accepted; a model
    listed twice at different prices is not priced (which one applies is unknown); a
    ``pricing_version`` that is not text or a whole number is "unversioned".
    """
    if not isinstance(document, Mapping):
        raise PricingUnreadable("the answer is not a JSON object")
    said = error_of(document)
    if said is not None:  # new-api's 200-with-error: the relay's own words
        raise PricingUnreadable(f"the relay answered with an error: {said}")
    if document.get("success") is False:
        raise PricingUnreadable(str(document.get("message") or "the relay answered success: false"))
    items = document.get("data")
    if not isinstance(items, list):
        raise PricingUnreadable("it has no list of models (data)")
    models: dict[str, ModelPrice | None] = {}
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("model_name"), str):
            continue
        name, price = str(item["model_name"]), _model_price(item)
        if name in models and models[name] != price:
            price = None  # listed twice at two prices: which one the relay charges is unknown
        models[name] = price
    groups = document.get("group_ratio")
    group_ratio = _amount(groups.get("default", 1.0)) if isinstance(groups, Mapping) else 1.0
    if not group_ratio:
        raise PricingUnreadable("its default group ratio is not a positive number")
    version = document.get("pricing_version")
    named = isinstance(version, str | int) and not isinstance(version, bool) and version != ""
    return PriceBook(
        version=str(version) if named else "unversioned",
        models={name: price for name, price in models.items() if price is not None},
        group_ratio=group_ratio,
    )


def parse_currency(document: object) -> Currency:
    """Read the display currency from a ``GET /api/status`` document (§11).

    new-api's fields: ``quota_per_unit``, ``display_in_currency``, ``quota_display_type``
    ("USD", "CNY", "TOKENS"...), ``usd_exchange_rate``. What is missing takes new-api's
    defaults (USD, 500,000 units per dollar); a type rdpipe does not know shows as USD.

    Raises :class:`CurrencyUnreadable` for yuan (CNY) without a positive, finite
    ``usd_exchange_rate``: the relay's amounts are then in a unit rdpipe cannot convert.
    """
    data = document.get("data") if isinstance(document, Mapping) else None
    if not isinstance(data, Mapping):
        return Currency()
    per_unit = _amount(data.get("quota_per_unit")) or QUOTA_PER_USD
    kind = str(data.get("quota_display_type") or "USD").upper()
    if data.get("display_in_currency") is False:
        kind = "TOKENS"
    if kind == "CNY":
        rate = _amount(data.get("usd_exchange_rate"))
        if rate:
            return Currency("CNY", per_unit, rate)
        raise CurrencyUnreadable("it shows amounts in CNY without a usable usd_exchange_rate")
    return Currency(kind if kind in ("TOKENS",) else "USD", per_unit, 1.0)


def _model_price(item: Mapping[str, Any]) -> ModelPrice | None:
    """The item's price, or ``None`` when its figures cannot be a price: the figure its
    ``quota_type`` is priced by (``model_ratio`` by tokens, ``model_price`` per call) missing,
    zero, not a number, not finite or negative; ``quota_type`` missing or one new-api does not
    define. Such a model is not priced, never free. A tiered item needs neither figure."""
    quota_type = _amount(item.get("quota_type"))
    tiered = bool(item.get("billing_mode") or item.get("billing_expr"))
    if quota_type not in (BY_TOKENS, PER_CALL):
        return None
    ratio = _amount(item.get("model_ratio"))
    price = _amount(item.get("model_price"))
    needed = ratio if quota_type == BY_TOKENS else price
    if not tiered and not needed:  # missing, unreadable or 0: not a price
        return None
    return ModelPrice(
        model=str(item["model_name"]),
        quota_type=int(quota_type),
        model_ratio=ratio or 0.0,
        model_price=price or 0.0,
        completion_ratio=_amount(item.get("completion_ratio", 1.0)) or 1.0,
        tiered=tiered,
    )


def error_of(document: object) -> str | None:
    """The message of new-api's HTTP 200 with an error (``{"error": {"message": ...}}``, or
    ``{"error": "..."}``), as the price list and the balance routes answer it
    (relaydance-api.md §13); ``None`` when ``document`` carries no error."""
    if not isinstance(document, Mapping):
        return None
    error = document.get("error")
    if isinstance(error, Mapping):
        for field in ("message", "type", "code"):
            said = error.get(field)
            if isinstance(said, str) and said.strip():
                return said.strip()
        return "an error without a message"
    if isinstance(error, str) and error.strip():
        return error.strip()
    return None if error in (None, False, "") else "an error without a message"


def _amount(value: object) -> float | None:
    """A finite, non-negative number (numbers given as strings accepted), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return float(value)
