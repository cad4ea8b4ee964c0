"""Threat of reduction: the reasons and the threat level (methodology §S9)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.amounts import ratio_at_least
from kam_pipeline.segmentation.growth import growth_at_most
from kam_pipeline.segmentation.pareto import in_universe
from kam_pipeline.settings import SegmentationSettings


def threat_conditions(settings: SegmentationSettings) -> dict[str, pl.Expr]:
    """Each reason and when it applies, in the fixed order of `threat_reasons`."""
    conditions = {
        "DECLINING": growth_at_most(settings.threat_declining_pct),
        "INACTIVE": in_universe() & ~pl.col("has_recent_invoice"),
        "LOST_DEALS": in_universe()
        & (pl.col("lost_deals_amount") > 0)
        & (pl.col("lost_deals_amount") >= settings.threat_lost_deals_min_amount)
        & ratio_at_least(pl.col("lost_deals_amount"), pl.col("revenue_t12m"), settings.threat_lost_deals_share),
        "WEAK_POSITION": pl.col("competitive_position") <= settings.threat_weak_position_max,
    }
    return {reason: condition.fill_null(False) for reason, condition in conditions.items()}


def threat_reasons(settings: SegmentationSettings) -> pl.Expr:
    """Comma-separated reasons in fixed order; the empty string when none."""
    return pl.concat_str(
        [pl.when(condition).then(pl.lit(reason)) for reason, condition in threat_conditions(settings).items()],
        separator=",",
        ignore_nulls=True,
    )


def threat_level(settings: SegmentationSettings) -> pl.Expr:
    """HIGH with two or more reasons or growth ≤ threat_high_growth_pct,
    MEDIUM with one reason, else NONE."""
    count = pl.sum_horizontal([c.cast(pl.Int32) for c in threat_conditions(settings).values()])
    steep_decline = growth_at_most(settings.threat_high_growth_pct)
    return (
        pl.when((count >= 2) | steep_decline)
        .then(pl.lit("HIGH"))
        .when(count == 1)
        .then(pl.lit("MEDIUM"))
        .otherwise(pl.lit("NONE"))
    )
