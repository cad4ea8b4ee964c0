"""§S3: conversion to the reporting currency and exact sums."""

from datetime import date
from decimal import Decimal

import pytest

from kam_pipeline.segmentation import line_amounts

from .builder import by_customer, frame


def test_line_amounts_use_the_rate_of_the_invoice_month(data) -> None:
    data.account("X")
    data.sale("X", 100, date(2025, 1, 31), cost=50, currency="USD")
    data.sale("X", 100, date(2025, 2, 1), currency="USD")
    data.sale("X", 70, date(2025, 2, 1), cost=7)
    data.rate("USD", "2025-01", 0.9).rate("USD", "2025-02", 0.8).rate("EUR", "2025-02", 5)
    converted = (
        line_amounts(data.frames()["lines"], frame("fx_rates", data.fx_rates), "EUR")
        .sort("invoice_id")
        .select("net_amount_rc", "cost_amount_rc")
        .collect()
    )
    assert converted.get_column("net_amount_rc").to_list() == [Decimal("90"), Decimal("80"), Decimal("70")]
    assert converted.get_column("cost_amount_rc").to_list() == [Decimal("45"), None, Decimal("7")]


def test_revenue_is_converted_by_invoice_month(data) -> None:
    data.account("X").sale("X", 100, date(2025, 1, 10), currency="USD").sale(
        "X", 100, date(2025, 2, 10), currency="USD"
    )
    data.sale("X", 50).rate("USD", "2025-01", 0.9).rate("USD", "2025-02", 0.8)
    assert by_customer(data.segments(), "revenue_t12m") == {"X": Decimal("220.00")}


def test_amounts_are_summed_exactly_and_rounded_once(data) -> None:
    data.account("X").sale("X", 0.3333).sale("X", 0.3333).sale("X", 0.3333)
    # 0.9999 rounds to 1.00; rounding each line first would give 0.99.
    assert by_customer(data.segments(), "revenue_t12m") == {"X": Decimal("1.00")}


def test_cents_are_rounded_half_to_even(data) -> None:
    data.account("X").sale("X", 0.125).account("Y").sale("Y", 0.135)
    assert by_customer(data.segments(), "revenue_t12m") == {"X": Decimal("0.12"), "Y": Decimal("0.14")}


def test_a_line_without_rate_is_an_error(data) -> None:
    data.account("X").sale("X", 100, date(2025, 3, 10), currency="USD").rate("USD", "2025-02", 0.8)
    with pytest.raises(ValueError, match="no FX rate"):
        data.segments()


def test_opportunities_use_the_latest_rate_at_or_before_the_as_of_month(data) -> None:
    data.account("X").sale("X", 100)
    data.opportunity("X", "OPEN", 1000, date(2025, 9, 1), probability=0.5, currency="USD")
    data.rate("USD", "2025-04", 0.5).rate("USD", "2025-05", 0.6).rate("USD", "2025-07", 0.9)
    assert by_customer(data.segments(), "pipeline_weighted") == {"X": Decimal("300.00")}


def test_an_opportunity_without_rate_before_the_as_of_month_is_an_error(data) -> None:
    data.account("X").sale("X", 100)
    data.opportunity("X", "OPEN", 1000, date(2025, 9, 1), currency="USD").rate("USD", "2025-07", 0.9)
    with pytest.raises(ValueError, match=r"no FX rate at or before 2025-06 .*\(USD\)"):
        data.segments()


def test_irrelevant_opportunities_need_no_rate(data) -> None:
    data.account("X").sale("X", 100)
    data.opportunity("X", "WON", 1000, date(2025, 5, 1), currency="USD")
    assert by_customer(data.segments(), "pipeline_weighted") == {"X": Decimal("0.00")}


def test_amount_times_rate_is_exact_so_lines_and_their_daily_total_agree(data) -> None:
    """0.5 CHF x 0.00000001 twice is 0.00000001, the same as 1.0 CHF converted once (a product
    rounded to 8 decimals would give 0 per line); with EUR 0.005 the customer has 0.01, not 0.00."""
    data.account("X").sale("X", 0.5, date(2025, 6, 5), currency="CHF").sale("X", 0.5, date(2025, 6, 5), currency="CHF")
    data.sale("X", 0.005, date(2025, 6, 5)).rate("CHF", "2025-06", 0.00000001)
    converted = line_amounts(data.frames()["lines"], frame("fx_rates", data.fx_rates), "EUR").collect()
    chf = converted.filter(currency="CHF").get_column("net_amount_rc")
    assert chf.to_list() == [Decimal("0.000000005"), Decimal("0.000000005")]
    assert by_customer(data.segments(), "revenue_t12m") == {"X": Decimal("0.01")}
