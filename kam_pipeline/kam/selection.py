"""Selection: rank the eligible customers and fill the KAM capacity from the top.

Incumbents compete with their score plus the incumbent bonus, so that an
account is not dropped for a newcomer that beats it by a hair
(hysteresis, methodology §K4).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.scoring import in_points
from kam_pipeline.settings import KamSettings


def selection_score(settings: KamSettings) -> pl.Expr:
    """score + incumbent_bonus for current key accounts, score otherwise (§K4.1)."""
    bonus = pl.when(pl.col("is_current_key_account")).then(settings.incumbent_bonus).otherwise(0.0)
    return in_points(pl.col("score") + bonus)


def rank_for_selection(scored: pl.DataFrame, max_key_accounts: int, settings: KamSettings) -> pl.DataFrame:
    """Add selection_score, selection_rank, selected, cutoff_score and eligible_customers (§K4.2).

    Eligible customers are ordered by selection_score descending, then
    customer_id; selection_rank is the 1-based position in that order (null
    when ineligible); the first `max_key_accounts` are selected. cutoff_score
    is the selection score of the last selected customer (null when none is).
    """
    ordered = scored.with_columns(selection_score=selection_score(settings)).sort(
        ["eligible", "selection_score", "customer_id"], descending=[True, True, False], nulls_last=True
    )
    ranked = ordered.with_columns(selection_rank=pl.when(pl.col("eligible")).then(pl.int_range(1, pl.len() + 1)))
    selected = ranked.with_columns(selected=(pl.col("selection_rank") <= max_key_accounts).fill_null(False))
    return selected.with_columns(
        cutoff_score=pl.col("selection_score").filter(pl.col("selected")).min(),
        eligible_customers=pl.col("eligible").sum(),
    )
