"""Eligibility rules and their boundaries (docs/methodology.md §K3)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.eligibility import eligibility
from kam_pipeline.settings import KamSettings


def _eligibility(segments: pl.DataFrame, settings: KamSettings) -> dict[str, tuple[bool, str | None]]:
    result = eligibility(segments, settings)
    return {r["customer_id"]: (r["eligible"], r["ineligible_reason"]) for r in result.iter_rows(named=True)}


def test_margin_at_the_minimum_is_eligible_just_below_is_not(make_segments, settings: KamSettings) -> None:
    segments = make_segments(
        dict(customer_id="AT", margin_pct=0.10, margin_coverage=0.8),
        dict(customer_id="BELOW", margin_pct=0.0999, margin_coverage=0.8),
    )

    result = _eligibility(segments, settings)

    assert result["AT"] == (True, None)
    assert result["BELOW"] == (False, "margin 9.99 % below the 10.00 % minimum (cost known for 80.00 % of revenue)")


def test_margin_is_judged_only_from_the_minimum_coverage(make_segments, settings: KamSettings) -> None:
    segments = make_segments(
        dict(customer_id="COVERED", margin_pct=0.05, margin_coverage=0.50),
        dict(customer_id="THIN", margin_pct=0.05, margin_coverage=0.49),
    )

    result = _eligibility(segments, settings)

    assert result["COVERED"][0] is False
    assert result["THIN"] == (True, None)


def test_a_class_or_high_potential_is_required(make_segments, settings: KamSettings) -> None:
    segments = make_segments(
        dict(customer_id="A_LOW", abc_class="A", potential_class="LOW"),
        dict(customer_id="C_HIGH", abc_class="C", potential_class="HIGH"),
        dict(customer_id="B_MEDIUM", abc_class="B", potential_class="MEDIUM"),
    )

    result = _eligibility(segments, settings)

    assert result["A_LOW"][0] is True
    assert result["C_HIGH"][0] is True
    assert result["B_MEDIUM"] == (
        False,
        "neither A-class (class B, 10.00 % of revenue) nor HIGH potential (potential MEDIUM, value 100000.00)",
    )


def test_strategic_industries_restrict_eligibility_only_when_listed(make_segments) -> None:
    segments = make_segments(
        dict(customer_id="CHEM", industry="Chemicals"),
        dict(customer_id="RETAIL", industry="Retail"),
    )

    restricted = _eligibility(segments, KamSettings(strategic_industries=("Chemicals", "Automotive")))
    open_to_all = _eligibility(segments, KamSettings())

    assert restricted["CHEM"] == (True, None)
    assert restricted["RETAIL"] == (False, "industry Retail is not strategic (Chemicals, Automotive)")
    assert open_to_all["RETAIL"] == (True, None)


def test_every_failed_rule_is_listed(make_segments, settings: KamSettings) -> None:
    segments = make_segments(
        dict(customer_id="POOR", margin_pct=0.05, margin_coverage=1.0, abc_class="C", potential_class="LOW"),
        dict(customer_id="NO_REVENUE", revenue_t12m=0, margin_pct=None, margin_coverage=0.0, abc_class="N"),
    )

    result = _eligibility(segments, settings)

    assert result["POOR"] == (
        False,
        "margin 5.00 % below the 10.00 % minimum (cost known for 100.00 % of revenue); "
        "neither A-class (class C, 10.00 % of revenue) nor HIGH potential (potential LOW, value 100000.00)",
    )
    assert result["NO_REVENUE"][0] is False
    assert result["NO_REVENUE"][1].startswith("no revenue in the trailing window (revenue_t12m 0.00)")
