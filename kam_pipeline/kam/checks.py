"""Checks on what BI reads from the KAM marts: pure functions over the
published frames, each returning (passed, evidence) so that the Dagster
layer only reports them (assets/kam.py, docs/validation.md).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.decisions import ADD, KEEP
from kam_pipeline.kam.overrides import INCLUDE
from kam_pipeline.segmentation.checks import Evidence

#: Hours are published rounded to 0.01 h (§K6.4).
HOURS_TOLERANCE = 0.01


def _seated(decision: str) -> pl.Expr:
    """Customers a decision column seats (KEEP or ADD)."""
    return pl.col(decision).is_in([KEEP, ADD]).sum()


#: The columns of marts.kam_candidates key_accounts_within_seats reads.
SEATS_CHECK_READS = ("proposed_decision", "decision", "is_current_key_account", "override_action")


def key_accounts_within_seats(candidates: pl.DataFrame, max_key_accounts: int) -> tuple[bool, Evidence]:
    """KEEP + ADD fit the seats (§K4, §K5.3, §K5.8).

    The proposal (what the review decides) fits `max_key_accounts`, or the
    INCLUDE overrides when they alone exceed it (OVER_CAPACITY). What holds
    now may also keep every incumbent: between reviews the programme stands
    (§K5.2) and does not shrink for a lower capacity.
    """
    counts = candidates.select(
        proposed=_seated("proposed_decision"),
        decided=_seated("decision"),
        incumbents=pl.col("is_current_key_account").sum(),
        includes=(pl.col("override_action") == INCLUDE).sum(),
    ).row(0, named=True)
    proposal_seats = max(max_key_accounts, counts["includes"])
    standing_seats = max(proposal_seats, counts["incumbents"])
    passed = counts["proposed"] <= proposal_seats and counts["decided"] <= standing_seats
    return passed, {
        "max_key_accounts": max_key_accounts,
        "proposed_keep_add": counts["proposed"],
        "keep_add": counts["decided"],
        "incumbents": counts["incumbents"],
        "override_includes": counts["includes"],
    }


def allocated_within_capacity(
    load: pl.DataFrame, allocation: pl.DataFrame, sample_size: int = 10
) -> tuple[bool, Evidence]:
    """No manager is allocated more hours than its capacity (§K6.3:
    allocated = min(hours, capacity left)), and no customer more hours than
    its plan requires."""
    over_capacity = load.filter(pl.col("allocated_hours") > pl.col("capacity_hours") + HOURS_TOLERANCE)
    over_required = allocation.filter(
        (pl.col("allocated_am_hours") > pl.col("am_hours") + HOURS_TOLERANCE)
        | (pl.col("allocated_kam_hours") > pl.col("kam_hours") + HOURS_TOLERANCE)
    )
    shown = over_capacity.select("owner_id", "allocated_hours", "capacity_hours").head(sample_size)
    return over_capacity.is_empty() and over_required.is_empty(), {
        "managers": len(load),
        "managers_over_capacity": len(over_capacity),
        "customers_over_required": len(over_required),
        "sample": shown.to_dicts(),
    }
