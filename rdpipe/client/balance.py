"""Reading the account's balance from the relay's answers (relaydance-api.md §13).

new-api offers two ways, both with the ``sk-`` key: the OpenAI-style pair
``GET /v1/dashboard/billing/subscription`` (``hard_limit_usd`` = remaining + used) and
``GET /v1/dashboard/billing/usage`` (``total_usage`` = used * 100), and
``GET /v1/credits``, whose ``data.total_usage`` holds the **remaining** amount despite its
name. Their errors come back as HTTP 200 with ``{"error": {"message", "type"}}``, and a key
without a limit reports 100,000,000 (in whatever unit the relay shows: in tokens only that
exact figure is the mark, :meth:`Balance.in_unit`). Pure functions, no I/O.

The ``*_usd`` amounts are in the relay's display unit, as new-api computes them
(``controller/billing.go``): US dollars when it shows dollars, yuan when it shows yuan
(dollars * ``usd_exchange_rate``), raw quota units when it shows tokens; the display currency
of ``GET /api/status`` (:class:`rdpipe.prices.Currency`) turns them back into quota units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from rdpipe.prices import MOST_QUOTA, Currency

#: What new-api reports for a key without a quota limit (relaydance-api.md §13).
UNLIMITED_AMOUNT = 100_000_000

#: The ``source`` of a :class:`Balance`: the endpoint that answered.
SUBSCRIPTION = "billing/subscription"
CREDITS = "credits"


@dataclass(frozen=True)
class Balance:
    """The account's balance as the relay reported it.

    ``remaining_usd`` and ``used_usd`` are in the relay's display unit (US dollars unless the
    relay shows yuan or tokens, see the module); ``None`` when unknown: ``used_usd`` from
    ``/v1/credits`` (which reports only the remaining amount), ``remaining_usd`` for an
    ``unlimited`` key. ``source`` names the endpoint that answered: ``"billing/subscription"``
    (with ``billing/usage``) or ``"credits"``.
    """

    remaining_usd: float | None
    used_usd: float | None
    unlimited: bool
    source: str
    #: The figure read as the 100,000,000 mark (``hard_limit_usd``, or the credits' remaining
    #: amount), kept to be compared after all when the unit turns out to be tokens
    #: (:meth:`in_unit`); ``None`` when not ``unlimited``.
    marker: float | None = None

    def in_unit(self, currency: Currency) -> Balance:
        """This balance read in the display ``currency``: new-api's 100,000,000 mark means
        "no limit" where it would be that many dollars or yuan, but in tokens it is $200 at
        new-api's default rate, a balance like another: there only the mark itself (exactly
        100,000,000) is unlimited, and a larger figure is a balance to compare."""
        if not self.unlimited or self.marker is None or currency.code != "TOKENS":
            return self
        if self.marker == UNLIMITED_AMOUNT:
            return self
        used = self.used_usd or 0.0
        remaining = self.marker - used if self.source == SUBSCRIPTION else self.marker
        return Balance(remaining, self.used_usd, False, self.source)

    def remaining_quota(self, currency: Currency) -> int | None:
        """The remaining balance in quota units, with the relay's display ``currency``;
        ``None`` when unknown or unlimited."""
        return None if self.remaining_usd is None else quota_of_amount(self.remaining_usd, currency)

    def used_quota(self, currency: Currency) -> int | None:
        """What the key has used, in quota units (``None`` when unknown)."""
        return None if self.used_usd is None else quota_of_amount(self.used_usd, currency)


def quota_of_amount(amount: float, currency: Currency) -> int:
    """An amount in the relay's display ``currency`` as quota units, to the nearest unit
    (a balance, where :meth:`Currency.quota_of` rounds a budget down)."""
    units = amount
    if currency.code != "TOKENS":
        units = (
            amount / currency.rate if currency.code == "CNY" else amount
        ) * currency.quota_per_unit
    return round(min(units, MOST_QUOTA)) if math.isfinite(units) else MOST_QUOTA


def hard_limit_of(document: object) -> float | None:
    """``hard_limit_usd`` of a subscription answer (remaining + used), or ``None``."""
    return _amount(document.get("hard_limit_usd")) if isinstance(document, Mapping) else None


def total_usage_of(document: object) -> float | None:
    """``total_usage`` of a usage answer, in hundredths of the display unit, or ``None``."""
    return _amount(document.get("total_usage")) if isinstance(document, Mapping) else None


def credits_remaining_of(document: object) -> float | None:
    """``data.total_usage`` of a ``/v1/credits`` answer (the *remaining* amount), or ``None``."""
    data = document.get("data") if isinstance(document, Mapping) else None
    return _amount(data.get("total_usage")) if isinstance(data, Mapping) else None


def subscription_balance(hard_limit: float, total_usage: float) -> Balance:
    """The balance from ``hard_limit_usd`` and ``total_usage``: remaining = limit - usage/100."""
    used = total_usage / 100
    if is_unlimited(hard_limit):
        return Balance(None, used, True, SUBSCRIPTION, marker=hard_limit)
    return Balance(hard_limit - used, used, False, SUBSCRIPTION)


def credits_balance(remaining: float) -> Balance:
    """The balance from ``/v1/credits``: the remaining amount only."""
    if is_unlimited(remaining):
        return Balance(None, None, True, CREDITS, marker=remaining)
    return Balance(remaining, None, False, CREDITS)


def is_unlimited(amount: float) -> bool:
    """Whether ``amount`` may be new-api's mark of a key without a limit (100,000,000 or
    more, in dollars or yuan; in tokens see :meth:`Balance.in_unit`)."""
    return amount >= UNLIMITED_AMOUNT


def _amount(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
