"""Percent rank: where a value stands among a reference set of values, from 0
(lowest) to 1 (highest), as SQL's PERCENT_RANK (methodology §S8).

Used by the potential class (§S8) and by the KAM attractiveness (§K2.1).
"""

from __future__ import annotations

import polars as pl


def percent_rank_fraction(value: pl.Expr, reference: pl.Expr | None = None) -> tuple[pl.Expr, pl.Expr]:
    """PERCENT_RANK of `value` among `reference` as the exact fraction
    (rank − 1, n − 1), both Int64, for exact threshold comparisons (§S8).

    n is the number of reference values; rank − 1 is the number of reference
    values smaller than `value`: ties share the lowest rank, and nulls rank
    below every value (ASC NULLS FIRST), so a null `value` has rank 1. With
    n ≤ 1 the fraction is 0 / 1, as SQL's PERCENT_RANK gives 0 for one row.

    `reference` defaults to `value` itself (every row of the frame). A row
    whose value is not in `reference` is measured against it without entering
    it, so it moves no one else's rank; above every reference value its
    fraction exceeds 1.
    """
    reference = value if reference is None else reference
    known = reference.drop_nulls().sort()
    smaller = known.search_sorted(value, side="left").cast(pl.Int64) + reference.null_count().cast(pl.Int64)
    below = pl.when(value.is_null()).then(pl.lit(0, pl.Int64)).otherwise(smaller)
    spread = reference.len().cast(pl.Int64) - 1
    ranked = spread > 0
    return pl.when(ranked).then(below).otherwise(0), pl.when(ranked).then(spread).otherwise(1)


def percent_rank(value: pl.Expr, reference: pl.Expr | None = None) -> pl.Expr:
    """PERCENT_RANK = (rank − 1) / (n − 1) as Float64, in [0, 1] over the frame
    (see `percent_rank_fraction` for ties, nulls, n ≤ 1 and `reference`)."""
    below, spread = percent_rank_fraction(value, reference)
    return below.cast(pl.Float64) / spread.cast(pl.Float64)
