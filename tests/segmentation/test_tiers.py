"""§S10: tiers, at-risk flag and tier reason."""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.segmentation.tiers import at_risk, tier

from .builder import IN_PRIOR, by_customer


@pytest.mark.parametrize(
    ("abc", "potential", "expected"),
    [
        ("A", "HIGH", "STRATEGIC"),
        ("A", "MEDIUM", "STRATEGIC"),
        ("A", "LOW", "CORE"),
        ("A", "UNKNOWN", "CORE"),
        ("B", "HIGH", "DEVELOP"),
        ("C", "HIGH", "DEVELOP"),
        ("B", "MEDIUM", "MAINTAIN"),
        ("B", "LOW", "MAINTAIN"),
        ("B", "UNKNOWN", "MAINTAIN"),
        ("C", "MEDIUM", "SERVE_EFFICIENTLY"),
        ("C", "LOW", "SERVE_EFFICIENTLY"),
        ("C", "UNKNOWN", "SERVE_EFFICIENTLY"),
        ("N", "HIGH", "DORMANT"),
        ("N", "UNKNOWN", "DORMANT"),
    ],
)
def test_tier(abc: str, potential: str, expected: str) -> None:
    frame = pl.DataFrame({"abc_class": [abc], "potential_class": [potential]})
    assert frame.select(tier()).item() == expected


@pytest.mark.parametrize(
    ("abc", "threat", "expected"),
    [("A", "HIGH", True), ("B", "HIGH", True), ("C", "HIGH", False), ("N", "HIGH", False), ("A", "MEDIUM", False)],
)
def test_at_risk(abc: str, threat: str, expected: bool) -> None:
    assert pl.DataFrame({"abc_class": [abc], "threat_level": [threat]}).select(at_risk()).item() is expected


def test_tier_reason_states_the_figures(data) -> None:
    data.account("BIG", wallet=2_000_000, position=4).sale("BIG", 600_000).sale("BIG", 1_000_000, IN_PRIOR)
    data.account("SMALL").sale("SMALL", 150_000).opportunity("SMALL", "OPEN", 10_000, date(2025, 9, 1))
    data.account("GONE").sale("GONE", 100, IN_PRIOR)
    reasons = by_customer(data.segments(), "tier_reason")
    assert reasons == {
        "BIG": "A customer (80.0 % of revenue, top 80 %); potential HIGH (headroom EUR 1.4 m from CRM wallet); "
        "threats: DECLINING (HIGH, at risk)",
        "SMALL": "B customer (20.0 % of revenue, next 15 %); potential LOW (weighted pipeline EUR 10.0 k); no threats",
        "GONE": "N customer (no positive revenue in the last 12 months: EUR 0); "
        "potential UNKNOWN (no wallet and no open pipeline; counted as LOW); threats: DECLINING (HIGH)",
    }


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
        "N1": "DORMANT",
    }
    assert by_customer(data.segments(potential_high_pr=0.6), "tier") == {
        "A1": "STRATEGIC",
        "A2": "CORE",
        "B1": "DEVELOP",
        "C1": "SERVE_EFFICIENTLY",
        "N1": "DORMANT",
    }


def test_a_threshold_change_changes_tiers(data) -> None:
    data.account("X", wallet=2000).sale("X", 500).account("Y", wallet=1000).sale("Y", 500)
    assert by_customer(data.segments(), "tier") == {"X": "STRATEGIC", "Y": "CORE"}
    # with the A cut at 50 %, Y starts at exactly 50 % and becomes B
    assert by_customer(data.segments(abc_a_cut=0.5), "tier") == {"X": "STRATEGIC", "Y": "MAINTAIN"}
    assert by_customer(data.segments(abc_a_cut=0.5), "revenue_t12m") == {"X": Decimal(500), "Y": Decimal(500)}
