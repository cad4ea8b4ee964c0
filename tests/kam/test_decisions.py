"""Selection, review rhythm, turnover cap and decisions (docs/methodology.md §K4–§K5), by hand."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from kam_pipeline.kam import key_account_capacity, select_key_accounts
from kam_pipeline.kam.decisions import decide, decision_reason, with_reason_body
from kam_pipeline.kam.review import review_date, turnover_seats
from kam_pipeline.kam.selection import rank_for_selection
from kam_pipeline.settings import KamSettings

AS_OF = date(2025, 6, 30)  # a review date with the default quarterly rhythm
LONG_AGO = date(2019, 1, 1)


def _decide(
    rows: list[dict[str, Any]], max_key_accounts: int, settings: KamSettings, *, review: bool = True
) -> dict[str, dict[str, Any]]:
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
    as_of = scored.get_column("as_of_date").max()
    ranked = rank_for_selection(scored.with_columns(selectable=pl.col("eligible")), max_key_accounts, settings, as_of)
    review_day = review_date(as_of, settings)
    decided = with_reason_body(decide(ranked, settings, review_day, review), max_key_accounts, settings).with_columns(
        decision_reason=decision_reason(review_day, review)
    )
    return {r["customer_id"]: r for r in decided.iter_rows(named=True)}


def _decisions(result: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {customer: row["decision"] for customer, row in result.items()}


def incumbent(customer_id: str, score: float, since: date | None = LONG_AGO, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "score": score,
        "is_current_key_account": True,
        "key_account_since": since,
    } | extra


def test_capacity_cut_breaks_ties_by_customer_id(settings: KamSettings) -> None:
    result = _decide(
        [{"customer_id": "C", "score": 80.0}, {"customer_id": "B", "score": 80.0}, {"customer_id": "A", "score": 90.0}],
        2,
        settings,
    )

    assert _decisions(result) == {"A": "ADD", "B": "ADD", "C": "WATCH"}
    assert [result[c]["selection_rank"] for c in "ABC"] == [1, 2, 3]
    assert result["B"]["decision_reason"] == (
        "Added: score 80.00, rank 2 of 3 eligible, within the capacity of 2 key accounts (cut-off score 80.00); "
        "takes a free seat."
    )


def test_incumbent_bonus_keeps_an_account_a_newcomer_narrowly_beats(settings: KamSettings) -> None:
    result = _decide([incumbent("INC", 70.0), {"customer_id": "NEW", "score": 79.0}], 1, settings)

    assert _decisions(result) == {"INC": "KEEP", "NEW": "WATCH"}
    assert "score 70.00 + 10.00 incumbent bonus = 80.00, rank 1 of 2" in result["INC"]["decision_reason"]


def test_a_stronger_newcomer_replaces_the_weakest_key_account(settings: KamSettings) -> None:
    result = _decide([incumbent("INC", 70.0), {"customer_id": "NEW", "score": 80.01}], 1, settings)

    assert _decisions(result) == {"INC": "DESELECT", "NEW": "ADD"}
    assert result["INC"]["decision_reason"] == (
        "Deselected: score 70.00 + 10.00 incumbent bonus = 80.00, rank 2 of 2 eligible, "
        "beyond the capacity of 1 key accounts (cut-off score 80.01); replaced by NEW, a stronger candidate."
    )
    assert result["NEW"]["decision_reason"].endswith("; replaces INC.")


def test_the_turnover_cap_limits_replacements_strongest_cases_first(settings: KamSettings) -> None:
    # 3 seats, cap 20 % -> 1 replacement. Selection scores: I1 100, I2 50, I3 40; N1 80, N2 70, N3 60.
    # Ideal programme: I1, N1, N2. Pairs, strongest newcomer with weakest key account: (N1, I3), (N2, I2).
    rows = [
        incumbent("I1", 90.0),
        incumbent("I2", 40.0),
        incumbent("I3", 30.0),
        {"customer_id": "N1", "score": 80.0},
        {"customer_id": "N2", "score": 70.0},
        {"customer_id": "N3", "score": 60.0},
    ]
    assert turnover_seats(3, settings) == 1

    capped = _decide(rows, 3, settings)

    assert _decisions(capped) == {
        "I1": "KEEP",
        "I2": "KEEP",
        "I3": "DESELECT",
        "N1": "ADD",
        "N2": "WATCH",
        "N3": "WATCH",
    }
    assert "replaces I3" in capped["N1"]["decision_reason"]
    assert capped["I2"]["decision_reason"].endswith(
        "but kept: the turnover cap of 1 changes per review is used by stronger cases."
    )
    assert capped["N2"]["decision_reason"].endswith(
        "but the turnover cap of 1 changes per review is reached; next in line for a seat."
    )
    # N3 is 10.00 below the cut-off (N2's 70.00): inside the watch band
    assert "10.00 points below the cut-off, within the watch band" in capped["N3"]["decision_reason"]

    wider = _decide(rows, 3, KamSettings(turnover_cap=0.7))  # floor(2.1) = 2 replacements
    assert _decisions(wider) == {
        "I1": "KEEP",
        "I2": "DESELECT",
        "I3": "DESELECT",
        "N1": "ADD",
        "N2": "ADD",
        "N3": "WATCH",
    }


def test_free_seats_and_exits_for_ineligibility_are_never_capped(settings: KamSettings) -> None:
    rows = [
        incumbent("I1", 90.0),
        incumbent("GONE", 95.0, eligible=False, ineligible_reason="no revenue in the trailing window"),
        {"customer_id": "N1", "score": 80.0},
        {"customer_id": "N2", "score": 70.0},
    ]
    result = _decide(rows, 3, settings)

    assert _decisions(result) == {"I1": "KEEP", "GONE": "DESELECT", "N1": "ADD", "N2": "ADD"}
    assert all("takes a free seat" in result[c]["decision_reason"] for c in ("N1", "N2"))


def test_lost_capacity_deselects_the_weakest_key_accounts_outside_the_cap(settings: KamSettings) -> None:
    result = _decide([incumbent("I1", 90.0), incumbent("I2", 80.0), incumbent("I3", 70.0)], 1, settings)

    assert _decisions(result) == {"I1": "KEEP", "I2": "DESELECT", "I3": "DESELECT"}
    assert result["I3"]["decision_reason"].endswith("; more eligible key accounts than seats.")


def test_a_key_account_inside_its_grace_period_is_not_replaced(settings: KamSettings) -> None:
    result = _decide(
        [incumbent("YOUNG", 50.0, since=date(2025, 1, 15)), {"customer_id": "NEW", "score": 90.0}], 1, settings
    )

    assert _decisions(result) == {"YOUNG": "KEEP", "NEW": "WATCH"}
    assert result["YOUNG"]["decision_reason"].endswith(
        "but kept: a key account only since 2025-01-15 (5 months), inside the 12-month grace period."
    )
    assert result["NEW"]["decision_reason"].endswith("held by key accounts inside their grace period.")


@pytest.mark.parametrize(
    ("since", "decision"),
    [
        (date(2024, 6, 30), "DESELECT"),  # exactly grace_months before the as-of date: grace is over
        (date(2024, 7, 1), "REVIEW"),
        (None, "DESELECT"),  # unknown start: no grace
    ],
)
def test_grace_period_boundary(since: date | None, decision: str, settings: KamSettings) -> None:
    result = _decide([incumbent("INC", 50.0, since=since, eligible=False, ineligible_reason="x")], 1, settings)

    assert result["INC"]["decision"] == decision


def test_review_reason_gives_the_months_since_the_start(settings: KamSettings) -> None:
    row = incumbent(
        "INC", 40.0, since=date(2024, 7, 1), eligible=False, ineligible_reason="margin 5.00 % below the 10.00 % minimum"
    )
    result = _decide([row], 1, settings)

    assert result["INC"]["decision_reason"] == (
        "Review: would be deselected (not eligible: margin 5.00 % below the 10.00 % minimum), "
        "but a key account only since 2024-07-01 (11 months), inside the 12-month grace period."
    )


def test_grace_at_month_end_follows_the_calendar(settings: KamSettings) -> None:
    # Month ends map to month ends (§S1): 2025-02-28 minus 12 months is 2024-02-29, so a start on
    # 2024-02-29 has completed its grace period, and a start on 2024-03-01 has not.
    gone = {"eligible": False, "ineligible_reason": "x", "as_of_date": date(2025, 2, 28)}
    result = _decide(
        [
            incumbent("FEB29", 10.0, since=date(2024, 2, 29), **gone),
            incumbent("MAR01", 10.0, since=date(2024, 3, 1), **gone),
        ],
        0,
        KamSettings(review_every_run=True),
    )

    assert result["FEB29"]["decision"] == "DESELECT"
    assert result["MAR01"]["decision"] == "REVIEW"
    assert "(11 months)" in result["MAR01"]["decision_reason"]


def test_watch_band_is_measured_from_the_bonus_inclusive_cutoff(settings: KamSettings) -> None:
    result = _decide(
        [
            incumbent("INC", 72.0),  # cut-off 82.00
            {"customer_id": "EDGE", "score": 72.0},  # 10.00 below: inside the band
            {"customer_id": "OUT", "score": 71.99},  # 10.01 below
        ],
        1,
        settings,
    )

    assert _decisions(result) == {"INC": "KEEP", "EDGE": "WATCH", "OUT": "NONE"}
    assert result["OUT"]["decision_reason"] == (
        "Not selected: score 71.99, rank 3 of 3 eligible, beyond the capacity of 1 key accounts "
        "(cut-off score 82.00), 10.01 points below the cut-off, outside the watch band of 10.00."
    )


def test_no_capacity_selects_nobody(settings: KamSettings) -> None:
    result = _decide([incumbent("INC", 90.0), {"customer_id": "NEW", "score": 85.0}], 0, settings)

    assert _decisions(result) == {"INC": "DESELECT", "NEW": "NONE"}
    assert "beyond the capacity of 0 key accounts (no cut-off score)" in result["INC"]["decision_reason"]


def test_between_reviews_the_programme_stays_and_newcomers_are_watched(settings: KamSettings) -> None:
    rows = [incumbent("INC", 70.0), {"customer_id": "NEW", "score": 80.01}]

    result = _decide(rows, 1, settings, review=False)

    assert _decisions(result) == {"INC": "KEEP", "NEW": "WATCH"}
    assert {c: r["proposed_decision"] for c, r in result.items()} == {"INC": "DESELECT", "NEW": "ADD"}
    assert result["INC"]["decision_reason"].startswith(
        "Kept until the review of 2025-06-30; proposed DESELECT: score 70.00 + 10.00 incumbent bonus"
    )


@pytest.mark.parametrize(
    ("as_of", "months", "expected"),
    [
        (date(2025, 6, 30), (3, 6, 9, 12), date(2025, 6, 30)),  # a review date itself
        (date(2025, 6, 29), (3, 6, 9, 12), date(2025, 6, 30)),
        (date(2025, 7, 1), (3, 6, 9, 12), date(2025, 9, 30)),
        (date(2025, 12, 31), (3, 6, 9, 12), date(2025, 12, 31)),
        (date(2026, 1, 15), (12,), date(2026, 12, 31)),
        (date(2024, 2, 10), (2,), date(2024, 2, 29)),  # month end of a leap February
    ],
)
def test_review_dates_are_the_ends_of_the_review_months(as_of: date, months: tuple[int, ...], expected: date) -> None:
    assert review_date(as_of, KamSettings(review_months=months)) == expected


def test_every_run_is_a_review_when_configured() -> None:
    assert review_date(date(2025, 7, 1), KamSettings(review_every_run=True)) == date(2025, 7, 1)


@pytest.mark.parametrize(
    ("seats", "cap", "expected"), [(18, 0.2, 3), (4, 0.2, 1), (10, 0.25, 2), (5, 0.0, 0), (0, 0.2, 0)]
)
def test_turnover_seats(seats: int, cap: float, expected: int) -> None:
    assert turnover_seats(seats, KamSettings(turnover_cap=cap)) == expected


def test_keep_and_add_never_exceed_capacity_and_replacements_never_exceed_the_cap(settings: KamSettings) -> None:
    rows = [
        {
            "customer_id": f"C{i:02d}",
            "score": float(i % 7 * 10),
            "is_current_key_account": i % 3 == 0,
            "key_account_since": LONG_AGO,
        }
        for i in range(20)
    ]

    result = _decide(rows, 5, settings)

    selected = [c for c, row in result.items() if row["decision"] in ("KEEP", "ADD")]
    assert len(selected) <= 5
    replaced = [
        c for c, row in result.items() if row["decision"] == "DESELECT" and "replaced by" in row["decision_reason"]
    ]
    assert len(replaced) <= turnover_seats(5, settings)
    assert all(row["decision"] is not None and row["decision_reason"] for row in result.values())


def test_capacity_is_the_floor_of_kam_hours_over_hours_per_key_account(make_segments, make_managers, settings) -> None:
    managers = make_managers(
        ("K1", "KAM", "North", 1000.0, "90"),
        ("K2", "KAM", "South", 799.0, "90"),
        ("A1", "AM", "North", 1600.0, "50"),  # AM hours do not count
    )

    assert key_account_capacity(managers, make_segments(dict(customer_id="X")), settings) == 5  # floor(1799 / 300)


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
