"""The account's balance as ``rdpipe balance`` shows it: read from the relay (or the built-in
simulator with ``--offline``), in the account's display currency (relaydance-api.md §11, §13).

The client reads the figures (:meth:`RelayDanceClient.get_balance`) and the display currency
(:meth:`RelayDanceClient.get_currency`); this module puts them together. A display currency
that cannot be read (no ``/api/status``, or yuan without an exchange rate) is no reason to show
no balance, nor to guess its unit: the figures are shown as the relay reported them, with no
currency, and :attr:`AccountBalance.currency_unread` says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdpipe.client import Balance, RelayDanceError
from rdpipe.prices import Currency, CurrencyUnreadable

if TYPE_CHECKING:
    from rdpipe.client import RelayDanceClient
    from rdpipe.client.retry import OnRetry

#: What the offline simulator is called where a host would be named.
OFFLINE_SOURCE = "the offline simulator"
#: The key the offline simulator is asked with (it accepts any).
OFFLINE_KEY = "sk-offline"


@dataclass(frozen=True)
class AccountBalance:
    """The balance, the display ``currency`` it is shown in, and who answered.

    ``host`` is the API's ``host[:port]`` (or "the offline simulator"); ``currency_unread`` the
    reason the display currency could not be read (then ``currency`` is new-api's default,
    unused: amounts are shown as reported, in no named unit), else ``None``.
    """

    balance: Balance
    currency: Currency
    host: str
    currency_unread: str | None = None

    @property
    def remaining_quota(self) -> int | None:
        """The remaining balance in quota units (``None``: unknown or unlimited)."""
        return self.balance.remaining_quota(self.currency)

    @property
    def used_quota(self) -> int | None:
        """What the key has used so far, in quota units (``None``: not reported)."""
        return self.balance.used_quota(self.currency)

    def as_json(self) -> dict[str, Any]:
        """``{"remaining", "used", "currency", "unlimited", "source"}``: amounts in the display
        currency (``currency`` "USD", "CNY" or "TOKENS"; tokens as whole units), ``None``
        when not known (``remaining`` of an unlimited key, ``used`` from ``credits``);
        ``source`` the endpoint that answered (``billing/subscription`` or ``credits``).
        With the currency unread: ``currency`` ``None`` and the amounts as the relay reported
        them."""
        if self.currency_unread is not None:
            return {
                "remaining": self.balance.remaining_usd,
                "used": self.balance.used_usd,
                "currency": None,
                "unlimited": self.balance.unlimited,
                "source": self.balance.source,
            }
        return {
            "remaining": self._amount(self.remaining_quota),
            "used": self._amount(self.used_quota),
            "currency": self.currency.code,
            "unlimited": self.balance.unlimited,
            "source": self.balance.source,
        }

    def lines(self) -> list[str]:
        """The balance in two sentences: the amounts, then which endpoint of which host
        answered. With the currency unread, the figures as reported and no unit named."""
        remaining, used = (
            self._shown(self.remaining_quota, self.balance.remaining_usd),
            self._shown(self.used_quota, self.balance.used_usd),
        )
        spent = f"{used} used so far" if used is not None else None
        if self.balance.unlimited:
            detail = "; ".join(filter(None, ["this key has no quota limit", spent]))
            first = f"Remaining balance: unlimited ({detail})."
        else:
            figure = "not reported" if remaining is None else remaining
            unit = "" if self.currency_unread is None else ", in a unit rdpipe could not read"
            first = f"Remaining balance: {figure}{f' ({spent})' if spent else ''}{unit}."
        where = f"of {self.host}" if self.host == OFFLINE_SOURCE else f"at {self.host}"
        return [first, f"Answered by {self.balance.source} {where}."]

    def _shown(self, quota: int | None, reported: float | None) -> str | None:
        """An amount as :meth:`lines` writes it: in the display currency, or as reported
        (``4.25``) when the currency is unread."""
        if self.currency_unread is not None:
            return None if reported is None else f"{reported:,.2f}"
        return None if quota is None else self.currency.show(quota)

    def _amount(self, quota: int | None) -> float | int | None:
        if quota is None:
            return None
        if self.currency.code == "TOKENS":
            return quota
        return round(self.currency.amount(quota), 6)


async def read_account_balance(client: RelayDanceClient, *, host: str) -> AccountBalance:
    """Ask ``client`` for the balance, then for the display currency.

    Raises what :meth:`RelayDanceClient.get_balance` raises (:class:`BalanceUnavailable` when
    neither way answers); a display currency that cannot be read sets
    :attr:`AccountBalance.currency_unread`. In tokens, a balance at or above the unlimited mark
    is compared like any other (:meth:`Balance.in_unit`).
    """
    balance = await client.get_balance()
    try:
        currency = await client.get_currency()
    except CurrencyUnreadable as error:
        return AccountBalance(balance, Currency(), host, currency_unread=error.why)
    except RelayDanceError as error:
        return AccountBalance(balance, Currency(), host, currency_unread=error.message)
    return AccountBalance(balance.in_unit(currency), currency, host)


def account_balance(
    environ: Mapping[str, str], *, offline: bool, on_retry: OnRetry | None = None
) -> AccountBalance:
    """The balance of the key in ``environ`` (``RELAYDANCE_API_KEY``, ``RELAYDANCE_BASE_URL``),
    or with ``offline``, of a simulator started in this process for the purpose. ``on_retry``
    is told of each retry of a read (``rdpipe -v``)."""
    import anyio

    from rdpipe.client import ApiKey, ClientConfig, RelayDanceClient

    async def online() -> AccountBalance:
        config = ClientConfig.from_environ(environ)
        async with RelayDanceClient(config, on_retry=on_retry) as client:
            return await read_account_balance(client, host=client.api_host)

    async def simulated() -> AccountBalance:
        from rdpipe.sim import SimConfig, Timing, open_simulator

        # Started inside the event loop, where Ctrl-C cancels (as `rdpipe models --offline`).
        async with open_simulator(
            SimConfig(api_key=None, timing=Timing.fast(), environ=environ)
        ) as sim:
            config = ClientConfig(ApiKey(OFFLINE_KEY), sim.base_url)
            async with RelayDanceClient(config) as client:
                return await read_account_balance(client, host=OFFLINE_SOURCE)

    return anyio.run(simulated if offline else online)
