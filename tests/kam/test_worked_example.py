"""The worked example of docs/methodology.md §K9, end to end: keep the document and the code in step."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.kam import (
    account_manager_load,
    capacity_gap,
    key_account_capacity,
    programme_return,
    resource_allocation,
    select_key_accounts,
    tier_migration,
)
from kam_pipeline.kam.kam_team import key_account_hours
from kam_pipeline.settings import KamSettings


@pytest.fixture
def segments(make_segments) -> pl.DataFrame:
    return make_segments(
        dict(
            customer_id="C1",
            region="North",
            owner_id="A1",
            revenue_t12m=5_000_000,
            revenue_prior=4_800_000,
            margin_t12m=1_200_000,
            margin_prior=850_000,
            margin_pct=0.24,
            margin_coverage=0.95,
            growth_pct=5 / 4.8 - 1,
            competitive_position=4,
            abc_class="A",
            portfolio_rank=1,
            potential_value=800_000,
            potential_class="MEDIUM",
            tier="STRATEGIC",
            is_current_key_account=True,
            key_account_since=date(2019, 1, 1),
        ),
        dict(
            customer_id="C2",
            region="East",
            owner_id="A1",
            revenue_t12m=3_000_000,
            revenue_prior=2_400_000,
            margin_t12m=450_000,
            margin_prior=500_000,
            margin_pct=0.15,
            margin_coverage=0.80,
            growth_pct=0.25,
            competitive_position=4,
            abc_class="A",
            portfolio_rank=2,
            potential_value=500_000,
            potential_class="MEDIUM",
            tier="STRATEGIC",
        ),
        dict(
            customer_id="C3",
            region="South",
            owner_id="K2",
            revenue_t12m=2_000_000,
            revenue_prior=0,
            margin_t12m=340_000,
            margin_prior=0,
            margin_pct=0.17,
            margin_coverage=1.0,
            growth_pct=None,
            competitive_position=None,
            abc_class="B",
            portfolio_rank=1,
            potential_value=100_000,
            potential_class="LOW",
            tier="MAINTAIN",
        ),
        dict(
            customer_id="C4",
            region="South",
            owner_id="A2",
            revenue_t12m=1_500_000,
            revenue_prior=1_400_000,
            margin_t12m=390_000,
            margin_prior=350_000,
            margin_pct=0.26,
            margin_coverage=0.90,
            growth_pct=1.5 / 1.4 - 1,
            competitive_position=3,
            abc_class="C",
            portfolio_rank=1,
            potential_value=2_000_000,
            potential_class="HIGH",
            tier="DEVELOP",
        ),
        dict(
            customer_id="C5",
            revenue_share=500 / 14_500,
            region="North",
            owner_id="A1",
            revenue_t12m=500_000,
            revenue_prior=450_000,
            margin_t12m=25_000,
            margin_prior=30_000,
            margin_pct=0.05,
            margin_coverage=0.90,
            growth_pct=0.5 / 0.45 - 1,
            competitive_position=2,
            abc_class="C",
            portfolio_rank=3,
            potential_value=200_000,
            potential_class="LOW",
            tier="SERVE_EFFICIENTLY",
            is_current_key_account=True,
            key_account_since=date(2017, 6, 1),
        ),
        dict(
            customer_id="C6",
            region="South",
            owner_id="K2",
            revenue_t12m=0,
            revenue_prior=200_000,
            margin_t12m=0,
            margin_prior=40_000,
            margin_pct=None,
            margin_coverage=None,
            growth_pct=-1.0,
            competitive_position=3,
            abc_class="N",
            portfolio_rank=None,
            potential_value=0,
            potential_class="UNKNOWN",
            potential_driver="NONE",
            tier="LAPSED",
            is_current_key_account=True,
            key_account_since=date(2025, 3, 15),
        ),
        dict(
            customer_id="C7",
            region="West",
            owner_id="A3",
            revenue_t12m=2_500_000,
            revenue_prior=3_200_000,
            margin_t12m=500_000,
            margin_prior=700_000,
            margin_pct=0.20,
            margin_coverage=1.0,
            growth_pct=2.5 / 3.2 - 1,
            competitive_position=2,
            abc_class="A",
            portfolio_rank=1,
            potential_value=300_000,
            potential_class="LOW",
            tier="CORE",
            threat_level="HIGH",
            at_risk=True,
            is_current_key_account=True,
            key_account_since=date(2020, 9, 1),
        ),
    )


@pytest.fixture
def managers(make_managers) -> pl.DataFrame:
    return make_managers(
        ("A1", "AM", "North", 200.0, "60"),
        ("A2", "AM", "South", 150.0, "55"),
        ("A3", "AM", "West", 50.0, "50"),
        ("K1", "KAM", "North", 400.0, "90"),
        ("K2", "KAM", "South", 300.0, "110"),
    )


def test_capacity_is_net_of_the_kam_managers_own_portfolio(segments, managers, settings: KamSettings) -> None:
    # K2 owns C3 (MAINTAIN, 10 h) and C6 (a key account: not its own portfolio): 300 - 10 = 290; K1 400
    hours = key_account_hours(managers, segments, settings)
    assert hours.select("owner_id", "portfolio_hours", "key_account_hours").rows() == [
        ("K1", 0.0, 400.0),
        ("K2", 10.0, 290.0),
    ]
    assert key_account_capacity(managers, segments, settings) == 2  # floor(690 / 300)


def test_candidates(segments, managers, settings: KamSettings) -> None:
    candidates = select_key_accounts(segments, managers, settings)

    # pool C1, C2, C4, C7: percent ranks in steps of 1/3 (§K9)
    assert candidates.select(
        "customer_id", "attractiveness", "score", "selection_score", "selection_rank", "proposed_decision", "decision"
    ).rows() == [
        ("C1", pytest.approx(0.9), 90.0, 100.0, 1, "KEEP", "KEEP"),
        ("C2", pytest.approx(17 / 30), 56.67, 56.67, 2, "ADD", "ADD"),
        ("C3", pytest.approx(13 / 60), 21.67, 21.67, None, "NONE", "NONE"),
        ("C4", pytest.approx(1 / 6), 16.67, 16.67, 4, "NONE", "NONE"),
        ("C5", pytest.approx(0.1), 10.0, 20.0, None, "DESELECT", "DESELECT"),
        ("C6", None, None, None, None, "REVIEW", "REVIEW"),
        ("C7", pytest.approx(11 / 30), 36.67, 46.67, 3, "DESELECT", "DESELECT"),
    ]
    assert set(candidates.get_column("review_date")) == {date(2025, 6, 30)}  # June is a review month
    reasons = dict(candidates.select("customer_id", "decision_reason").rows())
    assert reasons["C2"] == (
        "Added: score 56.67, rank 2 of 4 eligible, within the capacity of 2 key accounts (cut-off score 56.67); "
        "replaces C7."
    )
    assert reasons["C7"] == (
        "Deselected: score 36.67 + 10.00 incumbent bonus = 46.67, rank 3 of 4 eligible, beyond the capacity of "
        "2 key accounts (cut-off score 56.67); replaced by C2, a stronger candidate; held back most by revenue "
        "(16.67 of 50.00 points: revenue EUR 2.5 m)."
    )
    assert reasons["C5"] == (
        "Deselected: not eligible: margin 5.00 % below the 10.00 % minimum (cost known for 90.00 % of revenue); "
        "neither A-class (class C, 3.45 % of revenue) nor HIGH potential (potential LOW, value 200000.00)."
    )
    c7 = candidates.filter(pl.col("customer_id") == "C7").row(0, named=True)
    assert [c7[f"points_{f}"] for f in ("revenue", "margin", "potential", "growth")] == [16.67, 20.0, 0.0, 0.0]
    assert (c7["held_back_by"], c7["points_to_cutoff"]) == ("revenue", 10.0)
    stability = dict(candidates.select("customer_id", "selection_stability").rows())
    assert stability == {"C1": 1.0, "C2": 1.0, "C3": 0.0, "C4": 0.0, "C5": 0.0, "C6": None, "C7": 0.0}
    assert not candidates.get_column("marginal").any()
    assert reasons["C6"].startswith(
        "Review: would be deselected (not eligible: no revenue in the trailing window (revenue_t12m 0.00); "
    )
    assert reasons["C6"].endswith(
        "but a key account only since 2025-03-15 (3 months), inside the 12-month grace period."
    )


def test_between_reviews_the_programme_stays_and_the_proposal_is_shown(segments, managers) -> None:
    settings = KamSettings(review_months=(12,))
    candidates = select_key_accounts(segments, managers, settings)

    assert dict(candidates.select("customer_id", "decision").rows()) == {
        "C1": "KEEP",
        "C2": "WATCH",
        "C3": "NONE",
        "C4": "NONE",
        "C5": "KEEP",
        "C6": "KEEP",
        "C7": "KEEP",
    }
    reasons = dict(candidates.select("customer_id", "decision_reason").rows())
    assert reasons["C7"].startswith("Kept until the review of 2025-12-31; proposed DESELECT: score 36.67")
    assert reasons["C2"].startswith("Watch until the review of 2025-12-31; proposed ADD: score 56.67")


def test_allocation_and_load(segments, managers, settings: KamSettings) -> None:
    candidates = select_key_accounts(segments, managers, settings)

    allocation = resource_allocation(segments, candidates, managers, settings)
    load = account_manager_load(allocation, managers, settings)

    assert allocation.select(
        "customer_id",
        "plan",
        "priority",
        "am_hours",
        "kam_hours",
        "allocated_am_hours",
        "allocated_kam_hours",
        "coverage",
    ).rows() == [
        ("C1", "KEY_ACCOUNT", 1, 0.0, 300.0, 0.0, 300.0, "FULL"),
        ("C2", "KEY_ACCOUNT", 2, 0.0, 300.0, 0.0, 250.0, "PARTIAL"),
        ("C3", "MAINTAIN", 5, 10.0, 0.0, 10.0, 0.0, "FULL"),
        ("C4", "DEVELOP", 4, 20.0, 0.0, 20.0, 0.0, "FULL"),
        ("C5", "SERVE_EFFICIENTLY", 6, 0.0, 0.0, 0.0, 0.0, "POOLED"),
        ("C6", "LAPSED", 7, 0.0, 0.0, 0.0, 0.0, "POOLED"),
        ("C7", "DEFEND", 3, 60.0, 0.0, 50.0, 0.0, "PARTIAL"),
    ]
    assert load.select(
        "owner_id", "customers", "required_hours", "allocated_hours", "utilisation", "load_status", "gap_hours"
    ).rows() == [
        ("A1", 0, 0.0, 0.0, 0.0, "UNDER", -200.0),
        ("A2", 1, 20.0, 20.0, pytest.approx(20 / 150), "UNDER", -130.0),
        ("A3", 1, 60.0, 50.0, pytest.approx(1.2), "OVER", 10.0),
        ("K1", 2, 450.0, 400.0, pytest.approx(1.125), "OVER", 50.0),
        ("K2", 2, 160.0, 160.0, pytest.approx(160 / 300), "UNDER", -140.0),
    ]
    gap = capacity_gap(load, settings)
    assert gap.select(
        "level", "level_value", "required_hours", "capacity_hours", "gap_fte", "uncovered_hours"
    ).rows() == [
        ("TEAM", "ALL", 690.0, 1100.0, pytest.approx(-0.41), 60.0),
        ("ROLE", "AM", 80.0, 400.0, pytest.approx(-0.32), 10.0),
        ("ROLE", "KAM", 610.0, 700.0, pytest.approx(-0.09), 50.0),
        ("REGION", "North", 450.0, 600.0, pytest.approx(-0.15), 50.0),
        ("REGION", "South", 180.0, 450.0, pytest.approx(-0.27), 0.0),
        ("REGION", "West", 60.0, 50.0, pytest.approx(0.01), 10.0),
    ]


def test_programme(segments, managers, settings: KamSettings) -> None:
    candidates = select_key_accounts(segments, managers, settings)

    row = programme_return(segments, candidates, managers, settings).row(0, named=True)

    assert (row["max_key_accounts"], row["turnover_seats"], row["key_accounts"]) == (2, 1, 4)
    assert (row["keep"], row["add"], row["review"], row["deselect"], row["watch"]) == (1, 1, 1, 2, 0)
    # prior-window leaders (top 80 % of 12 450): C1 4 800, C7 3 200, C2 2 400; the non-key one is C2
    assert row["control_customers"] == 1
    assert row["key_margin_t12m"] == Decimal("1725000.00")
    assert row["key_margin_prior"] == Decimal("1620000.00")
    assert row["control_margin_growth"] == pytest.approx(-0.1)
    assert row["kam_cost"] == Decimal("120000.00")
    assert row["incremental_margin"] == Decimal("267000.00")
    assert row["roi"] == pytest.approx(1.225)


def test_migration(segments, make_segments) -> None:
    previous = make_segments(
        *(
            dict(customer_id=c, tier=t, revenue_t12m=r, as_of_date=date(2025, 5, 31))
            for c, t, r in [
                ("C1", "STRATEGIC", 4_900_000),
                ("C2", "DEVELOP", 2_800_000),
                ("C4", "DEVELOP", 1_450_000),
                ("C5", "CORE", 600_000),
                ("C6", "MAINTAIN", 50_000),
                ("C8", "SERVE_EFFICIENTLY", 20_000),
            ]
        )
    )

    matrix = tier_migration(previous, segments)

    assert matrix.select("from_tier", "to_tier", "customers", "revenue_t12m", "previous_revenue_t12m").rows() == [
        ("CORE", "SERVE_EFFICIENTLY", 1, Decimal("500000.00"), Decimal("600000.00")),
        ("DEVELOP", "DEVELOP", 1, Decimal("1500000.00"), Decimal("1450000.00")),
        ("DEVELOP", "STRATEGIC", 1, Decimal("3000000.00"), Decimal("2800000.00")),
        ("MAINTAIN", "LAPSED", 1, Decimal("0.00"), Decimal("50000.00")),
        ("NEW", "CORE", 1, Decimal("2500000.00"), Decimal("0.00")),
        ("NEW", "MAINTAIN", 1, Decimal("2000000.00"), Decimal("0.00")),
        ("SERVE_EFFICIENTLY", "GONE", 1, Decimal("0.00"), Decimal("20000.00")),
        ("STRATEGIC", "STRATEGIC", 1, Decimal("5000000.00"), Decimal("4900000.00")),
    ]
