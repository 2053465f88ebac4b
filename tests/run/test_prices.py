"""The price before (issue 15 §1), through the CLI against the simulator on 127.0.0.1: plan's
per-shot pre-charge and expected cost from the simulator's price list, cost budgets and the
balance refusing a run with exit 2 and no submit, and seconds only when prices cannot be read.

The pipeline: 2 shots of 4 s at 480p 16:9 (864 x 480). Each is 4 * 864 * 480 * 24 / 1024 =
38,880 tokens, at the simulator's model ratio 5.0 for doubao-seedance-2-0-480p: 194,400 quota
units, $0.3888 at 500,000 units a dollar; the two, 388,800 units ($0.78).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from rdpipe.sim import Faults, SimConfig, SimServer, Timing, run_simulator
from rdpipe.sim.pricing import (
    DEFAULT_PRICING_VERSION,
    PRICES,
    QUOTA_PER_UNIT,
    pricing_document,
    status_document,
)
from tests.client.http_fixture import ScriptedServer, serve_script
from tests.run.conftest import SIM_API_KEY, pipeline_text, submits, write

MODEL = "doubao-seedance-2-0-480p"
SHOT_QUOTA = round(4 * 864 * 480 * 24 / 1024 * PRICES[MODEL].model_ratio)  # 194,400
SHOTS = {"a": "one", "b": "two"}


def _film(tmp_path: Path, extra: str = "") -> Path:
    return write(tmp_path / "film.yaml", pipeline_text(SHOTS, extra=extra))


def test_plan_shows_each_shots_precharge_and_expected_cost_from_the_relays_prices(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    path = _film(tmp_path)

    result = rdpipe_cli("plan", str(path), "--json")

    assert result.exit_code == 0, result.stderr
    assert SHOT_QUOTA == 194_400
    plan = json.loads(result.stdout)
    money = ("precharge", "expected_cost", "precharge_quota", "expected_quota")
    per_shot = {"precharge": SHOT_QUOTA / QUOTA_PER_UNIT, "expected_cost": 0.3888,
                "precharge_quota": SHOT_QUOTA, "expected_quota": SHOT_QUOTA}  # fmt: skip
    assert [{k: shot[k] for k in money} for shot in plan["shots"]] == [per_shot, per_shot]
    totals = {k: plan["totals"][k] for k in (*money, "unpriced")}
    assert totals == {"precharge": 0.7776, "expected_cost": 0.7776, "precharge_quota": 388_800,
                      "expected_quota": 388_800, "unpriced": []}  # fmt: skip
    assert (plan["currency"], plan["pricing_version"]) == ("USD", DEFAULT_PRICING_VERSION)
    assert plan["prices"]["host"] == online.base_url.removeprefix("http://")
    assert plan["prices_note"] is None
    # the public reads only, once each; no key needed, nothing submitted
    assert online.counters() == {"GET /api/pricing": 1, "GET /api/status": 1}

    shown = rdpipe_cli("plan", str(path))
    assert shown.stdout.count("cost: expected $0.39, pre-charge $0.39") == 2
    assert re.search(r"total +│ +2 │ +8 │ +\$0\.78 │ +\$0\.78 │", shown.stdout), shown.stdout


@pytest.mark.parametrize(
    ("extra", "option", "source"),
    [("budget: {seconds: 100, cost: 0.5}\n", (), "budget: in film.yaml"),
     ("", ("--max-cost", "0.5"), "--max-cost")],
    ids=["budget-in-the-file", "max-cost"],
)  # fmt: skip
def test_a_cost_budget_below_the_expected_cost_refuses_the_run_before_any_submit(
    online: SimServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    extra: str,
    option: tuple[str, ...],
    source: str,
) -> None:
    _film(tmp_path, extra)
    monkeypatch.chdir(tmp_path)

    result = rdpipe_cli("run", "film.yaml", *option)

    assert result.exit_code == 2
    assert result.stderr == (
        f"error: this run's expected cost is $0.78 (pre-charge $0.78), above the budget of "
        f"$0.50 ({source}); nothing was submitted\nRaise the budget, or run fewer shots "
        "(`rdpipe plan film.yaml` shows what each costs).\n"
    )
    assert submits(online) == 0


@contextmanager
def _own_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **account: Any
) -> Iterator[SimServer]:
    """A simulator of this test's own with the ``account`` settings, as the relay."""
    config = SimConfig(api_key=SIM_API_KEY, timing=Timing.fast(), work_dir=tmp_path / "sim",
                       **account)  # fmt: skip
    with run_simulator(config) as server:
        monkeypatch.setenv("RELAYDANCE_BASE_URL", server.base_url)
        monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
        yield server


@pytest.fixture
def short_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    """A simulator of this test's own whose account holds $0.50."""
    with _own_simulator(tmp_path, monkeypatch, balance_usd=0.5) as server:
        yield server


