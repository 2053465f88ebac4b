"""The relay's prices for one command: read once through the client, never kept on disk.

A command that would generate asks the relay (the offline simulator with ``--offline``) for its
price list (``GET /api/pricing``, public) and its display currency (``GET /api/status``), once,
before anything is submitted (relaydance-api.md §11); a run also asks for the account's balance
(§13), which needs the key. rdpipe keeps no price table of its own: what is not read is not
known. A relay that cannot be reached, or whose answer is not a price list, costs a note
(:class:`PricesUnavailable`: "prices could not be read from <host> (<reason>); showing seconds
only"), and the command goes on in seconds.

The price list is not kept on disk: the version comes with the list, so a copy kept by version
could never spare the read, and a relay may change a ratio without changing its version (a
kept copy would then be stale). What a run was priced at is in its state: each submit keeps its
estimate and the display currency the run saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rdpipe.costs import PlanCosts, plan_costs
from rdpipe.errors import RdpipeError
from rdpipe.plan import Action, Job, Plan
from rdpipe.prices import Currency, PriceBook, ShotCost
from rdpipe.session.model_check import ModelsReading, ModelsUnavailable, fetch_served_models

if TYPE_CHECKING:
    from rdpipe.client import Balance, RelayDanceClient
    from rdpipe.send_record import SendRecord
    from rdpipe.session.events import AsyncRunner
    from rdpipe.session.settings import RunSettings
    from rdpipe.session.workspace import Workspace

#: How the offline simulator is named where a host would be.
OFFLINE_HOST = "the offline simulator"


@dataclass(frozen=True)
class Prices:
    """The price list and display currency ``host`` published, read for this command."""

    host: str
    book: PriceBook
    currency: Currency

    def costs(self, plan: Plan) -> PlanCosts:
        """Each job's estimate and the totals of the jobs to generate (:mod:`rdpipe.costs`)."""
        return plan_costs(plan, self.book)


@dataclass(frozen=True)
class PricesUnavailable:
    """The prices could not be read from ``host``; ``reason`` says why (one clause)."""

    host: str
    reason: str

    @property
    def unread(self) -> str:
        """``prices could not be read from <host> (<reason>)``."""
        return f"prices could not be read from {self.host} ({self.reason})"

    @property
    def message(self) -> str:
        """The note: :attr:`unread`, and that seconds are shown instead."""
        return f"{self.unread}; showing seconds only"


PriceReading = Prices | PricesUnavailable


@dataclass(frozen=True)
class BalanceUnread:
    """The account's balance could not be read; ``reason`` says why (one clause)."""

    reason: str


@dataclass(frozen=True)
class BalanceUncompared:
    """The balance was not asked for: the run's pre-charges are not known (the prices, or the
    currency they are shown in, could not be read), so it could not be compared with them;
    ``reason`` says why (one clause)."""

    reason: str


@dataclass(frozen=True)
class Reading:
    """What a command read before it runs: the prices (``None``: not asked for, the plan
    generating nothing), and the balance when asked for (``None``: not asked, as without a key,
    or when the prices were not read)."""

    prices: PriceReading | None
    balance: Balance | BalanceUnread | BalanceUncompared | None = None
    #: The server's model list when asked for (``None``: not asked, as offline).
    models: ModelsReading | None = None


def read_prices(
    settings: RunSettings,
    workspace: Workspace,
    environ: Mapping[str, str],
    *,
    sends: SendRecord,
    run_async: AsyncRunner,
    balance: bool = False,
    models: bool = False,
) -> Reading:
    """Read the relay's prices (and, with ``balance``, the account's balance: only with a key,
    or offline; with ``models``, the server's model list,
    :func:`~rdpipe.session.model_check.fetch_served_models`) through one client for the
    command's reads
    (:func:`~rdpipe.session.connections.open_api` with ``reads``).

    Never raises for the relay: an error reading it is a :class:`PricesUnavailable` (the
    prices) or a :class:`BalanceUnread` (the balance). A bad ``RELAYDANCE_BASE_URL`` is
    one too (the command that sends says so itself).
    """
    from rdpipe.redaction import KEY_VARIABLE
    from rdpipe.session.connections import open_api

    keyed = settings.offline or bool(environ.get(KEY_VARIABLE, "").strip())

    async def read() -> Reading:
        async with open_api(settings, workspace, environ, sends=sends, reads=True) as api:
            host = OFFLINE_HOST if settings.offline else api.api_host
            served = await fetch_served_models(api, host) if models else None
            prices = await fetch_prices(api, host)
            if balance and keyed and isinstance(prices, PricesUnavailable):
                return Reading(prices, BalanceUncompared(prices.unread), served)
            if not (balance and keyed and isinstance(prices, Prices)):
                return Reading(prices, models=served)
            return Reading(prices, await fetch_balance(api), served)

    try:
        return run_async(read)
    except (RdpipeError, OSError) as error:  # a bad address, a simulator that cannot start
        host, reason = _host_named(settings, environ), _reason(error)
        unread = ModelsUnavailable(host, reason) if models else None
        return Reading(PricesUnavailable(host, reason), models=unread)


