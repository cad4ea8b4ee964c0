"""Selection: rank the eligible customers, and plan the seat changes a review would make.

Incumbents compete with their score plus the incumbent bonus (hysteresis).
The best `max_key_accounts` eligible customers are the ideal programme; a
review moves towards it, but replaces at most `turnover_seats` key accounts
by stronger newcomers, strongest cases first, while exits for ineligibility
or lost capacity and additions into free seats are never capped
(methodology §K4–§K5).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from kam_pipeline.kam.review import turnover_seats
from kam_pipeline.kam.scoring import in_points
from kam_pipeline.segmentation.windows import add_months
from kam_pipeline.settings import KamSettings

#: Why a key account leaves, or how a newcomer enters (the `change` column).
INELIGIBLE = "INELIGIBLE"  # incumbent no longer eligible (or excluded): always proposed for deselection
OVER_CAPACITY = "OVER_CAPACITY"  # more eligible incumbents than seats: the weakest leave
DISPLACED = "DISPLACED"  # replaced by a stronger newcomer, within the turnover cap
HELD_BY_CAP = "HELD_BY_CAP"  # would be displaced, but the turnover cap is used by stronger cases
FREE_SEAT = "FREE_SEAT"  # newcomer taking a seat nobody holds
REPLACES = "REPLACES"  # newcomer replacing a weaker key account
CAPPED = "CAPPED"  # newcomer that would replace a key account, beyond the turnover cap
BLOCKED_BY_GRACE = "BLOCKED_BY_GRACE"  # newcomer whose seat is held by key accounts inside their grace period


def selection_score(settings: KamSettings) -> pl.Expr:
    """score + incumbent_bonus for current key accounts, score otherwise (§K4.1)."""
    bonus = pl.when(pl.col("is_current_key_account")).then(settings.incumbent_bonus).otherwise(0.0)
    return in_points(pl.col("score") + bonus)


def in_grace_period(settings: KamSettings, as_of: date) -> pl.Expr:
    """key_account_since > D − grace_months months (month arithmetic of §S1); an
    unknown start date gets no grace (§K5.4)."""
    grace_start = add_months(as_of, -settings.grace_months)
    return (pl.col("key_account_since") > grace_start).fill_null(False)


def _position(mask: pl.Expr, *, from_the_end: bool = False) -> pl.Expr:
    """1-based position of the rows where `mask` holds, in frame order (or from
    the last row up); null elsewhere."""
    counted = mask.cast(pl.Int64)
    running = counted.reverse().cum_sum().reverse() if from_the_end else counted.cum_sum()
    return pl.when(mask).then(running)


def rank_for_selection(scored: pl.DataFrame, max_key_accounts: int, settings: KamSettings, as_of: date) -> pl.DataFrame:
    """Add selection_score, selection_rank, ideal, cutoff_score,
    eligible_customers, in_grace, change and counterpart (§K4.2, §K5.3).

    The pool is the `selectable` customers: eligible, and not excluded by an
    override (§K5.8). They are ordered by selection_score descending, then
    customer_id; selection_rank is the 1-based position (null outside the
    pool); the first `max_key_accounts` are the ideal programme and
    cutoff_score is the last one's selection score.
    """
    seats = max_key_accounts
    ordered = scored.with_columns(selection_score=selection_score(settings)).sort(
        ["selectable", "selection_score", "customer_id"], descending=[True, True, False], nulls_last=True
    )
    incumbent, eligible = pl.col("is_current_key_account"), pl.col("selectable")
    ranked = ordered.with_columns(
        selection_rank=pl.when(eligible).then(pl.int_range(1, pl.len() + 1)),
        in_grace=incumbent & in_grace_period(settings, as_of),
    ).with_columns(
        ideal=(pl.col("selection_rank") <= seats).fill_null(False),
        incumbent_rank=_position(eligible & incumbent),
    )
    ranked = ranked.with_columns(
        kept_seat=(pl.col("incumbent_rank") <= seats).fill_null(False),
        newcomer_rank=_position(pl.col("ideal") & ~incumbent),
    )
    ranked = ranked.with_columns(
        # kept seats that the ideal programme gives to a newcomer, weakest first; grace protects
        displace_rank=_position(pl.col("kept_seat") & ~pl.col("ideal") & ~pl.col("in_grace"), from_the_end=True)
    )
    kept = int(ranked.get_column("kept_seat").sum())
    free_seats = seats - kept
    displaceable = int(ranked.get_column("displace_rank").max() or 0)
    swaps = min(turnover_seats(seats, settings), displaceable)
    pair = pl.col("newcomer_rank") - free_seats  # the newcomer's place in the queue for occupied seats
    change = (
        pl.when(incumbent & ~eligible)
        .then(pl.lit(INELIGIBLE))
        .when(incumbent & ~pl.col("kept_seat"))
        .then(pl.lit(OVER_CAPACITY))
        .when(pl.col("displace_rank") <= swaps)
        .then(pl.lit(DISPLACED))
        .when(pl.col("displace_rank").is_not_null())
        .then(pl.lit(HELD_BY_CAP))
        .when(pl.col("newcomer_rank") <= free_seats)
        .then(pl.lit(FREE_SEAT))
        .when(pair <= swaps)
        .then(pl.lit(REPLACES))
        .when(pair <= displaceable)
        .then(pl.lit(CAPPED))
        .when(pl.col("newcomer_rank").is_not_null())
        .then(pl.lit(BLOCKED_BY_GRACE))
    )
    ranked = ranked.with_columns(change=change, _pair=pl.coalesce(pl.col("displace_rank"), pair))
    newcomers = ranked.filter(pl.col("change") == REPLACES).select("_pair", newcomer="customer_id")
    displaced = ranked.filter(pl.col("change") == DISPLACED).select("_pair", displaced="customer_id")
    return (
        ranked.join(newcomers, on="_pair", how="left", maintain_order="left")
        .join(displaced, on="_pair", how="left", maintain_order="left")
        .with_columns(
            counterpart=pl.when(pl.col("change") == DISPLACED)
            .then(pl.col("newcomer"))
            .when(pl.col("change") == REPLACES)
            .then(pl.col("displaced")),
            cutoff_score=pl.col("selection_score").filter(pl.col("ideal")).min(),
            eligible_customers=eligible.sum(),
            turnover_seats=pl.lit(turnover_seats(seats, settings), dtype=pl.Int64),
        )
        .drop("_pair", "newcomer", "displaced", "kept_seat", "incumbent_rank", "newcomer_rank", "displace_rank")
    )