def test_a_balance_below_the_precharges_refuses_the_run_before_any_submit(
    short_account: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    film = _film(tmp_path)
    result = rdpipe_cli("run", str(film))

    assert result.exit_code == 2
    assert result.stderr == (
        "error: this run's pre-charges come to $0.78, above the balance of $0.50 left on the "
        "account (as billing/subscription reports it): the relay would refuse the submits past "
        "it (insufficient_user_quota); nothing was submitted\nTop up the balance, or run fewer "
        f"shots at a time (`rdpipe plan {film}` shows each shot's pre-charge).\n"
    )
    assert submits(short_account) == 0
    # one shot fits: the run goes on
    one = write(tmp_path / "one" / "film.yaml", pipeline_text({"a": "one"}))
    assert rdpipe_cli("run", str(one)).exit_code == 0
    assert submits(short_account) == 1


def test_a_balance_the_relay_cannot_tell_is_a_note_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rdpipe_cli: Callable[..., Result]
) -> None:
    """The balance routes answer HTTP 200 with an error object (new-api's way)."""
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    with _own_simulator(tmp_path, monkeypatch, balance_error=True) as relay:
        result = rdpipe_cli("run", str(path))
        assert result.exit_code == 0, result.output
        assert submits(relay) == 1
    notes = [line for line in result.stdout.splitlines() if "balance could not be read" in line]
    assert notes == [
        "the balance could not be read (billing/subscription: 获取配额失败; credits: "
        "获取配额失败); the run goes on, and RelayDance refuses a submit the balance cannot "
        "cover (insufficient_user_quota)"
    ]


