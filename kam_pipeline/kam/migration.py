"""Tier migration: how many customers, and how much revenue, moved from each tier to each tier
between two snapshots of customer_segments (methodology §K8).
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.kam.snapshot import snapshot_date
from kam_pipeline.kam.tables import TIER_MIGRATION
from kam_pipeline.segmentation.amounts import TOTAL_AMOUNT, to_amount

#: from_tier of a customer that is only in the current snapshot.
NEW = "NEW"
#: to_tier of a customer that is only in the previous snapshot.
GONE = "GONE"


#: The columns of each snapshot tier_migration reads (its asset reads only these).
MIGRATION_COLUMNS = ("customer_id", "as_of_date", "revenue_t12m", "tier")
MIGRATION_READS = {"previous": MIGRATION_COLUMNS, "current": MIGRATION_COLUMNS}


def tier_migration(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """One row per (from_tier, to_tier) pair that occurs, sorted by from_tier, to_tier.

    revenue_t12m is the current snapshot's revenue of the customers that made
    the move (0 for GONE); previous_revenue_t12m the previous snapshot's
    (0 for NEW). An empty `previous` (first snapshot) makes every customer NEW.
    """
    previous_as_of = snapshot_date(previous, "previous customer_segments")
    as_of = snapshot_date(current, "current customer_segments")
    if previous_as_of is not None and as_of is not None and previous_as_of >= as_of:
        raise ValueError(f"previous snapshot ({previous_as_of}) is not before the current one ({as_of})")
    moves = previous.select("customer_id", from_tier="tier", previous_revenue_t12m="revenue_t12m").join(
        current.select("customer_id", to_tier="tier", revenue_t12m="revenue_t12m"),
        on="customer_id",
        how="full",
        coalesce=True,
        validate="1:1",
    )
    return (
        moves.group_by(
            from_tier=pl.col("from_tier").fill_null(NEW),
            to_tier=pl.col("to_tier").fill_null(GONE),
        )
        .agg(
            customers=pl.len().cast(pl.Int64),
            revenue_t12m=to_amount(pl.col("revenue_t12m").sum(), TOTAL_AMOUNT),
            previous_revenue_t12m=to_amount(pl.col("previous_revenue_t12m").sum(), TOTAL_AMOUNT),
        )
        .with_columns(
            as_of_date=pl.lit(as_of, dtype=pl.Date),
            previous_as_of_date=pl.lit(previous_as_of, dtype=pl.Date),
        )
        .pipe(TIER_MIGRATION.conform)
        .sort("from_tier", "to_tier")
    )
