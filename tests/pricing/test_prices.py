"""The relay's price list and display currency read into values (rdpipe.prices)."""

from __future__ import annotations

import pytest

from rdpipe.prices import (
    MOST_QUOTA,
    QUOTA_PER_TOKEN_AT_RATIO_1,
    Currency,
    CurrencyUnreadable,
    ModelPrice,
    PricingUnreadable,
    ShotCost,
    parse_currency,
    parse_price_book,
)

#: An item as new-api publishes it (relaydance-api.md §11), with the fields rdpipe ignores.
_ITEM = {
    "model_name": "doubao-seedance-2-0-720p",
    "quota_type": 0,
    "model_ratio": 10,
    "model_price": 0,
    "completion_ratio": 1,
    "enable_groups": ["default"],
    "supported_endpoint_types": ["openai-video"],
}


def test_one_token_costs_one_quota_unit_at_ratio_1() -> None:
    assert QUOTA_PER_TOKEN_AT_RATIO_1 == 1.0


def test_a_price_list_reads_into_a_book_with_its_version_and_group_ratio() -> None:
    book = parse_price_book(
        {
            "success": True,
            "data": [
                _ITEM,
                {"model_name": "per-call", "quota_type": 1, "model_price": "0.5"},
                {"model_name": "tiered", "quota_type": 0, "billing_mode": "tiered_expr"},
                {"no_name": True},
                "junk",
            ],
            "group_ratio": {"default": 0.8, "vip": 0.5},
            "pricing_version": "v-42",
        }
    )
    assert book.version == "v-42"
    assert book.group_ratio == 0.8
    assert sorted(book.models) == ["doubao-seedance-2-0-720p", "per-call", "tiered"]
    assert book.get("doubao-seedance-2-0-720p") == ModelPrice(
        "doubao-seedance-2-0-720p", quota_type=0, model_ratio=10.0, model_price=0.0
    )
    assert book.get("per-call") == ModelPrice("per-call", 1, 0.0, 0.5)
    tiered = book.get("tiered")
    assert tiered is not None and tiered.tiered
    assert book.get("missing") is None


def test_a_book_without_version_or_groups_takes_the_defaults() -> None:
    book = parse_price_book({"success": True, "data": [_ITEM]})
    assert (book.version, book.group_ratio) == ("unversioned", 1.0)


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ([], "the answer is not a JSON object"),
        ({"success": False, "message": "pricing disabled"}, "pricing disabled"),
        ({"success": True}, "it has no list of models (data)"),
        ({"success": True, "data": {"a": 1}}, "it has no list of models (data)"),
    ],
)
def test_a_document_that_is_not_a_price_list_is_refused(document: object, why: str) -> None:
    with pytest.raises(PricingUnreadable) as caught:
        parse_price_book(document)
    assert caught.value.message == f"the relay's price list could not be read: {why}"


def test_dollars_show_with_the_unit_the_relay_states() -> None:
    currency = parse_currency(
        {"success": True, "data": {"quota_per_unit": 500000, "quota_display_type": "USD"}}
    )
    assert currency == Currency("USD", 500000.0, 1.0)
    assert currency.show(1_093_750) == "$2.19"
    assert currency.amount(1_093_750) == pytest.approx(2.1875)
    assert currency.quota_of(20) == 10_000_000


def test_yuan_use_the_exchange_rate() -> None:
    currency = parse_currency(
        {
            "data": {
                "quota_per_unit": 500000,
                "display_in_currency": True,
                "quota_display_type": "CNY",
                "usd_exchange_rate": 7.3,
            }
        }
    )
    assert currency == Currency("CNY", 500000.0, 7.3)
    assert currency.show(1_093_750) == "¥15.97"
    assert currency.usd(1_093_750) == pytest.approx(2.1875)
    assert currency.quota_of(7.3) == 500_000


@pytest.mark.parametrize("rate", [None, 0, -7.3, "x", float("inf"), True])
def test_yuan_without_a_usable_rate_cannot_be_read_never_dollars(rate: object) -> None:
    """A yuan figure is 7.3 times a dollar one: taken as dollars it would overstate a balance
    7.3 times. Without the rate the unit is unread, and the caller says so."""
    data: dict[str, object] = {"quota_display_type": "CNY", "quota_per_unit": 500000}
    if rate is not None:
        data["usd_exchange_rate"] = rate
    with pytest.raises(CurrencyUnreadable) as caught:
        parse_currency({"success": True, "data": data})
    assert caught.value.message == (
        "the relay's display currency could not be read: it shows amounts in CNY without a "
        "usable usd_exchange_rate"
    )


def test_raw_tokens_when_the_relay_does_not_display_a_currency() -> None:
    for data in ({"display_in_currency": False}, {"quota_display_type": "TOKENS"}):
        currency = parse_currency({"data": data})
        assert currency.code == "TOKENS"
        assert currency.show(1_093_750) == "1,093,750 tokens"
        assert currency.quota_of(1000) == 1000