def test_without_prices_plan_counts_seconds_and_a_cost_budget_refuses(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    online.faults = Faults(server_error_rate=1.0, endpoints=frozenset({"pricing"}))
    path = _film(tmp_path)
    host = online.base_url.removeprefix("http://")

    planned = rdpipe_cli("plan", str(path), "--json")

    assert planned.exit_code == 0, planned.stderr
    note = f"prices could not be read from {host} ("
    assert planned.stderr.startswith(note) and planned.stderr.endswith("; showing seconds only\n")
    plan = json.loads(planned.stdout)
    assert plan["prices"] is None and plan["currency"] is None
    assert plan["prices_note"] == planned.stderr.strip()
    assert [shot["expected_quota"] for shot in plan["shots"]] == [None, None]
    assert plan["totals"]["billed_seconds"] == 8

    refused = rdpipe_cli("run", str(path), "--max-cost", "20")

    assert refused.exit_code == 2
    said = refused.stderr.splitlines()
    assert said[0].startswith(f"error: {note}") and said[0].endswith(
        "), so the cost budget of 20 in the account's display currency (--max-cost) cannot be "
        "checked; nothing was submitted"
    )
    assert said[1] == (
        "Run again when the relay's prices can be read, or set no cost budget to run on the "
        "seconds budget alone."
    )
    assert submits(online) == 0


# A relay whose price list or status is odd: a scripted server on 127.0.0.1 ----------------


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """A scripted relay answering /api/pricing and /api/status as each test says (the
    simulator's documents, altered), and 404 elsewhere: nothing can be submitted to it."""
    for server in serve_script():
        monkeypatch.setenv("RELAYDANCE_BASE_URL", server.base_url)
        monkeypatch.setenv("RELAYDANCE_API_KEY", SIM_API_KEY)
        yield server


def _serve(relay: ScriptedServer, pricing: Any, status: Any | None = None) -> str:
    relay.json("GET", "/api/pricing", 200, pricing)
    relay.json("GET", "/api/status", 200, status or status_document("USD", 0))
    return relay.base_url.removeprefix("http://")


def _altered(**figures: Any) -> dict[str, Any]:
    """The simulator's price list with the 480p item's ``figures`` set (``None``: removed)."""
    document = json.loads(json.dumps(pricing_document(DEFAULT_PRICING_VERSION)))
    (item,) = [each for each in document["data"] if each["model_name"] == MODEL]
    for name, value in figures.items():
        if value is None:
            item.pop(name, None)
        else:
            item[name] = value
    return document


@pytest.mark.parametrize(
    "figures",
    [{"model_ratio": None}, {"model_ratio": 0}, {"model_ratio": 1e300},
     {"quota_type": 1, "model_price": None}, {"quota_type": None}],
    ids=["no-model-ratio", "ratio-0", "ratio-1e300", "per-call-without-price", "no-quota-type"],
)  # fmt: skip
def test_a_price_item_without_a_usable_figure_is_not_priced_never_free(
    relay: ScriptedServer,
    tmp_path: Path,
    rdpipe_cli: Callable[..., Result],
    figures: dict[str, Any],
) -> None:
    """B1 round 18: an item without model_ratio was priced $0.00 and a budget of $0.01 passed."""
    host = _serve(relay, _altered(**figures))
    path = _film(tmp_path)

    planned = rdpipe_cli("plan", str(path), "--json")

    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["totals"]["unpriced"] == [MODEL]
    assert [shot["expected_quota"] for shot in plan["shots"]] == [None, None]
    assert plan["totals"]["expected_quota"] == 0  # the priced shots' sum: none are
    refused = rdpipe_cli("run", str(path), "--max-cost", "0.01")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[0] == (
        f"error: {host}'s price list does not price {MODEL}, so the cost budget of $0.01 "
        "(--max-cost) cannot be checked; nothing was submitted"
    )
    assert relay.count("POST", "/v1/video/generations") == 0


def test_a_huge_group_ratio_is_not_a_price_and_no_crash(
    relay: ScriptedServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """group_ratio 1e308 once crashed plan (OverflowError: cannot convert float infinity)."""
    document = _altered()
    document["group_ratio"] = {"default": 1e308}
    _serve(relay, document)

    planned = rdpipe_cli("plan", str(_film(tmp_path)), "--json")

    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["totals"]["unpriced"] == [MODEL]
    assert plan["totals"]["precharge_quota"] == 0


def test_yuan_without_an_exchange_rate_are_a_note_and_never_dollars(
    relay: ScriptedServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """The status names CNY but gives no usd_exchange_rate: amounts cannot be read."""
    status = status_document("CNY", 0)
    del status["data"]["usd_exchange_rate"]
    host = _serve(relay, _altered(), status)
    path = _film(tmp_path)

    planned = rdpipe_cli("plan", str(path), "--json")

    assert planned.exit_code == 0, planned.output
    assert planned.stderr == (
        f"prices could not be read from {host} (the relay's display currency could not be "
        "read: it shows amounts in CNY without a usable usd_exchange_rate); showing seconds "
        "only\n"
    )
    plan = json.loads(planned.stdout)
    assert (plan["currency"], plan["prices"]) == (None, None)
    refused = rdpipe_cli("run", str(path), "--max-cost", "100")
    assert refused.exit_code == 2
    assert "so the cost budget of 100 in the account's display currency (--max-cost) cannot " in (
        refused.stderr
    )
    assert relay.count("POST", "/v1/video/generations") == 0


def test_a_price_list_answered_200_with_an_error_quotes_the_relay(
    relay: ScriptedServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    host = _serve(relay, {"error": {"message": "invalid token", "type": "new_api_error"}})

    planned = rdpipe_cli("plan", str(_film(tmp_path)))

    assert planned.exit_code == 0, planned.output
    assert planned.stderr == (
        f"prices could not be read from {host} (the relay's price list could not be read: the "
        "relay answered with an error: invalid token); showing seconds only\n"
    )


def test_plan_in_tokens_fits_80_columns_with_the_unit_in_the_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rdpipe_cli: Callable[..., Result]
) -> None:
    """B1 round 18: "19,683,000 tokens" cells squeezed the model column to 5 characters."""
    path = _film(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    with _own_simulator(tmp_path, monkeypatch, display_currency="TOKENS"):
        shown = rdpipe_cli("plan", str(path))
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    start = lines.index("Plan for film, in tokens")
    table = lines[start + 1 : start + 8]
    assert all(len(line) <= 80 for line in table), shown.stdout
    assert table[3].startswith("│ doubao-seedance-") and table[4].startswith("│ 2-0-480p ")
    assert re.search(r"│ doubao-seedance- +│ +2 │ +8 │ +388,800 │ +388,800 │", table[3])
    assert re.search(r"│ total +│ +2 │ +8 │ +388,800 │ +388,800 │", shown.stdout)
    assert not (tmp_path / ".rdpipe" / "pricing").exists()  # the price list is not kept


def test_without_prices_the_run_says_the_balance_was_not_compared(
    online: SimServer, tmp_path: Path, rdpipe_cli: Callable[..., Result]
) -> None:
    """The pre-charges are not known, so the balance cannot be compared with them: a note,
    never silence; the run goes on."""
    online.faults = Faults(server_error_rate=1.0, endpoints=frozenset({"pricing"}))
    path = write(tmp_path / "film.yaml", pipeline_text({"a": "one"}))
    host = online.base_url.removeprefix("http://")

    result = rdpipe_cli("run", str(path))

    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if "not compared" in line]
    assert len(notes) == 1
    assert notes[0].startswith(
        f"the balance was not compared with this run's pre-charges (prices could not be read "
        f"from {host} ("
    )
    assert notes[0].endswith(
        "); the run goes on, and RelayDance refuses a submit the balance cannot cover "
        "(insufficient_user_quota)"
    )
    assert submits(online) == 1
