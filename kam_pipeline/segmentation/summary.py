"""marts.segment_summary: customers and revenue per tier at each organisation
level (methodology §S11)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.ingest.contract.extracts import TIERS
from kam_pipeline.segmentation.amounts import ratio
from kam_pipeline.segmentation.pareto import in_universe
from kam_pipeline.segmentation.tables import SEGMENT_SUMMARY

#: Summary level → the customer_segments column it groups by (None: everyone).
LEVELS: dict[str, str | None] = {"GLOBAL": None, "REGION": "region", "COUNTRY": "country_code", "OWNER": "owner_id"}

#: level_value of the GLOBAL level.
ALL = "ALL"


def build_segment_summary(segments: pl.DataFrame) -> pl.DataFrame:
    """Per level, level value and tier: number of customers, their revenue and
    its share of the level value's universe revenue (the positive-revenue
    customers', the same base as `revenue_share`; null when that is 0).
    Only tiers that occur are listed."""
    per_level = []
    for level, column in LEVELS.items():
        level_value = pl.lit(ALL) if column is None else pl.col(column)
        per_level.append(
            segments.group_by(level_value.alias("level_value"), "tier", "as_of_date")
            .agg(
                customers=pl.len(),
                revenue_t12m=pl.col("revenue_t12m").sum(),
                universe_revenue=pl.col("revenue_t12m").filter(in_universe()).sum(),
            )
            .with_columns(level=pl.lit(level), universe_revenue=pl.col("universe_revenue").sum().over("level_value"))
        )
    summary = pl.concat(per_level, how="vertical_relaxed").with_columns(
        revenue_share=pl.when(pl.col("universe_revenue") > 0).then(
            ratio(pl.col("revenue_t12m"), pl.col("universe_revenue"))
        )
    )
    return SEGMENT_SUMMARY.conform(summary).sort(
        pl.col("level").cast(pl.Enum(list(LEVELS))), "level_value", pl.col("tier").cast(pl.Enum(list(TIERS)))
    )
