"""Selection and decisions: capacity cut, ties, hysteresis, grace, watch band (docs/methodology.md §K4–§K5)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from kam_pipeline.kam import key_account_capacity, select_key_accounts
from kam_pipeline.kam.decisions import decide
from kam_pipeline.kam.selection import rank_for_selection
from kam_pipeline.settings import KamSettings

AS_OF = date(2025, 6, 30)


def _decide(rows: list[dict[str, Any]], max_key_accounts: int, settings: KamSettings) -> dict[str, dict[str, Any]]:
    """Decisions for scored customers: each row needs customer_id and score."""
    defaults = {
        "eligible": True,
        "ineligible_reason": None,
        "is_current_key_account": False,
        "key_account_since": None,
        "as_of_date": AS_OF,
    }
    scored = pl.DataFrame(
        [{**defaults, **row} for row in rows],
        schema={
            "customer_id": pl.String,
            "score": pl.Float64,
            "eligible": pl.Boolean,
            "ineligible_reason": pl.String,
            "is_current_key_account": pl.Boolean,
            "key_account_since": pl.Date,
            "as_of_date": pl.Date,
        },
    )
    decided = decide(rank_for_selection(scored, max_key_accounts, settings), max_key_accounts, settings)
    return {r["customer_id"]: r for r in decided.iter_rows(named=True)}


def _decisions(result: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {customer: row["decision"] for customer, row in result.items()}


def test_capacity_cut_breaks_ties_by_customer_id(settings: KamSettings) -> None:
    result = _decide(
        [
            {"customer_id": "C", "score": 80.0},
            {"customer_id": "B", "score": 80.0},
            {"customer_id": "A", "score": 90.0},
        ],
        2,
        settings,
    )

    assert _decisions(result) == {"A": "ADD", "B": "ADD", "C": "WATCH"}
    assert [result[c]["selection_rank"] for c in "ABC"] == [1, 2, 3]
    assert result["B"]["decision_reason"] == (
        "Added: score 80.00, rank 2 of 3 eligible, within the capacity of 2 key accounts (cut-off score 80.00)."
    )


def test_incumbent_bonus_keeps_an_account_a_newcomer_narrowly_beats(settings: KamSettings) -> None:
    result = _decide(
        [
            {"customer_id": "INC", "score": 70.0, "is_current_key_account": True},
            {"customer_id": "NEW", "score": 74.0},
        ],
        1,
        settings,
    )

    assert _decisions(result) == {"INC": "KEEP", "NEW": "WATCH"}
    assert "score 70.00 + 5.00 incumbent bonus = 75.00, rank 1 of 2" in result["INC"]["decision_reason"]


def test_incumbent_loses_when_the_gap_exceeds_the_bonus(settings: KamSettings) -> None:
    result = _decide(
        [
            {
                "customer_id": "INC",
                "score": 70.0,
                "is_current_key_account": True,
                "key_account_since": date(2020, 1, 1),
            },
            {"customer_id": "NEW", "score": 75.01},
        ],
        1,
        settings,
    )

    assert _decisions(result) == {"INC": "DESELECT", "NEW": "ADD"}
    assert result["INC"]["decision_reason"] == (
        "Deselected: score 70.00 + 5.00 incumbent bonus = 75.00, rank 2 of 2 eligible, "
        "beyond the capacity of 1 key accounts (cut-off score 75.01)."
    )


@pytest.mark.parametrize(
    ("since", "decision"),
    [
        (date(2024, 6, 30), "DESELECT"),  # exactly grace_months before the as-of date: grace is over
        (date(2024, 7, 1), "REVIEW"),
        (None, "DESELECT"),  # unknown start: no grace
    ],
)
def test_grace_period_boundary(since: date | None, decision: str, settings: KamSettings) -> None:
    result = _decide(
        [
            {"customer_id": "INC", "score": 50.0, "is_current_key_account": True, "key_account_since": since},
            {"customer_id": "TOP", "score": 90.0},
        ],
        1,
        settings,
    )

    assert result["INC"]["decision"] == decision


def test_review_reason_gives_the_months_since_the_start(settings: KamSettings) -> None:
    result = _decide(
        [
            {
                "customer_id": "INC",
                "score": 40.0,
                "eligible": False,
                "ineligible_reason": "margin 5.00 % below the 10.00 % minimum",
                "is_current_key_account": True,
                "key_account_since": date(2024, 7, 1),
            }
        ],
        1,
        settings,
    )

    assert result["INC"]["decision_reason"] == (
        "Review: would be deselected (not eligible: margin 5.00 % below the 10.00 % minimum), "
        "but a key account only since 2024-07-01 (11 months), inside the 12-month grace period."
    )


def test_grace_at_month_end_follows_the_calendar(settings: KamSettings) -> None:
    # Month ends map to month ends (§S1): 2025-02-28 minus 12 months is 2024-02-29, so a start on
    # 2024-02-29 has completed its grace period, and a start on 2024-03-01 has not.
    incumbent = {"score": 10.0, "eligible": False, "ineligible_reason": "x", "is_current_key_account": True}
    result = _decide(
        [
            {
                **incumbent,
                "customer_id": "FEB29",
                "key_account_since": date(2024, 2, 29),
                "as_of_date": date(2025, 2, 28),
            },
            {
                **incumbent,
                "customer_id": "MAR01",
                "key_account_since": date(2024, 3, 1),
                "as_of_date": date(2025, 2, 28),
            },
        ],
        0,
        settings,
    )

    assert result["FEB29"]["decision"] == "DESELECT"
    assert result["MAR01"]["decision"] == "REVIEW"
    assert "(11 months)" in result["MAR01"]["decision_reason"]


def test_ineligible_incumbent_is_deselected_with_the_reason(settings: KamSettings) -> None:
    result = _decide(
        [
            {
                "customer_id": "INC",
                "score": 95.0,
                "eligible": False,
                "ineligible_reason": "margin 5.00 % below the 10.00 % minimum",
                "is_current_key_account": True,
            }
        ],
        3,
        settings,
    )

    assert result["INC"]["decision"] == "DESELECT"
    assert result["INC"]["selection_rank"] is None
    assert result["INC"]["decision_reason"] == "Deselected: not eligible: margin 5.00 % below the 10.00 % minimum."


def test_watch_band_is_measured_from_the_bonus_inclusive_cutoff(settings: KamSettings) -> None:
    result = _decide(
        [
            {"customer_id": "INC", "score": 72.0, "is_current_key_account": True},  # cut-off 77.00
            {"customer_id": "EDGE", "score": 67.0},  # 10.00 below: inside the band
            {"customer_id": "OUT", "score": 66.99},  # 10.01 below
            {"customer_id": "FAR", "score": 66.0},  # 6 below the bonus-less score, 11 below the cut-off
        ],
        1,
        settings,
    )

    assert _decisions(result) == {"INC": "KEEP", "EDGE": "WATCH", "OUT": "NONE", "FAR": "NONE"}
    assert result["OUT"]["decision_reason"] == (
        "Not selected: score 66.99, rank 3 of 4 eligible, beyond the capacity of 1 key accounts "
        "(cut-off score 77.00), 10.01 points below the cut-off, outside the watch band of 10.00."
    )


def test_no_capacity_selects_nobody(settings: KamSettings) -> None:
    result = _decide(
        [
            {"customer_id": "INC", "score": 90.0, "is_current_key_account": True},
            {"customer_id": "NEW", "score": 85.0},
        ],
        0,
        settings,
    )

    assert _decisions(result) == {"INC": "DESELECT", "NEW": "NONE"}
    assert "beyond the capacity of 0 key accounts (no cut-off score)" in result["INC"]["decision_reason"]


def test_keep_and_add_never_exceed_capacity(settings: KamSettings) -> None:
    rows = [
        {"customer_id": f"C{i:02d}", "score": float(i % 7 * 10), "is_current_key_account": i % 3 == 0}
        for i in range(20)
    ]

    result = _decide(rows, 5, settings)

    selected = [c for c, row in result.items() if row["decision"] in ("KEEP", "ADD")]
    assert len(selected) == 5
    assert all(row["decision"] is not None and row["decision_reason"] for row in result.values())


def test_capacity_is_the_floor_of_kam_hours_over_hours_per_key_account(make_managers, settings) -> None:
    managers = make_managers(
        ("K1", "KAM", "North", 1000.0, "90"),
        ("K2", "KAM", "South", 799.0, "90"),
        ("A1", "AM", "North", 1600.0, "50"),  # AM hours do not count
    )

    assert key_account_capacity(managers, settings) == 5  # floor(1799 / 300)


def test_incumbent_without_revenue_is_deselected(make_segments, make_managers, settings) -> None:
    segments = make_segments(
        dict(customer_id="GONE", revenue_t12m=0, margin_pct=None, abc_class="N", is_current_key_account=True),
        dict(customer_id="LIVE"),
    )
    managers = make_managers(("K1", "KAM", "North", 600.0, "90"))

    candidates = select_key_accounts(segments, managers, settings)

    gone = candidates.row(0, named=True)
    assert (gone["customer_id"], gone["decision"], gone["score"]) == ("GONE", "DESELECT", None)
    assert gone["decision_reason"].startswith("Deselected: not eligible: no revenue in the trailing window")
    assert candidates.get_column("decision").to_list() == ["DESELECT", "ADD"]


def test_mixed_snapshots_are_refused(make_segments, make_managers, settings) -> None:
    segments = make_segments(dict(customer_id="A"), dict(customer_id="B", as_of_date=date(2025, 5, 31)))

    with pytest.raises(ValueError, match="customer_segments holds 2 as-of dates"):
        select_key_accounts(segments, make_managers(("K1", "KAM", "North", 600.0, "90")), settings)
