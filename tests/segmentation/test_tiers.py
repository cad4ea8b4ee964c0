"""§S10: tiers, at-risk flag and tier reason."""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.segmentation.tiers import at_risk, tier

from .builder import IN_PRIOR, by_customer


@pytest.mark.parametrize(
    ("abc", "potential", "expected", "last_invoice"),
    [
        ("A", "HIGH", "STRATEGIC", date(2025, 6, 1)),
        ("A", "MEDIUM", "STRATEGIC", date(2025, 6, 1)),
        ("A", "LOW", "CORE", date(2025, 6, 1)),
        ("A", "UNKNOWN", "CORE", date(2025, 6, 1)),
        ("B", "HIGH", "DEVELOP", date(2025, 6, 1)),
        ("C", "HIGH", "DEVELOP", date(2025, 6, 1)),
        ("B", "MEDIUM", "MAINTAIN", date(2025, 6, 1)),
        ("B", "LOW", "MAINTAIN", date(2025, 6, 1)),
        ("B", "UNKNOWN", "MAINTAIN", date(2025, 6, 1)),
        ("C", "MEDIUM", "SERVE_EFFICIENTLY", date(2025, 6, 1)),
        ("C", "LOW", "SERVE_EFFICIENTLY", date(2025, 6, 1)),
        ("C", "UNKNOWN", "SERVE_EFFICIENTLY", date(2025, 6, 1)),
        ("N", "HIGH", "LAPSED", date(2023, 1, 15)),
        ("N", "UNKNOWN", "LAPSED", date(2024, 6, 30)),
        ("N", "HIGH", "PROSPECT", None),
        ("N", "UNKNOWN", "PROSPECT", None),
    ],
)
def test_tier(abc: str, potential: str, expected: str, last_invoice: date | None) -> None:
    frame = pl.DataFrame(
        {"segment_class": [abc], "potential_class": [potential], "last_invoice_date": [last_invoice]},
        schema_overrides={"last_invoice_date": pl.Date},
    )
    assert frame.select(tier()).item() == expected


@pytest.mark.parametrize(
    ("abc", "threat", "expected"),
    [("A", "HIGH", True), ("B", "HIGH", True), ("C", "HIGH", False), ("N", "HIGH", False), ("A", "MEDIUM", False)],
)
def test_at_risk(abc: str, threat: str, expected: bool) -> None:
    assert pl.DataFrame({"segment_class": [abc], "threat_level": [threat]}).select(at_risk()).item() is expected


def test_tier_reason_states_the_figures(data) -> None:
    data.account("BIG", wallet=2_000_000, position=4).sale("BIG", 600_000).sale("BIG", 1_000_000, IN_PRIOR)
    data.account("SMALL").sale("SMALL", 150_000).opportunity("SMALL", "OPEN", 20_000, date(2025, 9, 1))
    data.account("GONE").sale("GONE", 100, IN_PRIOR)
    reasons = by_customer(data.segments(), "tier_reason")
    assert reasons == {
        "BIG": "A customer (80.0 % of revenue, top 80 %); potential HIGH (headroom EUR 1.4 m from CRM wallet); "
        "threats: DECLINING (HIGH, at risk)",
        "SMALL": "B customer (20.0 % of revenue, next 15 %); potential LOW (weighted pipeline EUR 20.0 k); no threats",
        "GONE": "N customer (no positive revenue in the last 12 months: EUR 0; last invoice 2024-03-15); "
        "potential UNKNOWN (no wallet and no material pipeline; counted as LOW); threats: DECLINING (HIGH)",
    }


def test_tier_reason_names_a_wallet_below_revenue_and_a_prospect(data) -> None:
    data.account("OVER", employees=4).sale("OVER", 2_000)  # benchmark wallet 4 x 400 (Manufacturing) = 1 600
    data.account("NEVER")
    reasons = by_customer(data.segments(), "tier_reason")
    assert reasons["OVER"] == (
        "A customer (100.0 % of revenue, top 80 %); potential UNKNOWN (revenue above the benchmark wallet of "
        "EUR 1.6 k; counted as LOW); no threats"
    )
    assert reasons["NEVER"].startswith("N customer (no positive revenue in the last 12 months: EUR 0; never invoiced)")


def test_with_the_margin_basis_the_margin_class_drives_the_tier(data) -> None:
    # revenue A: BIG 900 (margin 10), MID 100 (margin 90); by margin MID is A and BIG crosses 80 % second
    data.account("BIG").sale("BIG", 900, cost=890).account("MID").sale("MID", 100, cost=10)
    data.account("NOMARGIN").sale("NOMARGIN", 1, cost=5)
    by_revenue = data.segments()
    by_margin = data.segments(basis="margin")
    assert by_customer(by_revenue, "segment_class") == {"BIG": "A", "MID": "B", "NOMARGIN": "C"}
    assert by_customer(by_margin, "segment_class") == {"BIG": "B", "MID": "A", "NOMARGIN": "C"}
    assert by_customer(by_margin, "abc_class") == by_customer(by_revenue, "abc_class")  # both views published
    assert by_customer(by_margin, "tier_reason")["MID"].startswith("A customer (90.0 % of margin, top 80 %)")


def test_each_tier_end_to_end(data) -> None:
    # revenue 600 / 250 / 100 / 50: A, A (before .6), B (before .85), C (before .95)
    for name, revenue, wallet in [("A1", 600, 10_600), ("A2", 250, 250), ("B1", 100, 5_100), ("C1", 50, 1_050)]:
        data.account(name, wallet=wallet).sale(name, revenue)
    data.account("N1")
    # headroom 10 000 / 0 / 5 000 / 1 000: percent ranks 1, 0, 2/3, 1/3
    out = data.segments()
    assert by_customer(out, "potential_class") == {
        "A1": "HIGH",
        "A2": "LOW",
        "B1": "MEDIUM",
        "C1": "LOW",
        "N1": "UNKNOWN",
    }
    assert by_customer(out, "tier") == {
        "A1": "STRATEGIC",
        "A2": "CORE",
        "B1": "MAINTAIN",
        "C1": "SERVE_EFFICIENTLY",
        "N1": "PROSPECT",
    }
    assert by_customer(data.segments(potential_high_pr=0.6), "tier") == {
        "A1": "STRATEGIC",
        "A2": "CORE",
        "B1": "DEVELOP",
        "C1": "SERVE_EFFICIENTLY",
        "N1": "PROSPECT",
    }


def test_a_threshold_change_changes_tiers(data) -> None:
    data.account("X", wallet=2000).sale("X", 500).account("Y", wallet=1000).sale("Y", 500)
    assert by_customer(data.segments(), "tier") == {"X": "STRATEGIC", "Y": "CORE"}
    # with the A cut at 50 %, Y starts at exactly 50 % and becomes B
    assert by_customer(data.segments(abc_a_cut=0.5), "tier") == {"X": "STRATEGIC", "Y": "MAINTAIN"}
    assert by_customer(data.segments(abc_a_cut=0.5), "revenue_t12m") == {"X": Decimal(500), "Y": Decimal(500)}
