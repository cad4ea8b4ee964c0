"""Programme readiness: concentration, input completeness, account-management foundation
and the verdict, on hand-computed cases (methodology §K12)."""

from __future__ import annotations

import itertools

import pytest

from kam_pipeline.kam import resource_allocation, select_key_accounts
from kam_pipeline.kam.readiness import DATA_TOO_THIN, READY, STRENGTHEN, gini, programme_readiness, top_share
from kam_pipeline.settings import KamSettings, ReadinessSettings

REVENUE = [1_000_000, 500_000, 250_000, 100_000, 50_000, 40_000, 30_000, 20_000, 10_000, 5_000]


def _readiness(make_segments, make_managers, am_capacity: float = 1000.0, **segment: object) -> dict:
    segments = make_segments(
        *(
            dict(customer_id=f"C{i:02d}", revenue_t12m=r, margin_t12m=r // 5, **segment)
            for i, r in enumerate(REVENUE, start=1)
        )
    )
    managers = make_managers(("K1", "KAM", "North", 600.0, "90"), ("AM1", "AM", "North", am_capacity, "50"))
    settings = KamSettings()
    candidates = select_key_accounts(segments, managers, settings)
    allocation = resource_allocation(segments, candidates, managers, settings)
    return programme_readiness(segments, candidates, allocation, settings, ReadinessSettings()).row(0, named=True)


def test_gini_and_top_share_by_hand() -> None:
    assert gini([5.0, 5.0, 5.0, 5.0]) == 0.0
    assert gini([0.0, 0.0, 0.0, 10.0]) == pytest.approx(0.75)
    values = [float(v) for v in REVENUE]
    mean_difference = sum(abs(a - b) for a, b in itertools.product(values, values)) / len(values) ** 2
    assert gini(values) == pytest.approx(mean_difference / (2 * sum(values) / len(values)))
    assert top_share([10.0, 1.0, 1.0, 1.0, 1.0]) == pytest.approx(10 / 14)  # 20 % of 5 is one customer
    assert top_share([3.0] * 6) == pytest.approx(2 / 6)  # 20 % of 6 rounds up to two
    assert gini([]) is None and top_share([0.0]) is None


def test_ready(make_segments, make_managers) -> None:
    row = _readiness(make_segments, make_managers)

    assert row["verdict"] == READY
    assert row["top20_revenue_share"] == pytest.approx(1_500_000 / sum(REVENUE))
    assert (row["customers"], row["eligible_customers"], row["key_accounts"]) == (10, 10, 2)
    assert row["score_gap"] == pytest.approx(row["last_pick_score"] - row["median_eligible_score"])
    assert row["score_gap"] >= 10
    assert (row["wallet_coverage_a"], row["cost_coverage_a"], row["am_coverage_ab"]) == (1.0, 1.0, 1.0)
    assert row["position_coverage_a"] == 1.0
    assert "the top 20 % of customers carry 74.8 %, at least the minimum of 50.0 %" in row["verdict_reasons"]


def test_strengthen_account_management_first(make_segments, make_managers) -> None:
    # 8 CORE customers need 40 h each from AM1, who has 100: two covered, one partly, five not
    row = _readiness(make_segments, make_managers, am_capacity=100.0)

    assert row["verdict"] == STRENGTHEN
    assert row["am_coverage_ab"] == pytest.approx(4 / 10)  # the two key accounts (POOLED AM hours) and two FULL
    assert row["verdict_reasons"] == "A/B customers whose hours are covered 40.0 %, below the minimum of 80.0 %"


def test_at_risk_portfolio_strengthens_first(make_segments, make_managers) -> None:
    row = _readiness(make_segments, make_managers, at_risk=True)

    assert row["verdict"] == STRENGTHEN
    assert "A/B customers at risk 100.0 %, above the maximum of 25.0 %" in row["verdict_reasons"]


def test_data_too_thin(make_segments, make_managers) -> None:
    row = _readiness(make_segments, make_managers, wallet_source="BENCHMARK", margin_coverage=0.3)

    assert row["verdict"] == DATA_TOO_THIN
    assert row["verdict_reasons"] == (
        "A revenue with a CRM wallet 0.0 %, below the minimum of 50.0 %; "
        "A revenue with a known cost 30.0 %, below the minimum of 50.0 %"
    )


def test_a_flat_portfolio_has_no_clearly_strategic_customers(make_segments, make_managers) -> None:
    segments = make_segments(*(dict(customer_id=f"C{i:02d}", revenue_t12m=100_000) for i in range(10)))
    managers = make_managers(("K1", "KAM", "North", 600.0, "90"), ("AM1", "AM", "North", 1000.0, "50"))
    settings = KamSettings()
    candidates = select_key_accounts(segments, managers, settings)
    allocation = resource_allocation(segments, candidates, managers, settings)

    row = programme_readiness(segments, candidates, allocation, settings, ReadinessSettings()).row(0, named=True)

    assert row["verdict"] == STRENGTHEN
    assert row["top20_revenue_share"] == pytest.approx(0.2)
    assert row["revenue_gini"] == pytest.approx(0.0)
    assert "the top 20 % of customers carry 20.0 %, below the minimum of 50.0 %" in row["verdict_reasons"]
    assert row["score_gap"] == 0.0  # every customer scores the same: the picks do not stand out
    assert (
        "the last pick's lead over the median eligible 0.00 points, below the minimum of 10.00 points"
        in (row["verdict_reasons"])
    )
