"""The relay's prices for one command: read once through the client, and cached by version.

A command that would generate asks the relay (the offline simulator with ``--offline``) for its
price list (``GET /api/pricing``, public) and its display currency (``GET /api/status``), once,
before anything is submitted (relaydance-api.md §11); a run also asks for the account's balance
(§13), which needs the key. rdpipe keeps no price table of its own: what is not read is not
known. A relay that cannot be reached, or whose answer is not a price list, costs a note
(:class:`PricesUnavailable`: "prices could not be read from <host> (<reason>); showing seconds
only"), and the command goes on in seconds.

Each price list read is kept as ``<state dir>/pricing/<host>/<version>.json``, in the shape
the relay publishes it (:func:`rdpipe.prices.parse_price_book` reads it back), written only
when that version is new to the folder; a command that has no state folder yet writes none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdpipe.costs import PlanCosts, plan_costs
from rdpipe.errors import RdpipeError
from rdpipe.files import write_atomically
from rdpipe.plan import Action, Job, Plan
from rdpipe.prices import Currency, PriceBook, PricingUnreadable, ShotCost, parse_price_book
from rdpipe.session.model_check import ModelsReading, ModelsUnavailable, fetch_served_models

if TYPE_CHECKING:
    from rdpipe.client import Balance, RelayDanceClient
    from rdpipe.send_record import SendRecord
    from rdpipe.session.events import AsyncRunner
    from rdpipe.session.settings import RunSettings
    from rdpipe.session.workspace import Workspace

#: How the offline simulator is named where a host would be.
OFFLINE_HOST = "the offline simulator"
#: The folder of the state directory that keeps the price lists read.
PRICING_DIR = "pricing"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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
class Reading:
    """What a command read before it runs: the prices (``None``: not asked for, the plan
    generating nothing), and the balance when asked for (``None``: not asked, as without a key,
    or when the prices were not read)."""

    prices: PriceReading | None
    balance: Balance | BalanceUnread | None = None
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
    (:func:`~rdpipe.session.connections.open_api` with ``reads``), then keep the price list in
    the state folder (:func:`cache_price_book`) if it exists.

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
            if not (balance and keyed and isinstance(prices, Prices)):
                return Reading(prices, models=served)
            return Reading(prices, await fetch_balance(api), served)

    try:
        reading = run_async(read)
    except (RdpipeError, OSError) as error:  # a bad address, a simulator that cannot start
        host, reason = _host_named(settings, environ), _reason(error)
        unread = ModelsUnavailable(host, reason) if models else None
        return Reading(PricesUnavailable(host, reason), models=unread)
    if isinstance(reading.prices, Prices) and workspace.state.state_dir.is_dir():
        cache_price_book(workspace.state.state_dir, reading.prices.host, reading.prices.book)
    return reading


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


def price_book_path(state_dir: Path, host: str, version: str) -> Path:
    """Where the price list ``version`` of ``host`` is kept: ``pricing/<host>/<version>.json``
    (characters a file name cannot hold become ``_``)."""
    return state_dir / PRICING_DIR / _safe(host) / f"{_safe(version)}.json"


def cache_price_book(state_dir: Path, host: str, book: PriceBook) -> Path | None:
    """Keep ``book`` as :func:`price_book_path` names it, unless that file exists; the path,
    or ``None`` when it could not be written (a read-only folder: the cache is not needed)."""
    path = price_book_path(state_dir, host, book.version)
    if path.exists():
        return path
    text = json.dumps(price_book_document(book, host), indent=2, ensure_ascii=False) + "\n"
    try:
        write_atomically(path, text.encode(), durable=False)
    except OSError:
        return None
    return path


def cached_price_book(state_dir: Path, host: str, version: str) -> PriceBook | None:
    """The price list ``version`` of ``host`` kept in ``state_dir``; ``None`` when it is not
    there or not readable."""
    path = price_book_path(state_dir, host, version)
    try:
        return parse_price_book(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, PricingUnreadable):
        return None


def price_book_document(book: PriceBook, host: str) -> dict[str, Any]:
    """``book`` in the shape ``GET /api/pricing`` publishes it (§11), with ``host``."""
    items = []
    for price in book.models.values():
        item: dict[str, Any] = {
            "model_name": price.model,
            "quota_type": price.quota_type,
            "model_ratio": price.model_ratio,
            "model_price": price.model_price,
            "completion_ratio": price.completion_ratio,
        }
        if price.tiered:
            item["billing_mode"] = "tiered"
        items.append(item)
    return {
        "success": True,
        "host": host,
        "pricing_version": book.version,
        "group_ratio": {"default": book.group_ratio},
        "data": items,
    }


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


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._") or "_"


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
