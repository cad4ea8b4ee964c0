"""The worked example of docs/methodology.md §K9, end to end: keep the document and the code in step."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.kam import allocate_resources, programme_return, select_key_accounts, tier_migration
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
            margin_t12m=300_000,
            margin_prior=250_000,
            margin_pct=0.10,
            margin_coverage=0.80,
            growth_pct=0.25,
            competitive_position=4,
            abc_class="A",
            potential_value=500_000,
            potential_class="MEDIUM",
            tier="CORE",
        ),
        dict(
            customer_id="C3",
            region="North",
            owner_id="A2",
            revenue_t12m=2_000_000,
            revenue_prior=0,
            margin_t12m=340_000,
            margin_prior=0,
            margin_pct=0.17,
            margin_coverage=1.0,
            growth_pct=None,
            competitive_position=None,
            abc_class="B",
            potential_value=100_000,
            potential_class="LOW",
            tier="DEVELOP",
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
            potential_value=2_000_000,
            potential_class="HIGH",
            tier="DEVELOP",
        ),
        dict(
            customer_id="C5",
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
            potential_value=200_000,
            potential_class="LOW",
            tier="MAINTAIN",
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
            margin_coverage=0.0,
            growth_pct=-1.0,
            competitive_position=3,
            abc_class="N",
            potential_value=0,
            potential_class="UNKNOWN",
            tier="LAPSED",
            is_current_key_account=True,
            key_account_since=date(2025, 3, 15),
        ),
    )


@pytest.fixture
def managers(make_managers) -> pl.DataFrame:
    return make_managers(
        ("A1", "AM", "North", 200.0, "60"),
        ("A2", "AM", "South", 150.0, "55"),
        ("A3", "AM", "West", 100.0, "50"),
        ("K1", "KAM", "North", 400.0, "90"),
        ("K2", "KAM", "South", 300.0, "110"),
    )


def test_candidates(segments, managers, settings: KamSettings) -> None:
    candidates = select_key_accounts(segments, managers, settings)

    assert candidates.select(
        "customer_id", "attractiveness", "strength", "score", "selection_rank", "decision"
    ).rows() == [
        ("C1", pytest.approx(0.825), 0.75, 80.25, 1, "KEEP"),
        ("C2", pytest.approx(0.6), 0.75, 64.5, 2, "ADD"),
        ("C3", pytest.approx(0.3), 0.5, 36.0, None, "NONE"),
        ("C4", pytest.approx(0.6), 0.5, 57.0, 3, "WATCH"),
        ("C5", pytest.approx(0.175), 0.25, 19.75, None, "DESELECT"),
        ("C6", None, None, None, None, "REVIEW"),
    ]
    reasons = dict(candidates.select("customer_id", "decision_reason").rows())
    assert reasons["C4"] == (
        "Watch: score 57.00, rank 3 of 3 eligible, beyond the capacity of 2 key accounts (cut-off score 64.50), "
        "7.50 points below the cut-off, within the watch band of 10.00."
    )
    assert reasons["C5"] == (
        "Deselected: not eligible: margin 5.00 % below the 10.00 % minimum (cost known for 90.00 % of revenue); "
        "neither A-class (class C) nor HIGH potential (potential LOW)."
    )


def test_allocation_and_load(segments, managers, settings: KamSettings) -> None:
    candidates = select_key_accounts(segments, managers, settings)

    allocation, load = allocate_resources(segments, candidates, managers, settings)

    assert allocation.select("customer_id", "am_hours", "kam_hours").rows() == [
        ("C1", 120.0, 300.0),
        ("C2", 60.0, 300.0),
        ("C3", 40.0, 0.0),
        ("C4", 40.0, 0.0),
        ("C5", 16.0, 0.0),
        ("C6", 1.0, 0.0),
    ]
    assert load.select("owner_id", "customers", "required_hours", "utilisation", "load_status").rows() == [
        ("A1", 3, 196.0, pytest.approx(0.98), "BALANCED"),
        ("A2", 2, 80.0, pytest.approx(0.5333, abs=1e-4), "UNDER"),
        ("A3", 0, 0.0, 0.0, "UNDER"),
        ("K1", 2, 450.0, pytest.approx(1.125), "OVER"),
        ("K2", 2, 151.0, pytest.approx(0.5033, abs=1e-4), "UNDER"),
    ]


def test_programme(segments, managers, settings: KamSettings) -> None:
    candidates = select_key_accounts(segments, managers, settings)

    row = programme_return(segments, candidates, managers, settings).row(0, named=True)

    assert (row["max_key_accounts"], row["key_accounts"], row["keep"], row["add"]) == (2, 3, 1, 1)
    assert (row["review"], row["deselect"], row["watch"], row["control_customers"]) == (1, 1, 1, 1)
    assert row["key_margin_t12m"] == Decimal("1225000.00")
    assert row["key_margin_prior"] == Decimal("920000.00")
    assert row["control_margin_growth"] == pytest.approx(0.2)
    assert row["kam_cost"] == Decimal("90000.00")
    assert row["incremental_margin"] == Decimal("121000.00")
    assert row["roi"] == pytest.approx(31 / 90)


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
                ("C7", "SERVE_EFFICIENTLY", 20_000),
            ]
        )
    )

    matrix = tier_migration(previous, segments)

    assert matrix.select("from_tier", "to_tier", "customers", "revenue_t12m", "previous_revenue_t12m").rows() == [
        ("CORE", "MAINTAIN", 1, Decimal("500000.00"), Decimal("600000.00")),
        ("DEVELOP", "CORE", 1, Decimal("3000000.00"), Decimal("2800000.00")),
        ("DEVELOP", "DEVELOP", 1, Decimal("1500000.00"), Decimal("1450000.00")),
        ("MAINTAIN", "LAPSED", 1, Decimal("0.00"), Decimal("50000.00")),
        ("NEW", "DEVELOP", 1, Decimal("2000000.00"), Decimal("0.00")),
        ("SERVE_EFFICIENTLY", "GONE", 1, Decimal("0.00"), Decimal("20000.00")),
        ("STRATEGIC", "STRATEGIC", 1, Decimal("5000000.00"), Decimal("4900000.00")),
    ]
