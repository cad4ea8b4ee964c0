"""KAM programme return arithmetic (docs/methodology.md §K7)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.kam import programme_return
from kam_pipeline.settings import KamSettings


def _candidates(decisions: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": list(decisions),
            "decision": list(decisions.values()),
            "proposed_decision": list(decisions.values()),
            "override_action": [None] * len(decisions),
        },
        schema_overrides={"override_action": pl.String},
    )


@pytest.fixture
def managers(make_managers) -> pl.DataFrame:
    return make_managers(
        ("K1", "KAM", "North", 700.0, "10"),
        ("K2", "KAM", "South", 300.0, "20"),
        ("A1", "AM", "North", 1000.0, "1000"),  # AM cost is not KAM cost
    )


def test_roi_against_a_control_group_chosen_on_prior_revenue(make_segments, managers, settings: KamSettings) -> None:
    # prior revenue 100 000 + 100 000 + 200 000 + 10 000 = 410 000; Pareto order CTL (before 0), K1 (.488),
    # K2 (.732), B (.976): the top 80 % are CTL, K1, K2, and the control group is the non-key one, CTL.
    segments = make_segments(
        dict(customer_id="K1", is_current_key_account=True, margin_t12m=120_000, margin_prior=100_000),
        dict(customer_id="K2", is_current_key_account=True, margin_t12m=60_000, margin_prior=50_000, abc_class="B"),
        dict(customer_id="CTL", revenue_t12m=220_000, revenue_prior=200_000, margin_t12m=110_000, margin_prior=100_000),
        # small in the prior window, however large it grew since: outside the control group
        dict(customer_id="B", abc_class="A", revenue_prior=10_000, margin_t12m=1_000_000, margin_prior=100_000),
    )
    candidates = _candidates({"K1": "KEEP", "K2": "DESELECT", "CTL": "ADD", "B": "NONE"})

    row = programme_return(segments, candidates, managers, settings).row(0, named=True)

    assert (row["max_key_accounts"], row["key_accounts"], row["keep"], row["add"], row["deselect"]) == (3, 2, 1, 1, 1)
    assert row["control_customers"] == 1
    assert row["key_margin_t12m"] == Decimal("180000.00")
    assert row["key_margin_prior"] == Decimal("150000.00")
    assert row["key_margin_growth"] == pytest.approx(0.2)
    assert row["control_revenue_growth"] == pytest.approx(0.1)
    assert row["control_margin_growth"] == pytest.approx(0.1)
    # 2 key accounts × 300 h × mean(10, 20) €/h
    assert row["kam_cost"] == Decimal("9000.00")
    # 180 000 − 150 000 × 1.10
    assert row["incremental_margin"] == Decimal("15000.00")
    # (15 000 − 9 000) / 9 000
    assert row["roi"] == pytest.approx(2 / 3)


def test_without_key_accounts_there_is_no_roi(make_segments, managers, settings: KamSettings) -> None:
    segments = make_segments(dict(customer_id="CTL"))

    row = programme_return(segments, _candidates({"CTL": "NONE"}), managers, settings).row(0, named=True)

    assert row["key_accounts"] == 0
    assert row["kam_cost"] == Decimal("0.00")
    assert row["roi"] is None


def test_without_a_control_group_there_is_no_incremental_margin(make_segments, managers, settings) -> None:
    segments = make_segments(
        dict(customer_id="K1", is_current_key_account=True), dict(customer_id="SMALL", revenue_prior=0)
    )

    row = programme_return(segments, _candidates({"K1": "KEEP", "SMALL": "NONE"}), managers, settings).row(
        0, named=True
    )

    assert row["control_customers"] == 0
    assert row["control_margin_growth"] is None
    assert row["incremental_margin"] is None
    assert row["roi"] is None


def test_without_kam_managers_the_cost_is_unknown(make_segments, make_managers, settings: KamSettings) -> None:
    segments = make_segments(dict(customer_id="K1", is_current_key_account=True), dict(customer_id="CTL"))
    managers = make_managers(("A1", "AM", "North", 1000.0, "50"))  # no KAM team: no seats, cost unknown

    row = programme_return(segments, _candidates({"K1": "DESELECT", "CTL": "NONE"}), managers, settings).row(
        0, named=True
    )

    assert (row["max_key_accounts"], row["key_accounts"]) == (0, 1)
    assert row["kam_cost"] is None
    assert row["roi"] is None
