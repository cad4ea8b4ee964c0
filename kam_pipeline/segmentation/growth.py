"""Growth against the prior window and the trend label (methodology §S7)."""

from __future__ import annotations

import polars as pl

from kam_pipeline.segmentation.amounts import ratio, ratio_at_least, ratio_at_most
from kam_pipeline.settings import SegmentationSettings


def growth_pct() -> pl.Expr:
    """(revenue_t12m − revenue_prior) / revenue_prior, when the prior is positive."""
    prior = pl.col("revenue_prior")
    return pl.when(prior > 0).then(ratio(pl.col("revenue_t12m") - prior, prior))


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