async def fetch_prices(api: RelayDanceClient, host: str) -> PriceReading:
    """The price list and display currency from ``api`` (``host`` names it in a note)."""
    try:
        book = await api.get_price_book()
        currency = await api.get_currency()
    except RdpipeError as error:  # the client's errors, PricingUnreadable
        return PricesUnavailable(host, _reason(error))
    return Prices(host, book, currency)


async def fetch_balance(api: RelayDanceClient) -> Balance | BalanceUnread:
    """The account's balance from ``api``; why not, when it cannot tell."""
    from rdpipe.client import BalanceUnavailable

    try:
        return await api.get_balance()
    except BalanceUnavailable as error:  # what each endpoint said
        return BalanceUnread("; ".join(f"{where}: {why}" for where, why in error.failures))
    except RdpipeError as error:  # a refused key, no connection
        return BalanceUnread(_reason(error))


def priced(plan: Plan, prices: PriceReading | None) -> Plan:
    """``plan`` with each job's :attr:`~rdpipe.plan.Job.cost` from ``prices`` (the journal
    records it with the submit); ``plan`` itself when the prices were not read."""
    if not isinstance(prices, Prices):
        return plan
    costs = prices.costs(plan)
    return replace(plan, jobs=[job.with_cost(costs.of(job.shot.label)) for job in plan.jobs])


def _host_named(settings: RunSettings, environ: Mapping[str, str]) -> str:
    """The host a note names when no client could be made: the address as set."""
    if settings.offline:
        return OFFLINE_HOST
    from rdpipe.client.config import BASE_URL_VARIABLE, DEFAULT_BASE_URL

    return environ.get(BASE_URL_VARIABLE, "").strip() or DEFAULT_BASE_URL


def _reason(error: RdpipeError | OSError) -> str:
    """An error as one clause: its message without the hint, or the trailing full stop."""
    said = error.message if isinstance(error, RdpipeError) else str(error)
    said = said.removesuffix("; nothing was sent.").rstrip(".")
    return said or "no reason given"


@dataclass(frozen=True)
class PlanMoney:
    """A plan's costs at the relay's prices, as ``plan`` shows them: what each job to generate
    will cost, by model, and in total (quota units, and amounts in the display currency)."""

    prices: Prices
    costs: PlanCosts

    @classmethod
    def of(cls, plan: Plan, prices: Prices) -> PlanMoney:
        return cls(prices, prices.costs(plan))

    def billed(self, job: Job) -> ShotCost | None:
        """What ``job`` costs this run: its estimate when it generates and is priced."""
        return self.costs.of(job.shot.label) if job.action is Action.GENERATE else None

    def by_model(self, plan: Plan) -> dict[str, ShotCost | None]:
        """The cost of the jobs to generate per model; ``None`` for a model not priced."""
        totals: dict[str, ShotCost | None] = {}
        for job in plan.jobs:
            if job.action is not Action.GENERATE:
                continue
            model, cost = job.shot.model, self.billed(job)
            before = totals.get(model, ShotCost(0, 0))
            totals[model] = None if cost is None or before is None else before + cost
        return totals

    def show(self, quota: int) -> str:
        """``quota`` units in the display currency (``$2.16``)."""
        return self.prices.currency.show(quota)

    def cell(self, quota: int) -> str:
        """``quota`` as a table cell: :meth:`show`, but tokens bare (``19,683,000``), the
        table's title naming the unit (:attr:`unit_title`), so a cell fits 80 columns."""
        currency = self.prices.currency
        return f"{quota:,}" if currency.code == "TOKENS" else currency.show(quota)

    @property
    def unit_title(self) -> str:
        """What a table title adds when its cells are bare tokens: ``, in tokens``, else ``""``."""
        return ", in tokens" if self.prices.currency.code == "TOKENS" else ""

    def amounts(self, cost: ShotCost | None) -> dict[str, float | int | None]:
        """``precharge`` and ``expected_cost`` (display currency), ``precharge_quota`` and
        ``expected_quota`` (quota units) of ``cost``; all ``None`` without one."""
        if cost is None:
            return dict.fromkeys(("precharge", "expected_cost", "precharge_quota",
                                  "expected_quota"))  # fmt: skip
        return {
            "precharge": self.amount(cost.precharge),
            "expected_cost": self.amount(cost.expected),
            "precharge_quota": cost.precharge,
            "expected_quota": cost.expected,
        }

    def amount(self, quota: int) -> float | int:
        """``quota`` in the display currency, as JSON gives it: tokens whole, money to 1e-6."""
        currency = self.prices.currency
        return quota if currency.code == "TOKENS" else round(currency.amount(quota), 6)

    def to_json(self) -> dict[str, Any]:
        """Where the prices come from: host, version, currency and its conversion."""
        currency = self.prices.currency
        return {
            "host": self.prices.host,
            "version": self.prices.book.version,
            "currency": currency.code,
            "quota_per_unit": currency.quota_per_unit,
            "usd_exchange_rate": currency.rate,
        }
