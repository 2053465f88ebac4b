"""``budget:`` in a file: seconds as before, or ``{seconds, cost}``; one located message for a
bad shape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from rdpipe.model.budget import Budget, cost_of, seconds_of
from rdpipe.prepare.pipeline import prepare_pipeline
from tests.pipeline.requests import HEAD, TAIL

Tree = Callable[[dict[str, object]], Path]
FORMS = "a whole number of seconds (budget: 300) or a mapping (budget: {seconds: 300, cost: 20})"


def _file(budget: str) -> str:
    return HEAD + f"budget: {budget}\nshots:\n  - id: a\n    prompt: x\n"


@pytest.mark.parametrize(
    ("written", "seconds", "cost"),
    [("300", 300, None), ("{cost: 20}", None, 20.0), ("{seconds: 300, cost: 7.5}", 300, 7.5)],
)
def test_a_budget_is_seconds_or_a_mapping_of_seconds_and_cost(
    written: str, seconds: int | None, cost: float | None, make_tree: Tree
) -> None:
    make_tree({"sb.yaml": _file(written)})
    budget = prepare_pipeline(Path("sb.yaml")).loaded.pipeline.budget
    assert (seconds_of(budget), cost_of(budget)) == (seconds, cost)
    assert isinstance(budget, int) == (written == "300")
    assert isinstance(budget, Budget) == (written != "300")


ERRORS = {
    "text": ("'20'", f"sb.yaml:4:9: budget: '20' is not a budget: write {FORMS}"),
    "a fraction of seconds": ("1.5", f"sb.yaml:4:9: budget: 1.5 is not a budget: write {FORMS}"),
    "zero seconds": ("0", "sb.yaml:4:9: budget: 0 is below the minimum of 1 second"),
    "an empty mapping": ("{}", f"sb.yaml:4:9: budget: name seconds, cost or both: write {FORMS}"),
    "a misspelt key": ("{costs: 20}", "sb.yaml:4:10: budget.costs: unknown key 'costs'; did you "
                       "mean 'cost'?"),
    "a currency sign": ("{cost: '$20'}", "sb.yaml:4:16: budget.cost: '$20' is not an amount: "
                        "write it as a number, like 20 or 7.5, with no currency sign (it is in "
                        "the account's display currency)"),
    "no cost": ("{cost: 0}", "sb.yaml:4:16: budget.cost: 0 is not an amount above 0: write a "
                "number, like 20 or 7.5"),
    "below a cent": ("{cost: 1e-12}", "sb.yaml:4:16: budget.cost: 1e-12 is below one cent "
                     "(0.01), too small an amount to show or compare: write a budget of at least "
                     "0.01"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_bad_budget_is_one_located_message(
    case: str, make_tree: Tree, cli: Callable[..., Result]
) -> None:
    written, expected = ERRORS[case]
    make_tree({"sb.yaml": _file(written)})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == "error: " + expected + TAIL


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("0", "0 is not an amount above 0: write a number, like 20 or 7.5"),
        ("-1", "-1 is not an amount above 0: write a number, like 20 or 7.5"),
        ("inf", "inf is not a finite amount: write a number, like 20 or 7.5"),
        ("nan", "nan is not a finite amount: write a number, like 20 or 7.5"),
        ("1e400", "1e400 is not a finite amount: write a number, like 20 or 7.5"),
        ("0.001", "0.001 is below one cent (0.01), too small an amount to show or compare: "
                  "write a budget of at least 0.01"),
        ("1_000", "'1_000' is not an amount: write a number, like 20 or 7.5, with no currency "
                  "sign (it is in the account's display currency)"),
        ("20 USD", "'20 USD' is not an amount: write a number, like 20 or 7.5, with no "
                   "currency sign (it is in the account's display currency)"),
    ],
)  # fmt: skip
def test_max_cost_is_an_amount_of_a_cent_or_more_as_in_the_file(
    given: str, said: str, make_tree: Tree, cli: Callable[..., Result]
) -> None:
    make_tree({"sb.yaml": _file("budget: {cost: 5}")})
    result = cli("run", "sb.yaml", "--offline", "--max-cost", given)
    assert result.exit_code == 2
    assert f"Invalid value for '--max-cost': {said}\n" in result.stderr
