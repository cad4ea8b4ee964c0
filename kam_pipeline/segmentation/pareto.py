"""Pareto ranking and ABC classes (methodology §S4), implemented once and
reused for the global, region, country, owner and margin views (§S5, §S6)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.amounts import ratio, ratio_at_least
from kam_pipeline.settings import SegmentationSettings

#: Class of customers outside a ranking's universe.
OUTSIDE = "N"


def in_universe(measure: str = "revenue_t12m") -> pl.Expr:
    """A customer is ranked on a measure only when the measure is positive; an
    unknown (null) measure is outside (§S4). With the default measure this is
    the universe of the segmentation and of the KAM step (§K1)."""
    return (pl.col(measure) > 0).fill_null(False)


def pareto_abc(
    customers: pl.DataFrame, measure: str, settings: SegmentationSettings, partition: str | None = None
) -> pl.DataFrame:
    """Rank customers on `measure` within each value of `partition` (or all).

    Order: measure descending, then customer_id ascending. Returns one row per
    customer: `customer_id`, `share` (of the partition's universe total),
    `cumulative_share` (running total including the customer), `abc_class`
    (A while the running total *before* the customer is below `abc_a_cut`, B
    below `abc_b_cut`, else C; N outside the universe) and `rank` (1..n).
    Shares and rank are null outside the universe.
    """
    member = in_universe(measure)
    value = pl.when(member).then(pl.col(measure))
    # Always a window over a real column: Polars divides by a scalar through
    # its reciprocal, which would end the cumulative share at 0.9999999999999999.
    group = partition or "_everyone"
    total = value.sum().over(group)
    running = value.cum_sum().over(group)
    before = running - pl.col(measure)
    return (
        customers.with_columns(_everyone=pl.lit(True))
        .sort([measure, "customer_id"], descending=[True, False])
        .select(
            "customer_id",
            share=pl.when(member).then(ratio(pl.col(measure), total)),
            cumulative_share=pl.when(member).then(ratio(running, total)),
            abc_class=pl.when(~member)
            .then(pl.lit(OUTSIDE))
            .when(~ratio_at_least(before, total, settings.abc_a_cut))
            .then(pl.lit("A"))
            .when(~ratio_at_least(before, total, settings.abc_b_cut))
            .then(pl.lit("B"))
            .otherwise(pl.lit("C")),
            rank=pl.when(member).then(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(group)),
        )
    )


def segment_class(settings: SegmentationSettings) -> pl.Expr:
    """The ABC class that drives tiers and KAM eligibility (§S6): `abc_class`
    with the revenue basis; with the margin basis `margin_abc_class`, except
    that a customer with revenue but no positive margin is C (N stays the
    customers outside the revenue universe, whatever the basis)."""
    if settings.basis == "revenue":
        return pl.col("abc_class")
    margin_class = pl.col("margin_abc_class")
    return pl.when(in_universe() & (margin_class == OUTSIDE)).then(pl.lit("C")).otherwise(margin_class)
