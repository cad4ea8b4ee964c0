"""The worked example of docs/methodology.md (§S12), figure by figure."""

from datetime import date
from decimal import Decimal

import pytest

from kam_pipeline.segmentation import build_segment_summary
from kam_pipeline.settings import SegmentationSettings

from .builder import Extracts

SETTINGS = SegmentationSettings(spend_per_employee={"default": 150.0, "Chemicals": 350.0})


def worked_example() -> Extracts:
    data = Extracts()
    data.account("NORD", region="NORTH", country="DE", owner="AM1", wallet=2_000_000, position=4)
    data.account("NORD-PL", "NORD", region="NORTH", country="PL", owner="AM3")
    data.account("SUD", industry="Chemicals", region="SOUTH", country="IT", owner="AM2", employees=500, position=3)
    data.account("OST", industry="Logistics", region="NORTH", country="DE", owner="AM1")
    data.account("WEST", industry="Retail", region="SOUTH", country="FR", owner="AM2", wallet=1_530_000, position=2)
    data.account("ALT", region="NORTH", country="DE", owner="AM1", employees=200)
    data.account("NEU", industry="Technology", region="NORTH", country="DE", owner="AM1", erp=False)
    data.accounts[0] |= {"is_key_account": True, "key_account_since": date(2023, 1, 1)}
    data.erp("E-CASH", None)

    data.sale("NORD", 600_000, date(2025, 5, 10), cost=450_000).sale("NORD", 500_000, date(2024, 5, 20), cost=380_000)
    data.sale("NORD-PL", 100_000, date(2025, 2, 14), currency="USD")
    data.sale("SUD", 200_000, date(2025, 6, 2), cost=160_000)
    data.sale("SUD", 250_000, date(2023, 11, 15)).sale("SUD", 50_000, date(2024, 6, 30))
    data.sale("OST", 80_000, date(2025, 2, 20), cost=70_000).sale("OST", 60_000, date(2024, 2, 1))
    data.sale("WEST", 35_000, date(2025, 6, 20)).sale("WEST", -5_000, date(2025, 6, 25))
    data.sale("ALT", 50_000, date(2024, 1, 15))
    data.sale("CASH", 5_000, date(2025, 3, 1), erp_customer_id="E-CASH")

    data.rate("USD", "2025-02", 0.90).rate("USD", "2025-03", 0.95).rate("USD", "2025-06", 0.92)
    data.rate("USD", "2025-07", 0.99)
    data.opportunity("OST", "OPEN", 100_000, date(2025, 10, 31), probability=0.6, currency="USD")
    data.opportunity("NORD", "LOST", 100_000, date(2025, 3, 31))
    data.opportunity("NORD", "OPEN", 500_000, date(2026, 9, 30), probability=0.5)
    return data


