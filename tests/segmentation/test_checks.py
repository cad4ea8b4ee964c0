"""Checks on what BI reads from the segmentation (kam_pipeline.segmentation.checks)."""

from datetime import date
from decimal import Decimal

import polars as pl

from kam_pipeline.segmentation.checks import one_row_per, revenue_reconciles, revenue_shares_sum_to_one, window_revenue
from kam_pipeline.segmentation.unmapped import unmapped_customers
from kam_pipeline.settings import SegmentationSettings

from .builder import AS_OF, Extracts


def _extracts() -> Extracts:
    """Two customers, one in USD, one unmapped ERP customer and a line before the window."""
    data = Extracts().account("X").account("Y").sale("X", 100.005).sale("Y", 50, currency="USD")
    data.rate("USD", "2025-06", 0.9).erp("E-LOOSE", None).sale("LOOSE", 30, erp_customer_id="E-LOOSE")
    return data.sale("X", 1000, date(2024, 6, 30))


def _reconcile(data: Extracts) -> tuple[bool, dict[str, object]]:
    frames, settings = data.frames(), SegmentationSettings()
    unmapped, _ = unmapped_customers(frames["lines"], frames["erp_customers"], frames["fx_rates"], settings, AS_OF)
    expected = window_revenue(frames["lines"], frames["fx_rates"], settings, AS_OF)
    return revenue_reconciles(data.segments(), unmapped, expected)


def test_one_row_per_key_passes_on_unique_keys_and_names_the_duplicates() -> None:
    frame = pl.DataFrame({"customer_id": ["A", "B", "B"], "as_of_date": [date(2025, 6, 30)] * 3})
    assert one_row_per(frame.head(2), ["customer_id", "as_of_date"])[0]
    passed, evidence = one_row_per(frame, ["customer_id", "as_of_date"])
    assert not passed
    assert evidence["duplicated_keys"] == 1
    assert evidence["sample"] == [{"customer_id": "B", "as_of_date": "2025-06-30", "copies": "2"}]


def test_revenue_shares_of_the_segments_sum_to_one() -> None:
    segments = Extracts().account("X").account("Y").account("Z").sale("X", 1).sale("Y", 2).segments()
    passed, evidence = revenue_shares_sum_to_one(segments)
    assert passed
    assert evidence["universe_customers"] == 2


def test_shares_that_do_not_sum_to_one_fail() -> None:
    segments = pl.DataFrame(
        {"revenue_t12m": [Decimal("1.00"), Decimal("2.00")], "revenue_share": [0.5, 0.6]},
        schema={"revenue_t12m": pl.Decimal(18, 2), "revenue_share": pl.Float64},
    )
    passed, evidence = revenue_shares_sum_to_one(segments)
    assert not passed
    assert abs(evidence["share_sum"] - 1.1) < 1e-12


def test_without_revenue_the_shares_are_null_and_the_check_passes() -> None:
    segments = Extracts().account("X").segments()
    assert revenue_shares_sum_to_one(segments)[0]


def test_window_revenue_converts_the_trailing_window_only() -> None:
    frames = _extracts().frames()
    expected = window_revenue(frames["lines"], frames["fx_rates"], SegmentationSettings(), AS_OF)
    assert expected == Decimal("100.005") + Decimal("45") + Decimal("30")


def test_segments_and_unmapped_revenue_reconcile_with_the_accepted_lines() -> None:
    passed, evidence = _reconcile(_extracts())
    assert passed, evidence
    # 100.005 is published as 100.00 (half to even): within the rounding tolerance.
    assert Decimal(evidence["difference"]) == Decimal("-0.005")


def test_revenue_of_an_erp_customer_mapped_to_a_missing_account_breaks_the_reconciliation() -> None:
    data = _extracts().erp("E-GHOST", "NO-SUCH-ACCOUNT").sale("GHOST", 70, erp_customer_id="E-GHOST")
    passed, evidence = _reconcile(data)
    assert not passed
    assert Decimal(evidence["difference"]) == Decimal("-70.005")
