"""Growth against the prior window and the trend label (methodology §S7)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.amounts import ratio, ratio_at_least, ratio_at_most
from kam_pipeline.settings import SegmentationSettings


def growth_pct(current: str = "revenue_t12m", prior: str = "revenue_prior") -> pl.Expr:
    """(current − prior) / prior, when the prior is positive, else null (§S7).

    By default a customer's revenue_t12m against revenue_prior; the KAM
    programme return applies it to group totals (§K7.1).
    """
    previous = pl.col(prior)
    return pl.when(previous > 0).then(ratio(pl.col(current) - previous, previous))


def growth_at_least(threshold: float) -> pl.Expr:
    """growth_pct ≥ threshold, decided exactly; false when growth is undefined."""
    prior = pl.col("revenue_prior")
    return (prior > 0) & ratio_at_least(pl.col("revenue_t12m") - prior, prior, threshold)


def growth_at_most(threshold: float) -> pl.Expr:
    """growth_pct ≤ threshold, decided exactly; false when growth is undefined."""
    prior = pl.col("revenue_prior")
    return (prior > 0) & ratio_at_most(pl.col("revenue_t12m") - prior, prior, threshold)


def trend(settings: SegmentationSettings) -> pl.Expr:
    """NEW, LOST, GROWING, DECLINING, STABLE, or NONE (no positive revenue in
    either window); the first rule that applies wins (§S7)."""
    current, prior = pl.col("revenue_t12m"), pl.col("revenue_prior")
    return (
        pl.when((prior <= 0) & (current > 0))
        .then(pl.lit("NEW"))
        .when((prior > 0) & (current <= 0))
        .then(pl.lit("LOST"))
        .when(prior <= 0)
        .then(pl.lit("NONE"))
        .when(growth_at_least(settings.trend_growth_pct))
        .then(pl.lit("GROWING"))
        .when(growth_at_most(-settings.trend_growth_pct))
        .then(pl.lit("DECLINING"))
        .otherwise(pl.lit("STABLE"))
    )