COLUMNS = ("revenue_t12m", "revenue_prior", "margin_t12m", "growth_pct", "trend", "revenue_share", "cumulative_share")
EXPECTED = {
    "ALT": (0, 50_000, 0, -1.0, "LOST", None, None),
    "NEU": (0, 0, 0, None, "NONE", None, None),
    "NORD": (690_000, 500_000, 150_000, 0.38, "GROWING", 0.69, 0.69),
    "OST": (80_000, 60_000, 10_000, 1 / 3, "GROWING", 0.08, 0.97),
    "SUD": (200_000, 300_000, 40_000, -1 / 3, "DECLINING", 0.20, 0.89),
    "WEST": (30_000, 0, 0, None, "NEW", 0.03, 1.0),
}
CLASSES = ("abc_class", "margin_abc_class", "region_abc_class", "country_abc_class", "portfolio_abc_class")
EXPECTED_CLASSES = {
    "ALT": ("N", "N", "N", "N", "N", None),
    "NEU": ("N", "N", "N", "N", "N", None),
    "NORD": ("A", "A", "A", "A", "A", 1),
    "OST": ("B", "C", "B", "B", "B", 2),
    "SUD": ("A", "A", "A", "A", "A", 1),
    "WEST": ("C", "N", "B", "A", "B", 2),
}
POTENTIAL = ("wallet", "wallet_source", "headroom", "pipeline_weighted", "potential_value", "potential_class")
EXPECTED_POTENTIAL = {
    "ALT": (30_000, "BENCHMARK", 30_000, 0, 30_000, "LOW"),
    "NEU": (None, "NONE", None, 0, 0, "UNKNOWN"),
    "NORD": (2_000_000, "CRM", 1_310_000, 0, 1_310_000, "MEDIUM"),
    "OST": (None, "NONE", None, 55_200, 55_200, "LOW"),
    "SUD": (175_000, "BENCHMARK", None, 0, 0, "UNKNOWN"),
    "WEST": (1_530_000, "CRM", 1_500_000, 0, 1_500_000, "HIGH"),
}
NEW_FIGURES = ("wallet_below_revenue", "potential_driver", "last_invoice_date", "segment_class", "margin_share")
EXPECTED_NEW_FIGURES = {
    "ALT": (False, "HEADROOM", date(2024, 1, 15), "N", None),
    "NEU": (False, "NONE", None, "N", None),
    "NORD": (False, "HEADROOM", date(2025, 5, 10), "A", 0.75),
    "OST": (False, "PIPELINE", date(2025, 2, 20), "B", 0.05),
    "SUD": (True, "NONE", date(2025, 6, 2), "A", 0.20),
    "WEST": (False, "HEADROOM", date(2025, 6, 20), "C", None),
}
DECISION = ("threat_reasons", "threat_level", "tier", "at_risk")
EXPECTED_DECISION = {
    "ALT": ("DECLINING", "HIGH", "LAPSED", False),
    "NEU": ("", "NONE", "PROSPECT", False),
    "NORD": ("", "NONE", "STRATEGIC", False),
    "OST": ("INACTIVE", "MEDIUM", "MAINTAIN", False),
    "SUD": ("DECLINING", "HIGH", "CORE", True),
    "WEST": ("WEAK_POSITION", "MEDIUM", "DEVELOP", False),
}
EXPECTED_REASON = {
    "NORD": "A customer (69.0 % of revenue, top 80 %); potential MEDIUM (headroom EUR 1.3 m from CRM wallet); "
    "no threats",
    "SUD": "A customer (20.0 % of revenue, top 80 %); potential UNKNOWN (revenue above the benchmark wallet of "
    "EUR 175.0 k; counted as LOW); threats: DECLINING (HIGH, at risk)",
    "ALT": "N customer (no positive revenue in the last 12 months: EUR 0; last invoice 2024-01-15); "
    "potential LOW (headroom EUR 30.0 k from benchmark wallet); threats: DECLINING (HIGH)",
    "OST": "B customer (8.0 % of revenue, next 15 %); potential LOW (weighted pipeline EUR 55.2 k); "
    "threats: INACTIVE (MEDIUM)",
    "WEST": "C customer (3.0 % of revenue, last 5 %); potential HIGH (headroom EUR 1.5 m from CRM wallet); "
    "threats: WEAK_POSITION (MEDIUM)",
}


def _expected(values: tuple) -> tuple:
    """Amounts (int) as decimals, ratios (float) approximately."""
    return tuple(pytest.approx(v) if isinstance(v, float) else Decimal(v) if isinstance(v, int) else v for v in values)


@pytest.fixture(scope="module")
def segments():
    return worked_example().segments(SETTINGS)


def rows(segments, columns: tuple[str, ...]) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in segments.select("customer_id", *columns).rows()}


def test_revenue_growth_and_pareto(segments) -> None:
    assert rows(segments, COLUMNS) == {k: _expected(v) for k, v in EXPECTED.items()}


def test_classes_at_every_level(segments) -> None:
    assert rows(segments, (*CLASSES, "portfolio_rank")) == EXPECTED_CLASSES


def test_wallet_and_potential(segments) -> None:
    assert rows(segments, POTENTIAL) == {k: _expected(v) for k, v in EXPECTED_POTENTIAL.items()}


def test_wallet_below_revenue_driver_last_invoice_and_segment_class(segments) -> None:
    assert rows(segments, NEW_FIGURES) == {k: _expected(v) for k, v in EXPECTED_NEW_FIGURES.items()}


def test_threat_and_tier(segments) -> None:
    assert rows(segments, DECISION) == EXPECTED_DECISION
    reasons = {k: v[0] for k, v in rows(segments, ("tier_reason",)).items()}
    assert {k: reasons[k] for k in EXPECTED_REASON} == EXPECTED_REASON


def test_margin_and_key_account_figures(segments) -> None:
    nord = segments.filter(customer_id="NORD").row(0, named=True)
    assert nord["margin_pct"] == pytest.approx(150 / 690)
    assert nord["margin_coverage"] == pytest.approx(600 / 690)
    assert nord["margin_prior"] == Decimal(120_000)
    assert nord["share_of_wallet"] == pytest.approx(0.345)
    assert (nord["is_current_key_account"], nord["key_account_since"]) == (True, date(2023, 1, 1))


def test_global_summary(segments) -> None:
    summary = build_segment_summary(segments).filter(level="GLOBAL")
    assert summary.select("tier", "customers", "revenue_t12m", "revenue_share").rows() == [
        ("STRATEGIC", 1, Decimal(690_000), pytest.approx(0.69)),
        ("CORE", 1, Decimal(200_000), pytest.approx(0.20)),
        ("DEVELOP", 1, Decimal(30_000), pytest.approx(0.03)),
        ("MAINTAIN", 1, Decimal(80_000), pytest.approx(0.08)),
        ("LAPSED", 1, Decimal(0), 0.0),
        ("PROSPECT", 1, Decimal(0), 0.0),
    ]