@pytest.mark.parametrize("document", [None, {}, {"data": None}, {"data": "x"}])
def test_a_status_without_data_means_new_apis_defaults(document: object) -> None:
    assert parse_currency(document) == Currency("USD", 500_000, 1.0)


def test_a_custom_unit_changes_the_conversion() -> None:
    currency = parse_currency({"data": {"quota_per_unit": 1000, "quota_display_type": "USD"}})
    assert currency.show(2500) == "$2.50"


def test_costs_add_up() -> None:
    assert ShotCost(10, 7) + ShotCost(5, 4) == ShotCost(15, 11)


@pytest.mark.parametrize(
    "figures",
    [
        {"model_ratio": "ten"},
        {"model_ratio": -10},
        {"model_ratio": float("inf")},
        {"model_ratio": float("nan")},
        {"model_ratio": True},
        {"quota_type": 1, "model_price": -0.5},
        {"quota_type": 7, "model_ratio": 10},
        # A missing or zero figure is not a price either: never free (B1 round 18).
        {"quota_type": 0},
        {"quota_type": 0, "model_ratio": None},
        {"quota_type": 0, "model_ratio": 0},
        {"quota_type": 0, "model_price": 0.5},
        {"quota_type": 1, "model_ratio": 10},
        {"quota_type": 1, "model_price": 0},
        {"model_ratio": 10},
        {"quota_type": None, "model_ratio": 10},
    ],
)
def test_a_model_whose_figures_cannot_be_a_price_is_not_priced(figures: dict[str, object]) -> None:
    """Never counted as free: a model the book leaves out is shown in seconds and fails a
    cost budget's check."""
    book = parse_price_book({"success": True, "data": [_ITEM, {"model_name": "odd", **figures}]})
    assert book.get("odd") is None
    assert book.get("doubao-seedance-2-0-720p") is not None


@pytest.mark.parametrize("ratio", [0, -1, "x", float("inf")])
def test_a_group_ratio_that_is_not_positive_makes_the_list_unreadable(ratio: object) -> None:
    with pytest.raises(PricingUnreadable) as caught:
        parse_price_book({"success": True, "data": [_ITEM], "group_ratio": {"default": ratio}})
    assert "its default group ratio is not a positive number" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        {"quota_per_unit": -5, "quota_display_type": "USD"},
        {"quota_per_unit": float("inf")},
        {"quota_per_unit": "many"},
    ],
)
def test_impossible_currency_figures_take_new_apis_defaults(data: dict[str, object]) -> None:
    assert parse_currency({"data": data}) == Currency("USD", 500_000, 1.0)


@pytest.mark.parametrize("amount", [1e308, float("inf")])
def test_a_budget_too_large_to_count_is_the_most_quota(amount: float) -> None:
    assert Currency().quota_of(amount) == MOST_QUOTA
    assert Currency("CNY", 500_000, 7.3).quota_of(amount) == MOST_QUOTA


@pytest.mark.parametrize(
    ("code", "amount", "shown"),
    [("USD", -4.0, "-$4.00"), ("CNY", -29.2, "-¥29.20"), ("USD", -0.001, "$0.00")],
)
def test_a_negative_amount_puts_its_sign_before_the_symbol(
    code: str, amount: float, shown: str
) -> None:
    assert Currency(code, 500_000, 7.3 if code == "CNY" else 1.0).show_amount(amount) == shown


@pytest.mark.parametrize(
    ("amount", "other", "shown"),
    [
        (1.75, 1.749, ("$1.750", "$1.749")),
        (1.75, 1.7496, ("$1.7500", "$1.7496")),
        (2.0, 1.0, ("$2.00", "$1.00")),
        (1.75, 1.75, ("$1.75", "$1.75")),
    ],
)
def test_two_amounts_that_differ_show_apart(
    amount: float, other: float, shown: tuple[str, str]
) -> None:
    assert Currency().show_apart(amount, other) == shown


def test_a_model_listed_twice_at_two_prices_is_not_priced() -> None:
    """The last item once won silently ($17.50 where the first said $1.75)."""
    dearer = {**_ITEM, "model_ratio": 100}
    book = parse_price_book({"success": True, "data": [_ITEM, dearer, {**_ITEM}]})
    assert book.get("doubao-seedance-2-0-720p") is None
    same = parse_price_book({"success": True, "data": [_ITEM, {**_ITEM}]})
    assert same.get("doubao-seedance-2-0-720p") == ModelPrice(
        "doubao-seedance-2-0-720p", 0, 10.0, 0.0
    )


@pytest.mark.parametrize(
    ("version", "shown"),
    [({"a": 1}, "unversioned"), ([1], "unversioned"), (True, "unversioned"), (7, "7"),
     ("a/b", "a/b")],
)  # fmt: skip
def test_a_pricing_version_is_text_or_a_number(version: object, shown: str) -> None:
    book = parse_price_book({"success": True, "data": [_ITEM], "pricing_version": version})
    assert book.version == shown
